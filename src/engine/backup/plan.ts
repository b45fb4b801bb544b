import type { VirtualDisk } from "../../disk/mod";
import { openDisk } from "../../disks/mod";
import { HvbError, windowsPathParts } from "../../base/mod";
import { isHyperVMethodError, isRctFallbackError } from "../../hyperv/mod";
import type { PointDisk, PointRecord } from "../../repository/mod";
import type { HostApi, HostCheckpoint, HostReferencePoint, HostVm } from "../host_api";
import { rctUnavailableReason } from "../readiness";
import { unitSizeFor } from "../units";

/** Says a warning: to the result and to the events (see backup.ts). */
export type Warn = (message: string, code?: string) => void;

/** Byte ranges, as RCT reports them. */
export type Ranges = Array<{ offset: number; length: number }>;

/** What one disk of the new point will get, and from what. */
export interface DiskPlan {
  disk: HostVm["disks"][number];
  /** The checkpoint's frozen file of the disk, open (the caller closes it). */
  source: VirtualDisk;
  /** Every allocated block, RCT changed ranges, or units whose hash changed. */
  method: PointDisk["method"];
  unitSize: number;
  /** RCT's changed ranges (method "rct" only). */
  ranges: Ranges | undefined;
  /** The base point's disk this one is an increment of (methods "rct" and "hash"). */
  baseDisk: PointDisk | undefined;
}

/** What {@link planDisks} decides from. */
export interface PlanInput {
  host: HostApi;
  vm: HostVm;
  checkpoint: HostCheckpoint;
  /** The point the increments build on, or undefined for a full backup. */
  base: PointRecord | undefined;
  /** Reference points on the host now (to tell whether the base's one is still there). */
  hostReferencePoints: readonly HostReferencePoint[];
  /** Find changes by hashing when RCT cannot answer (instead of a full copy). */
  hashChangeDetection: boolean;
  warn: Warn;
}

/**
 * Decides per disk how to find its data: a full copy (no base, or the disk was resized), RCT's
 * changed ranges since the base's reference point, or, when RCT cannot answer, block hashes
 * compared with the base (--hash-changes) or a full copy; each fallback is warned with why.
 * Every plan's source is open on return, also when it throws (the plans made so far are in
 * `plans`, for the caller to close).
 */
export async function planDisks(input: PlanInput, plans: DiskPlan[]): Promise<void> {
  const { host, vm, checkpoint, base, warn } = input;
  const baseRp = base?.referencePoint ?? undefined;
  const baseRpAlive = baseRp !== undefined && input.hostReferencePoints.some((r) => r.instanceId === baseRp.instanceId);
  for (const disk of vm.disks) {
    const frozen = frozenDiskOf(vm, checkpoint, disk);
    const source = openDisk(frozen.path);
    const plan: DiskPlan = { disk, source, method: "full", unitSize: unitSizeFor(source.virtualSize), ranges: undefined, baseDisk: undefined };
    plans.push(plan);
    const baseDisk = base ? baseDiskOf(base, vm, disk, warn) : undefined;
    if (!baseDisk) continue;
    if (baseDisk.virtualSize !== source.virtualSize) {
      warn(`disk ${disk.index} of '${vm.name}' changed size since the last backup; taking a full copy of it`, "DiskResized");
      continue;
    }
    plan.baseDisk = baseDisk;
    plan.unitSize = baseDisk.unitSize;
    plan.ranges = await changedRanges(host, {
      vm,
      index: disk.index,
      baseIndex: baseDisk.index,
      diskPath: disk.hostResource,
      virtualSize: source.virtualSize,
      baseReferencePoint: baseRp,
      baseReferencePointAlive: baseRpAlive,
      rctUnavailable: rctUnavailableReason(vm, disk),
      hashing: input.hashChangeDetection,
      warn,
    });
    plan.method = plan.ranges ? "rct" : input.hashChangeDetection ? "hash" : "full";
  }
}

/** Two Windows paths name the same file (case and separators aside; no file system access). */
function sameHostFile(a: string, b: string): boolean {
  return windowsPathParts(a).join("\\").toLowerCase() === windowsPathParts(b).join("\\").toLowerCase();
}

/**
 * The checkpoint's disk that is `disk` of the VM: the one at the same location (never the one
 * at the same position in the host's listing, which WMI does not order), and only if it
 * refers to the file the VM ran on before the checkpoint. Anything else would copy one
 * disk's data as another's: stop.
 */
export function frozenDiskOf(vm: HostVm, checkpoint: HostCheckpoint, disk: HostVm["disks"][number]): HostCheckpoint["disks"][number] {
  const at = checkpoint.disks.filter((d) => d.location === disk.location);
  const cp = `recovery checkpoint '${checkpoint.name || checkpoint.instanceId}' of '${vm.name}'`;
  if (at.length !== 1) {
    throw new HvbError(
      "CheckpointDiskMissing",
      at.length === 0
        ? `The ${cp} has no disk at ${disk.controller} location '${disk.location}', where disk ${disk.index} ('${disk.hostResource}') is attached; was the VM's hardware changed during the backup?`
        : `The ${cp} lists ${at.length} disks at location '${disk.location}'; cannot tell which is disk ${disk.index}`,
      { category: "InvalidData", target: vm.name },
    );
  }
  const frozen = at[0]!;
  if (!sameHostFile(frozen.hostPath ?? frozen.path, disk.hostResource)) {
    throw new HvbError(
      "CheckpointDiskMismatch",
      `Disk ${disk.index} of '${vm.name}' (location '${disk.location}') ran on '${disk.hostResource}' before the checkpoint, but the ${cp} refers to '${frozen.hostPath ?? frozen.path}' there; stopping rather than copying a file that may be another disk's (was a disk replaced, or a checkpoint applied, during the backup?)`,
      { category: "InvalidData", target: vm.name },
    );
  }
  return frozen;
}

/**
 * The base point's disk that this disk is an increment of: the one recorded at the same
 * location, and only if it also had the same position (every chain in the repository is
 * followed by position). Points of older versions recorded no location: position alone.
 * Otherwise `moved` says why the disk gets a full copy (a disk that moved, or a new disk at a
 * known position). Pure: the backup plan and readiness both decide with it.
 */
export function pairWithBase(base: Pick<PointRecord, "disks">, disk: Pick<HostVm["disks"][number], "index" | "location">): { base?: PointDisk; moved?: string } {
  const byLocation = base.disks.find((d) => d.location !== undefined && d.location === disk.location);
  const byIndex = base.disks.find((d) => d.index === disk.index);
  if (byIndex && byIndex.location === undefined) return { base: byIndex };
  if (byLocation && byLocation === byIndex) return { base: byLocation };
  if (byLocation || byIndex) return { moved: `not where the last backup found it (${byLocation ? `it was disk ${byLocation.index}` : `disk ${disk.index} was at '${byIndex!.location}'`})` };
  return {};
}

/** {@link pairWithBase}, warning (`DiskMoved`) when the disk gets a full copy because it moved. */
function baseDiskOf(base: PointRecord, vm: HostVm, disk: HostVm["disks"][number], warn: Warn): PointDisk | undefined {
  const paired = pairWithBase(base, disk);
  if (paired.moved) warn(`disk ${disk.index} of '${vm.name}' (location '${disk.location}') is ${paired.moved}; taking a full copy of it`, "DiskMoved");
  return paired.base;
}

/** The point's kind: incremental as soon as one disk builds on the base. */
export function kindOf(plans: readonly DiskPlan[]): "full" | "incremental" {
  return plans.some((p) => p.method !== "full") ? "incremental" : "full";
}

/** What {@link changedRanges} needs to know about one disk. */
export interface ChangedRangesOptions {
  vm: HostVm;
  index: number;
  /** The disk's index in the base point (the reference point's RCT ids are keyed by it). */
  baseIndex: number;
  /** The file the VM uses (RCT is asked about it, not the checkpoint's). */
  diskPath: string;
  virtualSize: number;
  baseReferencePoint: PointRecord["referencePoint"] | undefined;
  baseReferencePointAlive: boolean;
  /** Why RCT cannot be used on this disk at all, if so (see readiness.ts). */
  rctUnavailable: string | undefined;
  /** Whether the fallback is hashing (only changes the warning's wording). */
  hashing: boolean;
  warn: Warn;
}

/**
 * Changed byte ranges of one disk since the base point's reference point, or undefined (with a
 * warning saying exactly why) when RCT cannot answer.
 */
export async function changedRanges(host: HostApi, o: ChangedRangesOptions): Promise<Ranges | undefined> {
  const label = `disk ${o.index} of '${o.vm.name}'`;
  const fallback = (why: string, code: string): undefined => {
    const then = o.hashing
      ? "finding changes by comparing block hashes with the previous point"
      : "taking a full copy of this disk (--hash-changes stores only the changed blocks, found by comparing hashes)";
    o.warn(`${label}: cannot use Resilient Change Tracking (${why}); ${then}`, code);
    return undefined;
  };
  const baseRp = o.baseReferencePoint;
  if (o.rctUnavailable) return fallback(o.rctUnavailable, "RctUnavailable");
  if (!baseRp) return fallback("the last backup left no reference point", "RctNoReferencePoint");
  if (!o.baseReferencePointAlive) return fallback(`reference point '${baseRp.instanceId}' no longer exists on the host`, "RctReferencePointGone");
  const rctId = baseRp.rctIds[String(o.baseIndex)];
  if (!rctId) return fallback("the reference point has no RCT id for this disk", "RctNoId");
  try {
    return await host.getChangedRanges(o.diskPath, rctId, { offset: 0, length: o.virtualSize });
  } catch (e) {
    if (isHyperVMethodError(e) && e.code === "HyperVAccessDenied") {
      throw new HvbError(
        "HyperVAccessDenied",
        `Hyper-V denied access (32769) when asked for the changed blocks of ${label} ('${o.diskPath}'): run the backup as a member of Hyper-V Administrators (or Administrators) with read access to the VM's disk files, or grant those rights to the account of the scheduled task`,
        { category: "PermissionDenied", target: o.diskPath, cause: e },
      );
    }
    // Any other failure (the code for a reset or unknown RCT id is not documented): this disk
    // is copied in full, with the code in the warning.
    if (!isRctFallbackError(e)) throw e;
    const code = isHyperVMethodError(e) ? `${e.errorCode} ${e.meaning}` : (e as Error).message;
    return fallback(`GetVirtualDiskChanges failed for RCT id '${rctId}' with ${code}`, "RctIdInvalid");
  }
}
