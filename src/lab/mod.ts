/**
 * The lab host: an emulator of Hyper-V's WMI v2 backup surface (root\virtualization\v2) over
 * a state directory and real VHDX/VHD files. See docs/lab-fidelity.md.
 *
 * @module
 */
export { LabCimSession } from "./session";
export { initLab, readLabState, mutateLab } from "./state_store";
export { guestData } from "./guest_data";
export { createVm, guestWrite, migrateVm, crashHost, setVmState, takeCheckpoint, removeCheckpoint, type NewVmOptions } from "./host_ops";
export { addFault } from "./faults";
export type {
  LabState,
  LabConfig,
  VmRecord,
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
} from "./model";
export { guestWriteInLab } from "./host_ops";
export { EnabledState, KNOWN_CONFIG_VERSIONS, stateName, vmByName, type VmStateName } from "./model";
export { LOCK_FILE, withLabLock } from "./state_store";
