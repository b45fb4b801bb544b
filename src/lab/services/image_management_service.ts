/**
 * Msvm_ImageManagementService: GetVirtualDiskChanges, GetVirtualHardDiskSettingData,
 * GetVirtualHardDiskState, MergeVirtualHardDisk. All family B incl. 32779 File not found.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { diskFacts, mergeChildDisk, parentFileOf } from "../host/disk_files";
import { B, type MethodContext, type MethodHandler, type MethodOutcome, sync } from "./method_support";
import type { DiskRecord, LabState, VhdSetRecord } from "../host/model";
import { findVhdSet, findVhdSetSnapshot } from "../host/vhd_sets";
import { cimDateTime } from "../host/paths";
import { changesSince } from "../host/rct";

function samePathName(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/** Which tracked disk a file is, and up to which write it shows (a frozen file stops at its checkpoint). */
export function locateTrackedFile(state: LabState, file: string): { disk: DiskRecord; upTo: number } | undefined {
  for (const vm of state.vms) {
    for (const d of vm.disks) if (samePathName(d.path, file)) return { disk: d, upTo: Number.MAX_SAFE_INTEGER };
  }
  for (const s of state.snapshots) {
    const vm = state.vms.find((v) => v.id === s.vmId);
    if (!vm) continue;
    for (const sd of s.disks) {
      if (!samePathName(sd.path, file)) continue;
      const disk = vm.disks.find((d) => d.deviceKey === sd.deviceKey);
      if (disk) return { disk, upTo: s.seq };
    }
  }
  return undefined;
}

/** True when a VM, checkpoint or planned VM references the file. */
function fileInUse(state: LabState, file: string): boolean {
  return (
    state.vms.some((v) => v.disks.some((d) => samePathName(d.path, file))) ||
    state.snapshots.some((s) => s.disks.some((d) => samePathName(d.path, file))) ||
    state.planned.some((p) => p.disks.some((d) => samePathName(d.path, file)))
  );
}

export const getVirtualDiskChanges: MethodHandler = (ctx: MethodContext, args) => {
  const file = args.string("Path");
  const limitId = args.string("LimitId");
  const offset = args.uint("ByteOffset");
  const length = args.uint("ByteLength");
  if (!file || !limitId || offset === undefined || length === undefined) return sync(B.InvalidParameter);
  const target = args.raw("TargetSnapshotId");
  const set = findVhdSet(ctx.state, file);
  if (set) return vhdSetChanges(ctx, set, target, limitId, offset, length);
  // "Only valid for VHD Set files" (method page): on a plain disk the lab refuses it even empty.
  if (target !== undefined && target !== null) return sync(B.InvalidParameter);
  if (!fs.existsSync(file)) return sync(B.FileNotFoundOrInUse);
  const found = locateTrackedFile(ctx.state, file);
  if (!found) return sync(B.Failed);
  if (found.disk.format !== "vhdx" || !found.disk.rct.enabled) return sync(B.NotSupported);
  const size = diskFacts(file).virtualSize;
  const r = changesSince(found.disk.rct, limitId, found.upTo, offset, length, size, ctx.state.config);
  if (!r.ok) return sync(r.code);
  return sync(B.Ok, { ProcessedByteLength: r.processed, ChangedByteOffsets: r.offsets, ChangedByteLengths: r.lengths, Job: null });
};

/**
 * Changes of a VHD Set since `limitId` up to the snapshot TargetSnapshotId (or, without one, up
 * to now): RCT on the shared disk like on any disk. A target that is reference-only has no
 * data to compare: 32775 Invalid State (lab assumption).
 */
function vhdSetChanges(ctx: MethodContext, set: VhdSetRecord, target: unknown, limitId: string, offset: number, length: number): MethodOutcome {
  let upTo = Number.MAX_SAFE_INTEGER;
  if (target !== undefined && target !== null && target !== "") {
    if (typeof target !== "string") return sync(B.InvalidParameter);
    const snap = findVhdSetSnapshot(set, target);
    if (!snap) return sync(B.InvalidParameter);
    if (snap.path === "") return sync(B.InvalidState);
    upTo = snap.seq;
  }
  const r = changesSince(set.rct, limitId, upTo, offset, length, set.virtualSize, ctx.state.config);
  if (!r.ok) return sync(r.code);
  return sync(B.Ok, { ProcessedByteLength: r.processed, ChangedByteOffsets: r.offsets, ChangedByteLengths: r.lengths, Job: null });
}

/**
 * The disk a `Path` parameter names, or the documented answer when there is none: 32773 no
 * path, 32779 no such file, 32768 not a virtual hard disk (GetVirtualHardDiskSettingData and
 * GetVirtualHardDiskState share these).
 */
function diskAtPath(args: Parameters<MethodHandler>[1]): { file: string; facts: ReturnType<typeof diskFacts> } | { returnValue: MethodOutcome } {
  const file = args.string("Path");
  if (!file) return { returnValue: sync(B.InvalidParameter) };
  if (!fs.existsSync(file)) return { returnValue: sync(B.FileNotFoundOrInUse) };
  try {
    return { file, facts: diskFacts(file) };
  } catch {
    return { returnValue: sync(B.Failed) };
  }
}

export const getVirtualHardDiskSettingData: MethodHandler = (ctx, args) => {
  const set = findVhdSet(ctx.state, args.string("Path") ?? "");
  if (set) {
    // A VHD Set: Format 4 (class page), its virtual size; nothing else of its private layout.
    return sync(B.Ok, { SettingData: { __CLASS: "Msvm_VirtualHardDiskSettingData", InstanceID: `Microsoft:${set.path}`, ElementName: path.basename(set.path), Type: 3, Format: 4, Path: set.path, ParentPath: "", MaxInternalSize: set.virtualSize, BlockSize: 0, LogicalSectorSize: 512, PhysicalSectorSize: 4096, VirtualDiskId: "" }, Job: null });
  }
  const found = diskAtPath(args);
  if ("returnValue" in found) return found.returnValue;
  const { file, facts: f } = found;
  const typeCode = f.type === "fixed" ? 2 : f.type === "dynamic" ? 3 : 4;
  let parentTimestamp: string | null = null;
  if (f.parentPath) parentTimestamp = cimDateTime(fs.statSync(f.parentPath).mtimeMs);
  return sync(B.Ok, {
    SettingData: {
      __CLASS: "Msvm_VirtualHardDiskSettingData",
      InstanceID: `Microsoft:${path.resolve(file)}`,
      Caption: "Virtual Hard Disk Setting Data",
      Description: "Setting Data for a Virtual Hard Disk",
      ElementName: path.basename(file),
      Type: typeCode,
      Format: f.format === "vhdx" ? 3 : 2,
      Path: path.resolve(file),
      ParentPath: f.parentPath ? path.resolve(f.parentPath) : "",
      ParentTimestamp: parentTimestamp,
      ParentIdentifier: "",
      MaxInternalSize: f.virtualSize,
      BlockSize: f.blockSize,
      LogicalSectorSize: f.logicalSectorSize,
      PhysicalSectorSize: f.physicalSectorSize,
      VirtualDiskId: f.virtualDiskId ? `{${f.virtualDiskId.toUpperCase()}}` : "",
      DataAlignment: 0,
      PmemAddressAbstractionType: 0,
      IsPmemCompatible: false,
    },
    Job: null,
  });
};

export const getVirtualHardDiskState: MethodHandler = (ctx, args) => {
  const found = diskAtPath(args);
  if ("returnValue" in found) return found.returnValue;
  const { file, facts: f } = found;
  return sync(B.Ok, {
    State: {
      __CLASS: "Msvm_VirtualHardDiskState",
      FileSize: f.fileSize,
      InUse: fileInUse(ctx.state, file),
      MinInternalSize: f.virtualSize,
      PhysicalSectorSize: f.physicalSectorSize,
      Alignment: 1,
      FragmentationPercentage: 0,
      Timestamp: cimDateTime(fs.statSync(file).mtimeMs),
    },
    Job: null,
  });
};

export const mergeVirtualHardDisk: MethodHandler = (ctx, args) => {
  const source = args.string("SourcePath");
  const destination = args.string("DestinationPath");
  if (!source || !destination) return sync(B.InvalidParameter);
  if (!fs.existsSync(source) || !fs.existsSync(destination)) return sync(B.FileNotFoundOrInUse);
  let facts;
  try {
    facts = diskFacts(source);
  } catch {
    return sync(B.Failed);
  }
  if (facts.type !== "differencing") return sync(B.InvalidParameter);
  const parent = parentFileOf(source);
  // Only the immediate parent is supported as destination (lab simplification).
  if (!parent || !samePathName(parent, destination)) return sync(B.NotSupported);
  // Offline only: a file a VM, checkpoint or planned VM uses cannot be merged.
  if (fileInUse(ctx.state, source) || fileInUse(ctx.state, destination)) return sync(B.SystemInUse);
  mergeChildDisk(source, facts.format);
  ctx.deleteAfterCommit([source]);
  return { kind: "job", description: "Merging virtual hard disk", affected: [] };
};
