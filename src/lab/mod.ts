/**
 * The lab host: an emulator of Hyper-V's WMI v2 backup surface (root\virtualization\v2) over
 * a state directory and real VHDX/VHD files. See docs/lab-fidelity.md.
 *
 * Layout: host/ holds the emulated host itself (state store, model, host operations, disk files,
 * RCT, guests, faults, jobs, paths, configurations); classes/ the WMI instances computed from
 * it; services/ the emulated methods and their plumbing; session.ts, catalog.ts and
 * associations.ts put them behind the CimSession seam. Other packages import only this file.
 *
 * @module
 */
export { LabCimSession } from "./session";
export { initLab } from "./host/state_store";
// Outside the host the state is always seen with the merges whose jobs completed applied.
export { readSettledLab as readLabState, mutateSettledLab as mutateLab } from "./host/lab_access";
export { guestData } from "./host/guest_data";
export { createVm, guestWrite, migrateVm, crashHost, setVmState, takeCheckpoint, removeCheckpoint, type NewVmOptions } from "./host/host_ops";
export { addFault } from "./host/faults";
export { releaseStalledJobs } from "./host/stalled_jobs";
export { createGroup } from "./host/groups";
export { attachSharedDisks, createVhdSet, sharedWriteInLab } from "./host/vhd_sets";
export type {
  LabState,
  LabConfig,
  VmRecord,
  ArmedWrite,
  SnapshotRecord,
  ReferencePointRecord,
  FaultRecord,
  JobRecord,
  PlannedRecord,
  ConsistencyKind,
  SnapshotDisk,
  Hardware,
  SnapshotKind,
  DiskRecord,
  GuestKind,
  IntegrationState,
  ControllerKind,
  DiskFormat,
  RctRecord,
  PlannedDisk,
  TrackedWrite,
  GroupRecord,
  SnapshotCollectionRecord,
  ReferencePointCollectionRecord,
  DeviceSlot,
  SharedDiskSlot,
  VhdSetRecord,
  VhdSetSnapshotRecord,
  VhdSetSnapshotRef,
  PlannedCheckpoint,
} from "./host/model";
export type { ReferencedCheckpoint } from "./host/planned_checkpoints";
export type { LabJobs, JobFileBook, UnfinishedJob } from "./host/job_store";
export type { PendingMerge, MergeChange } from "./host/pending_merges";
export { guestWriteInLab } from "./host/host_ops";
export { EnabledState, KNOWN_CONFIG_VERSIONS, stateName, vmByName, type VmStateName } from "./host/model";
export { LOCK_FILE, withLabLock } from "./host/state_store";
export { checkNode, nodeOf, volumeOfFile } from "./host/volumes";
export { type LabSessionOptions } from "./session";
export type { VolumeRecord, CheckpointLoad, ShadowCopyRecord } from "./host/model";
export {
  HOST_VERSIONS,
  DEFAULT_HOST_VERSION,
  MAX_CONFIG_VERSION,
  defaultHostVersion,
  hostRunsConfigVersion,
  parseHostVersion,
  type HostVersion,
} from "./host/host_versions";
export { GUEST_VSS_DETAIL } from "./services/snapshot_service";
