/**
 * Msvm_VirtualSystemExportSettingData: the per-VM template a client reads through
 * Msvm_SystemExportSettingData, edits and passes back embedded to ExportSystemDefinition.
 * Defaults: export everything of the VM itself (no checkpoints chosen yet).
 */
import type { CimInstance } from "../../cim/mod";
import type { LabState, VmRecord } from "../host/model";
import { exportSettingDataInstanceId, instanceIdPath } from "../host/paths";

export function exportSettingDataPath(host: string, vmId: string): string {
  return instanceIdPath(host, "Msvm_VirtualSystemExportSettingData", exportSettingDataInstanceId(vmId));
}

export function exportSettingDataInstance(state: LabState, vm: VmRecord): CimInstance {
  return {
    __CLASS: "Msvm_VirtualSystemExportSettingData",
    __PATH: exportSettingDataPath(state.hostName, vm.id),
    InstanceID: exportSettingDataInstanceId(vm.id),
    Caption: "Virtual System Export Setting Data",
    Description: "Microsoft Virtual System Export Setting Data",
    ElementName: vm.name,
    CaptureLiveState: 0,
    CopySnapshotConfiguration: 0,
    CopyVmRuntimeInformation: true,
    CopyVmStorage: false,
    CreateVmExportSubdirectory: true,
    SnapshotVirtualSystem: null,
    BackupIntent: 0,
    ExportForLiveMigration: false,
    DisableDifferentialOfIgnoredStorage: false,
    ExcludedVirtualHardDisks: [],
    DifferentialBackupBase: null,
  };
}
