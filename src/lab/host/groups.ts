/**
 * VM groups (Msvm_VirtualSystemCollection) and what the host does to them as a whole: a
 * collection snapshot takes every member's checkpoint under one lock, so no guest write falls
 * between two members' cuts; converting or destroying it acts on every member or on none.
 */
import { HvbError } from "../../base/mod";
import { issueRctId } from "./rct";
import {
  type GroupRecord,
  type LabState,
  newGuid,
  type ReferencePointCollectionRecord,
  type ReferencePointRecord,
  type SnapshotCollectionRecord,
  type SnapshotRecord,
  type VmRecord,
  vmByName,
} from "./model";
import { diskInstanceId } from "./paths";
import { removeCheckpoint } from "./host_ops";

/** The lab's groups (a lab made before groups existed has none). */
export function groupsOf(state: LabState): GroupRecord[] {
  return (state.groups ??= []);
}
export function snapshotCollectionsOf(state: LabState): SnapshotCollectionRecord[] {
  return (state.snapshotCollections ??= []);
}
export function referencePointCollectionsOf(state: LabState): ReferencePointCollectionRecord[] {
  return (state.referencePointCollections ??= []);
}

/** Creates a group of existing VMs (New-VMGroup + Add-VMGroupMember). */
export function createGroup(state: LabState, name: string, vmNames: readonly string[], now: number): GroupRecord {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/.test(name)) {
    throw new HvbError("LabBadGroup", `Cannot create group '${name}': use letters, digits, space, '.', '_' and '-'`, { category: "InvalidArgument", target: name });
  }
  if (groupsOf(state).some((g) => g.name.toLowerCase() === name.toLowerCase())) {
    throw new HvbError("LabGroupExists", `Cannot create group '${name}': the lab already has a group of that name`, { category: "InvalidArgument", target: name });
  }
  if (vmNames.length === 0) throw new HvbError("LabBadGroup", `Cannot create group '${name}' without members: give --vm at least once`, { category: "InvalidArgument", target: name });
  const vmIds: string[] = [];
  for (const n of vmNames) {
    const vm = vmByName(state, n);
    if (vmIds.includes(vm.id)) throw new HvbError("LabBadGroup", `Cannot add VM '${vm.name}' to group '${name}' twice`, { category: "InvalidArgument", target: name });
    vmIds.push(vm.id);
  }
  const group: GroupRecord = { id: newGuid(), name, vmIds, createdAt: now };
  groupsOf(state).push(group);
  return group;
}

/** The group's member VMs (members removed from the host since are skipped). */
export function groupMembers(state: LabState, group: GroupRecord): VmRecord[] {
  return group.vmIds.map((id) => state.vms.find((v) => v.id === id)).filter((v): v is VmRecord => v !== undefined);
}

/** The member checkpoints of a collection snapshot that still exist. */
export function collectionSnapshots(state: LabState, c: SnapshotCollectionRecord): SnapshotRecord[] {
  return c.snapshotIds.map((id) => state.snapshots.find((s) => s.id === id)).filter((s): s is SnapshotRecord => s !== undefined);
}

/** The member reference points of a reference point collection that still exist. */
export function collectionReferencePoints(state: LabState, c: ReferencePointCollectionRecord): ReferencePointRecord[] {
  return c.referencePointIds.map((id) => state.referencePoints.find((r) => r.id === id)).filter((r): r is ReferencePointRecord => r !== undefined);
}

/**
 * Turns one recovery checkpoint into a reference point, as Msvm_VirtualSystemSnapshotService
 * does: the RCT ids of the checkpoint's cut are issued, the checkpoint is merged away. Returns
 * the reference point and the files to delete after the commit.
 */
export function checkpointToReferencePoint(state: LabState, vm: VmRecord, snapshot: SnapshotRecord, now: number, id: string = newGuid()): { rp: ReferencePointRecord; files: string[] } {
  const diskIds: string[] = [];
  const rctIds: string[] = [];
  for (const d of vm.disks) {
    diskIds.push(diskInstanceId(vm.id, d.deviceKey));
    rctIds.push(issueRctId(d.rct, snapshot.seq));
  }
  const files = removeCheckpoint(state, snapshot);
  const rp: ReferencePointRecord = {
    id,
    vmId: vm.id,
    createdAt: now,
    consistencyLevel: snapshot.consistencyLevel,
    consistency: snapshot.consistency,
    diskIds,
    rctIds,
  };
  state.referencePoints.push(rp);
  return { rp, files };
}
