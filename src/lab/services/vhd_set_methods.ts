/**
 * Msvm_ImageManagementService's VHD Set methods (Server 2016+): GetVHDSetInformation,
 * GetVHDSnapshotInformation, SetVHDSnapshotInformation, DeleteVHDSnapshot, and
 * CreateVirtualHardDisk of the VHD Set type (Msvm_VirtualHardDiskSettingData Format 4). Family
 * B return codes, as the pages list them; the lab answers at once (0). Behind them, the lab's
 * own representation of a set (../host/vhd_sets.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cimDateTime } from "../host/paths";
import { allPathsOf, createVhdSet, deleteVhdSetSnapshot, findVhdSet, findVhdSetSnapshot, parentPathsOf } from "../host/vhd_sets";
import type { VhdSetRecord, VhdSetSnapshotRecord } from "../host/model";
import { detectFormatSafe } from "../host/disk_files";
import { B, type MethodHandler, type MethodOutcome, prop, sync } from "./method_support";

/** AdditionalInformation values (method pages): 2 = Paths (set) / Parent Paths (snapshot). */
const PATHS = 2;
/** Msvm_VirtualHardDiskSettingData.Format: 4 = VHD Set. */
const FORMAT_VHDSET = 4;

/** The set a VHDSetPath names, or the documented answer: 32773 no path, 32779 no such file, 32773 a file that is no VHD Set. */
function setAt(file: string | undefined, sets: (f: string) => VhdSetRecord | undefined): VhdSetRecord | MethodOutcome {
  if (!file) return sync(B.InvalidParameter);
  if (!fs.existsSync(file)) return sync(B.FileNotFoundOrInUse);
  return sets(file) ?? sync(B.InvalidParameter);
}

function isOutcome(x: VhdSetRecord | MethodOutcome): x is MethodOutcome {
  return "kind" in x;
}

function wantsPaths(raw: unknown): boolean {
  return Array.isArray(raw) && raw.some((x) => Number(x) === PATHS);
}

function snapshotInstance(set: VhdSetRecord, s: VhdSetSnapshotRecord, withParents: boolean): Record<string, unknown> {
  return {
    __CLASS: "Msvm_VHDSnapshotInformation",
    FilePath: set.path,
    SnapshotId: `{${s.id}}`,
    SnapshotPath: s.path,
    ParentPathsList: withParents ? parentPathsOf(set, s) : [],
    CreationTime: cimDateTime(s.createdAt),
    ResilientChangeTrackingId: s.rctId,
  };
}

export const getVhdSetInformation: MethodHandler = (ctx, args) => {
  const set = setAt(args.string("VHDSetPath"), (f) => findVhdSet(ctx.state, f));
  if (isOutcome(set)) return set;
  return sync(B.Ok, {
    Information: {
      __CLASS: "Msvm_VHDSetInformation",
      Path: set.path,
      SnapshotIdList: set.snapshots.map((s) => `{${s.id}}`),
      // "May be empty if this information was not specifically requested" (class page).
      AllPaths: wantsPaths(args.raw("AdditionalInformation")) ? allPathsOf(set) : [],
    },
    Job: null,
  });
};

export const getVhdSnapshotInformation: MethodHandler = (ctx, args) => {
  const set = setAt(args.string("VHDSetPath"), (f) => findVhdSet(ctx.state, f));
  if (isOutcome(set)) return set;
  const ids = args.raw("SnapshotIds");
  let chosen: VhdSetSnapshotRecord[];
  if (ids === undefined || ids === null) chosen = set.snapshots; // "NULL: information for all Snapshots"
  else {
    if (!Array.isArray(ids)) return sync(B.InvalidParameter);
    chosen = [];
    for (const id of ids) {
      const s = typeof id === "string" ? findVhdSetSnapshot(set, id) : undefined;
      // An id the set does not hold: 32773 (lab assumption; the page lists no code for it).
      if (!s) return sync(B.InvalidParameter);
      chosen.push(s);
    }
  }
  const parents = wantsPaths(args.raw("AdditionalInformation"));
  return sync(B.Ok, { SnapshotInformation: chosen.map((s) => snapshotInstance(set, s, parents)), Job: null });
};

/**
 * SetVHDSnapshotInformation: the lab accepts an entry that changes nothing the set depends on
 * (same id, same SnapshotPath) and refuses to add or rewrite entries (32770): a client that
 * edits a set's snapshot table is beyond what a backup does (docs/lab-fidelity.md).
 */
export const setVhdSnapshotInformation: MethodHandler = (ctx, args) => {
  const info = args.embedded("Information");
  if (!info || String(info.__CLASS).toLowerCase() !== "msvm_vhdsnapshotinformation") return sync(B.InvalidParameter);
  const set = setAt(String(prop(info, "FilePath") ?? ""), (f) => findVhdSet(ctx.state, f));
  if (isOutcome(set)) return set;
  const s = findVhdSetSnapshot(set, String(prop(info, "SnapshotId") ?? ""));
  if (!s) return sync(B.NotSupported);
  const p = prop(info, "SnapshotPath");
  if (p !== undefined && p !== null && String(p) !== s.path) return sync(B.NotSupported);
  return sync(B.Ok, { Job: null });
};

export const deleteVhdSnapshot: MethodHandler = (ctx, args) => {
  const set = setAt(args.string("VHDSetPath"), (f) => findVhdSet(ctx.state, f));
  if (isOutcome(set)) return set;
  const id = args.string("SnapshotId");
  const s = id ? findVhdSetSnapshot(set, id) : undefined;
  if (!s) return sync(B.InvalidParameter);
  ctx.deleteAfterCommit(deleteVhdSetSnapshot(set, s, args.boolean("PersistReferenceSnapshot") ?? false));
  return sync(B.Ok, { Job: null });
};

/**
 * CreateVirtualHardDisk: only the VHD Set type (Format 4) in the lab. With ParentPath the set
 * is made over that VHDX, which it does not manage (Msvm_VHDSetInformation.AllPaths lists it
 * after the root): how a restore gives back a shared disk as a VHD Set without writing into
 * the set's private format (lab assumption, docs/lab-fidelity.md).
 */
export const createVirtualHardDisk: MethodHandler = (ctx, args) => {
  const sd = args.embedded("VirtualDiskSettingData");
  if (!sd || String(sd.__CLASS).toLowerCase() !== "msvm_virtualharddisksettingdata") return sync(B.InvalidParameter);
  if (Number(prop(sd, "Format")) !== FORMAT_VHDSET) return sync(B.NotSupported);
  const file = String(prop(sd, "Path") ?? "");
  if (!file || !path.isAbsolute(file) || !/\.vhds$/i.test(file)) return sync(B.InvalidParameter);
  if (fs.existsSync(file)) return sync(B.InvalidState);
  if (!fs.existsSync(path.dirname(file))) return sync(B.FileNotFoundOrInUse);
  const parentText = prop(sd, "ParentPath");
  const parent = typeof parentText === "string" && parentText !== "" ? parentText : undefined;
  if (parent !== undefined && (!fs.existsSync(parent) || detectFormatSafe(parent) !== "vhdx")) return sync(B.InvalidParameter);
  const size = Number(prop(sd, "MaxInternalSize") ?? 0);
  if (parent === undefined && !(Number.isSafeInteger(size) && size > 0 && size % (1024 * 1024) === 0)) return sync(B.InvalidParameter);
  createVhdSet(ctx.state, file, size, ctx.now, parent);
  return { kind: "job", description: "Creating virtual hard disk", affected: [] };
};
