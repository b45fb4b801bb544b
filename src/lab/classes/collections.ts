/**
 * The collection classes of VM groups (Windows Server 2016+): Msvm_VirtualSystemCollection (a
 * group), Msvm_SnapshotCollection (a snapshot of a group) and Msvm_ReferencePointCollection
 * (a reference point of a group). Each is keyed by CollectionID (CIM_Collection's key as the
 * class pages show it); the ids are the lab's GUIDs, bare (lab assumption, docs/lab-fidelity.md).
 */
import type { CimInstance } from "../../cim/mod";
import type { GroupRecord, LabState, ReferencePointCollectionRecord, SnapshotCollectionRecord } from "../host/model";
import { cimDateTime, objPath } from "../host/paths";

export const GROUP_CLASS = "Msvm_VirtualSystemCollection";
export const SNAPSHOT_COLLECTION_CLASS = "Msvm_SnapshotCollection";
export const REFERENCE_POINT_COLLECTION_CLASS = "Msvm_ReferencePointCollection";

export function groupPath(host: string, id: string): string {
  return objPath(host, GROUP_CLASS, { CollectionID: id });
}
export function snapshotCollectionPath(host: string, id: string): string {
  return objPath(host, SNAPSHOT_COLLECTION_CLASS, { CollectionID: id });
}
export function referencePointCollectionPath(host: string, id: string): string {
  return objPath(host, REFERENCE_POINT_COLLECTION_CLASS, { CollectionID: id });
}

export function groupInstance(state: LabState, g: GroupRecord): CimInstance {
  return {
    __CLASS: GROUP_CLASS,
    __PATH: groupPath(state.hostName, g.id),
    CollectionID: g.id,
    ElementName: g.name,
    Caption: "Virtual System Collection",
    // Replication of groups is not emulated (class page: 0 None / 0 Disabled).
    ReplicationMode: 0,
    ReplicationState: 0,
    FailedOverReplicationType: 0,
  };
}

export function snapshotCollectionInstance(state: LabState, c: SnapshotCollectionRecord): CimInstance {
  const group = state.groups?.find((g) => g.id === c.groupId);
  return {
    __CLASS: SNAPSHOT_COLLECTION_CLASS,
    __PATH: snapshotCollectionPath(state.hostName, c.id),
    CollectionID: c.id,
    ElementName: `${group?.name ?? c.groupId} - ${c.kind === "recovery" ? "Backup - " : ""}(${cimDateTime(c.createdAt)})`,
  };
}

export function referencePointCollectionInstance(state: LabState, c: ReferencePointCollectionRecord): CimInstance {
  return {
    __CLASS: REFERENCE_POINT_COLLECTION_CLASS,
    __PATH: referencePointCollectionPath(state.hostName, c.id),
    CollectionID: c.id,
    ElementName: cimDateTime(c.createdAt),
    // 2 RCT based, as for the members (Msvm_VirtualSystemReferencePoint).
    ReferencePointType: 2,
    // The collection page numbers consistency the other way round from the snapshot settings:
    // 1 Crash Consistent, 2 Application Consistent.
    ConsistencyLevel: c.consistencyLevel === 1 ? 2 : 1,
    VirtualSystemCollectionId: c.groupId,
    HasAssociatedLog: false,
  };
}
