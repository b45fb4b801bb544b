/**
 * VHD Sets (.vhds) through Msvm_ImageManagementService (Server 2016+): GetVHDSetInformation,
 * GetVHDSnapshotInformation, DeleteVHDSnapshot and CreateVirtualHardDisk of the VHD Set type.
 * The .vhds format is not public, so the product never opens a .vhds file: what it reads of a
 * set is the snapshot file (a VHDX) these methods name, and the changes GetVirtualDiskChanges
 * reports with TargetSnapshotId (rct.ts).
 */
import { HvbError } from "../base/mod";
import { arrayOf, embeddedInstance, stringArray, stringOrUndefined } from "../cim/mod";
import { embedForHost } from "./host_classes";
import { type ClientContext, runMethod, runQuery, servicePath, subjects } from "./jobs";
import { IMAGE_MANAGEMENT_SERVICE } from "./vhd_settings";

/** AdditionalInformation 2: Paths (set) / Parent Paths (snapshot), per the method pages. */
const PATHS = 2;
/** Msvm_VirtualHardDiskSettingData Format 4 = VHD Set; Type 3 = dynamic. */
const FORMAT_VHDSET = 4;
const TYPE_DYNAMIC = 3;

/** Msvm_VHDSetInformation, parsed. */
export interface VhdSetInfo {
  path: string;
  /** Snapshot GUIDs without braces, lower case. */
  snapshotIds: string[];
  /** Every file the set encompasses (asked for with Paths). */
  allPaths: string[];
}

/** Msvm_VHDSnapshotInformation, parsed. */
export interface VhdSnapshotInfo {
  /** GUID without braces, lower case. */
  snapshotId: string;
  /** The file holding the snapshot's data (a VHDX); "" for a reference-only snapshot. */
  snapshotPath: string;
  /** Files the snapshot's data depends on, immediate parent first. */
  parentPaths: string[];
  /** "" when the set has no change tracking id for it. */
  rctId: string;
  creationTime: string | undefined;
}

/** A GUID as the product compares them: no braces, lower case. */
export function plainGuid(id: string): string {
  return id.trim().replace(/^\{|\}$/g, "").toLowerCase();
}

export async function getVhdSetInformation(ctx: ClientContext, file: string, withPaths = false): Promise<VhdSetInfo> {
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  const { out } = await runQuery(ctx, svc, "GetVHDSetInformation", { VHDSetPath: file, AdditionalInformation: withPaths ? [PATHS] : null }, subjects.file("VHD Set", file), ["Information"]);
  const info = embeddedInstance(out["Information"], "GetVHDSetInformation Information");
  return {
    path: stringOrUndefined(info["Path"]) ?? file,
    snapshotIds: stringArray(info["SnapshotIdList"]).map(plainGuid),
    allPaths: stringArray(info["AllPaths"]),
  };
}

/** Information on the snapshots `ids` of the set (every snapshot when `ids` is undefined). */
export async function getVhdSnapshotInformation(ctx: ClientContext, file: string, ids: readonly string[] | undefined, withParents = false): Promise<VhdSnapshotInfo[]> {
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  const { out } = await runQuery(
    ctx,
    svc,
    "GetVHDSnapshotInformation",
    { VHDSetPath: file, SnapshotIds: ids === undefined ? null : ids.map((i) => `{${plainGuid(i).toUpperCase()}}`), AdditionalInformation: withParents ? [PATHS] : null },
    subjects.file("VHD Set", file),
    ids === undefined || ids.length === 0 ? [] : ["SnapshotInformation"],
  );
  return arrayOf(out["SnapshotInformation"]).map((x, i) => {
    const s = embeddedInstance(x, `GetVHDSnapshotInformation SnapshotInformation[${i}]`);
    return {
      snapshotId: plainGuid(String(s["SnapshotId"] ?? "")),
      snapshotPath: stringOrUndefined(s["SnapshotPath"]) ?? "",
      parentPaths: stringArray(s["ParentPathsList"]),
      rctId: stringOrUndefined(s["ResilientChangeTrackingId"]) ?? "",
      creationTime: stringOrUndefined(s["CreationTime"]),
    };
  });
}

/** One snapshot's information, or a clear error when the set does not report it. */
export async function requireVhdSnapshot(ctx: ClientContext, file: string, id: string): Promise<VhdSnapshotInfo> {
  const found = (await getVhdSnapshotInformation(ctx, file, [id])).find((s) => s.snapshotId === plainGuid(id));
  if (!found) throw new HvbError("HyperVUnexpectedData", `GetVHDSnapshotInformation of '${file}' gave no snapshot '${id}'`, { category: "InvalidData", target: file });
  return found;
}

/** DeleteVHDSnapshot: removes the snapshot (keeping a reference-only record when `persistReference`). */
export async function deleteVhdSnapshot(ctx: ClientContext, file: string, id: string, persistReference: boolean): Promise<void> {
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  await runMethod(ctx, svc, "DeleteVHDSnapshot", { VHDSetPath: file, SnapshotId: `{${plainGuid(id).toUpperCase()}}`, PersistReferenceSnapshot: persistReference }, subjects.file("VHD Set", file));
}

/**
 * CreateVirtualHardDisk of the VHD Set type at `file` over the VHDX `parentPath` (which the set
 * then has as an unmanaged parent, the way a restore gives a shared disk back as a VHD Set
 * without writing into a format it does not know).
 */
export async function createVhdSetOver(ctx: ClientContext, file: string, parentPath: string): Promise<void> {
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  const sd = await embedForHost(ctx, { __CLASS: "Msvm_VirtualHardDiskSettingData", Type: TYPE_DYNAMIC, Format: FORMAT_VHDSET, Path: file, ParentPath: parentPath });
  await runMethod(ctx, svc, "CreateVirtualHardDisk", { VirtualDiskSettingData: sd }, subjects.file("VHD Set", file));
}
