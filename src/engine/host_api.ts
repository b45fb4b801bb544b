import type { HyperVClient } from "../hyperv/mod";
import type { Checkpoint, PlannedSystem, ReferencePoint, VmDisk, VmInfo } from "../hyperv/mod";

/**
 * What the engine needs from a Hyper-V host: the operations of the typed client in src/hyperv
 * (over the CimSession seam: real WMI or the lab) that the use cases call. Listing them here
 * shows which host operations the engine depends on, and lets tests substitute a host.
 */
export type HostApi = Pick<
  HyperVClient,
  | "listVms"
  | "findVm"
  | "refreshVm"
  | "requestStateChange"
  | "destroySystem"
  | "setDiskPath"
  | "setSharedDiskPath"
  | "createRecoveryCheckpoint"
  | "listCheckpoints"
  | "destroyCheckpoint"
  | "convertToReferencePoint"
  | "listReferencePoints"
  | "destroyReferencePoint"
  | "getChangedRanges"
  | "exportConfiguration"
  | "importSystemDefinition"
  | "removePlannedCheckpoints"
  | "hostDefaultFolders"
  | "validatePlannedSystem"
  | "realizePlannedSystem"
  | "destroyPlannedSystem"
  | "renameSystem"
  | "findGroup"
  | "listGroups"
  | "createGroupRecoverySnapshot"
  | "listGroupSnapshots"
  | "destroyGroupSnapshot"
  | "exportGroupSnapshot"
  | "convertGroupSnapshotToReferencePoint"
  | "listGroupReferencePoints"
  | "destroyGroupReferencePoint"
  | "getVhdSetInformation"
  | "getVhdSnapshot"
  | "deleteVhdSnapshot"
  | "createVhdSetOver"
  | "getVhdSetChanges"
  // For what the typed client has no call for yet: finding the planned VMs an interrupted
  // restore left (see restore.ts, plannedSystemsIn).
  | "session"
>;

export type HostVm = VmInfo;
export type HostDisk = VmDisk;
export type HostCheckpoint = Checkpoint;
export type HostReferencePoint = ReferencePoint;
export type HostPlanned = PlannedSystem;
