/**
 * Calls on a VM that a merge or export job still works on (issue 13 A6).
 *
 * Hyper-V refuses an operation on an object that has another one in progress: while a
 * DestroySnapshot or ConvertToReferencePoint merges a checkpoint's differencing files into
 * their parents (or a group's equivalents merge each member's), or an export reads a
 * checkpoint's configuration and files, the VM's chain of disks is in between. The lab holds
 * such a job's VMs until the job reaches a final state (running, stalled or Shutting Down:
 * JobState 4 and 6) and refuses, with the method family's "Invalid state" code, every call
 * that would act on those VMs' checkpoints, reference points or virtual disks. Which code
 * Hyper-V gives is an assumption: the method pages document 32775 "Invalid state for this
 * operation" (family B) and 5 "Invalid State" (family A) without saying when. Reads (queries,
 * GetInstance, associations, the disk-header queries) stay allowed, as do calls on other VMs
 * and a VM's own state changes (a live merge goes on while the VM runs).
 */
import * as path from "node:path";
import { collectionSnapshots, groupMembers, groupsOf } from "../host/groups";
import type { LabState } from "../host/model";
import { vmsAttaching } from "../host/vhd_sets";
import { groupOfRef, snapshotCollectionOfRef } from "./collection_snapshot_service";
import { A, type Args, B, type MethodContext } from "./method_support";
import { vmOfConfiguration } from "./define_system";
import { snapshotOfRef, vmOfRef } from "./snapshot_service";

/** `class.method` (lower case) of the methods whose job holds the VMs it acts on until it ends. */
const HOLDING = new Set([
  "msvm_virtualsystemsnapshotservice.destroysnapshot",
  "msvm_virtualsystemsnapshotservice.converttoreferencepoint",
  "msvm_collectionsnapshotservice.destroysnapshot",
  "msvm_collectionsnapshotservice.converttoreferencepoint",
  "msvm_collectionsnapshotservice.exportsnapshot",
  "msvm_virtualsystemmanagementservice.exportsystemdefinition",
]);

/** Methods of family A (0..6): their "Invalid State" is 5; every other refused method is family B (32775). */
const FAMILY_A = new Set(["msvm_virtualsystemsnapshotservice", "msvm_collectionsnapshotservice", "msvm_collectionreferencepointservice"]);
const FAMILY_A_METHODS = new Set(["msvm_virtualsystemmanagementservice.destroysystem", "msvm_virtualsystemmanagementservice.addresourcesettings"]);

const key = (className: string, method: string) => `${className.toLowerCase()}.${method.toLowerCase()}`;

/** Whether a job of this method holds the VMs it acts on until it ends. */
export function jobHoldsVms(className: string, method: string): boolean {
  return HOLDING.has(key(className, method));
}

/** The "Invalid state for this operation" code of the method's family. */
export function invalidStateCode(className: string, method: string): number {
  return FAMILY_A.has(className.toLowerCase()) || FAMILY_A_METHODS.has(key(className, method)) ? A.InvalidState : B.InvalidState;
}

/**
 * The VMs (ids) whose checkpoints, reference points or virtual disks a call acts on; empty for
 * calls that act on none (reads, other objects) or whose arguments name nothing of this host
 * (the method itself then answers them).
 */
export function vmsActedOn(ctx: MethodContext, className: string, method: string, args: Args): string[] {
  const state = ctx.state;
  switch (key(className, method)) {
    case "msvm_virtualsystemsnapshotservice.createsnapshot":
      return idsOf(vmOfRef(ctx, args.ref("AffectedSystem")));
    case "msvm_virtualsystemsnapshotservice.destroysnapshot":
    case "msvm_virtualsystemsnapshotservice.converttoreferencepoint":
      return idsOf(snapshotOfRef(ctx, args.ref("AffectedSnapshot")), (s) => s.vmId);
    case "msvm_virtualsystemreferencepointservice.destroyreferencepoint": {
      const inst = resolved(ctx, args.ref("AffectedReferencePoint"));
      const rp = inst ? state.referencePoints.find((r) => `Microsoft:${r.id}`.toLowerCase() === String(inst["InstanceID"]).toLowerCase()) : undefined;
      return idsOf(rp, (r) => r.vmId);
    }
    case "msvm_collectionsnapshotservice.createsnapshot": {
      const group = groupOfRef(ctx, args.ref("Collection"));
      return group ? groupMembers(state, group).map((v) => v.id) : [];
    }
    case "msvm_collectionsnapshotservice.destroysnapshot":
    case "msvm_collectionsnapshotservice.converttoreferencepoint":
    case "msvm_collectionsnapshotservice.exportsnapshot": {
      const c = snapshotCollectionOfRef(ctx, args.ref(method.toLowerCase() === "exportsnapshot" ? "SnapshotCollection" : "AffectedSnapshotCollection"));
      if (!c) return [];
      const group = groupsOf(state).find((g) => g.id === c.groupId);
      return unique([...collectionSnapshots(state, c).map((s) => s.vmId), ...(group ? groupMembers(state, group).map((v) => v.id) : [])]);
    }
    case "msvm_collectionreferencepointservice.destroyreferencepoint": {
      const inst = resolved(ctx, args.ref("AffectedReferencePointCollection"));
      const c = inst ? (state.referencePointCollections ?? []).find((x) => x.id.toLowerCase() === String(inst["CollectionID"]).toLowerCase()) : undefined;
      return c ? unique(state.referencePoints.filter((r) => c.referencePointIds.includes(r.id)).map((r) => r.vmId)) : [];
    }
    case "msvm_imagemanagementservice.getvirtualdiskchanges":
      return ownersOfFile(state, args.string("Path"));
    case "msvm_virtualsystemmanagementservice.exportsystemdefinition":
      return idsOf(vmOfRef(ctx, args.ref("ComputerSystem")));
    case "msvm_virtualsystemmanagementservice.destroysystem":
      return idsOf(vmOfRef(ctx, args.ref("AffectedSystem")));
    case "msvm_virtualsystemmanagementservice.addresourcesettings":
      // Devices (a drive, the disk in it) added to the configuration the job merges or exports.
      return idsOf(vmOfConfiguration(ctx, args.ref("AffectedConfiguration")));
    default:
      return [];
  }
}

function resolved(ctx: MethodContext, ref: string | undefined) {
  return ref ? ctx.resolve(ref) : undefined;
}

function idsOf<T>(x: T | undefined, id: (x: T) => string = (v) => (v as { id: string }).id): string[] {
  return x === undefined ? [] : [id(x)];
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

/**
 * The VMs one of whose disks or checkpoint files is `file`; for a shared disk (a VHD Set, whose
 * path GetVirtualDiskChanges takes in any case as findVhdSet does) every VM that attaches it.
 */
function ownersOfFile(state: LabState, file: string | undefined): string[] {
  if (!file) return [];
  const same = (p: string) => path.resolve(p) === path.resolve(file);
  const vm = state.vms.find((v) => v.disks.some((d) => same(d.path)));
  if (vm) return [vm.id];
  const snapshot = state.snapshots.find((s) => s.disks.some((d) => same(d.path)));
  if (snapshot) return [snapshot.vmId];
  return vmsAttaching(state, file).map((v) => v.id);
}
