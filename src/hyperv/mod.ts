/**
 * The Hyper-V client: typed access to VMs, checkpoints, reference points, RCT and
 * export/import over the {@link CimSession} seam. Engine code imports from here.
 */
export { HyperVClient, type HyperVClientOptions } from "./hyperv_client";
export type {
  BackupIntegration,
  ByteRange,
  Checkpoint,
  CheckpointDisk,
  GroupReferencePoint,
  GroupSnapshot,
  VmGroup,
  ControllerKind,
  PlannedSystem,
  ReferencePoint,
  RequestableState,
  VhdSettings,
  VmDisk,
  SharedDisk,
  VmInfo,
  GuestOs,
  PassThroughDisk,
  VmState,
} from "./types";
export { REQUESTED_STATE } from "./types";
export {
  HyperVMethodError,
  type HyperVMethodErrorCode,
  type HyperVMethodFailure,
  type ReturnCodeFamily,
  type ReturnValueMeaning,
  describeJobErrorCode,
  describeReturnValue,
  isHyperVMethodError,
  jobStateName,
  returnCodeFamily,
} from "./method_errors";
export { isRctFallbackError } from "./rct";
export { locationOfInstanceId } from "./configuration";
export { type VhdSetInfo, type VhdSnapshotInfo, plainGuid } from "./vhd_sets";
export { rctIdAt } from "./reference_points";
export { type CheckpointKind, type RecoveryCheckpointOptions, createRecoveryCheckpoint, listCheckpoints } from "./checkpoints";
export { type ExportOptions, type ImportOptions, exportedDefinitionFile, exportConfiguration, importSystemDefinition } from "./export_import";
export { DEFAULT_JOB_STALL_MS, DEFAULT_POLL_MS, jobPollDelay, type CancelRequest, type ClientContext } from "./jobs";
export type { AssociatorsOptions, CimInstance, CimMethodResult, CimSession } from "../cim/mod";
export { openWmiSession } from "./transports/wmi_session";
export { type HostVolume, listVolumes, volumeRootOf } from "./volumes";
export { type ClusteredVm, addVmToCluster, listClusterNodes, listClusteredVms } from "./cluster";
export {
  ChannelCimSession,
  HostChannel,
  HYPERV_NAMESPACE,
  parseChannelAnswer,
  type ChannelAnswer,
  type ChannelRef,
  type ChannelRequest,
} from "./transports/channel_session";
export { type ShadowCopy, createShadowCopy, deleteShadowCopy, shadowPathOf } from "./shadow_copies";
export { guestOsFrom } from "./guest_os";
export { type HostDefaultFolders } from "./host_folders";
export { type PlannedCheckpoint } from "./planned_checkpoints";
export { listMappedDrives, hostComputerAccount } from "./mapped_drives";
