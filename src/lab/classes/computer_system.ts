/** Msvm_ComputerSystem (the host and each VM) and Msvm_PlannedComputerSystem. */
import type { CimInstance } from "../../cim/mod";
import type { LabState, PlannedRecord, VmRecord } from "../host/model";
import { EnabledState } from "../host/model";
import { cimDateTime, computerSystemPath, plannedSystemPath } from "../host/paths";

export function hostInstance(state: LabState): CimInstance {
  return {
    __CLASS: "Msvm_ComputerSystem",
    __PATH: computerSystemPath(state.hostName, state.hostName),
    InstanceID: `Microsoft:${state.hostName}`,
    Caption: "Hosting Computer System",
    Description: "Microsoft Hosting Computer System",
    ElementName: state.hostName,
    CreationClassName: "Msvm_ComputerSystem",
    Name: state.hostName,
    EnabledState: 2,
    RequestedState: 12,
    EnabledDefault: 2,
    HealthState: 5,
    OperationalStatus: [2],
    Status: "OK",
    InstallDate: cimDateTime(state.createdAt),
    TimeOfLastStateChange: cimDateTime(state.createdAt),
  };
}

export function vmInstance(state: LabState, vm: VmRecord): CimInstance {
  const running = vm.state === EnabledState.Running || vm.state === EnabledState.Paused;
  return {
    __CLASS: "Msvm_ComputerSystem",
    __PATH: computerSystemPath(state.hostName, vm.id),
    InstanceID: `Microsoft:${vm.id}`,
    Caption: "Virtual Machine",
    Description: "Microsoft Virtual Machine",
    ElementName: vm.name,
    CreationClassName: "Msvm_ComputerSystem",
    Name: vm.id,
    EnabledState: vm.state,
    RequestedState: 12,
    EnabledDefault: 2,
    HealthState: 5,
    OperationalStatus: [2],
    Status: "OK",
    InstallDate: cimDateTime(vm.createdAt),
    TimeOfLastStateChange: cimDateTime(vm.stateChangedAt),
    TimeOfLastConfigurationChange: cimDateTime(vm.stateChangedAt),
    OnTimeInMilliseconds: running ? Math.max(0, Date.now() - vm.stateChangedAt) : 0,
    ProcessID: running ? 4000 + (parseInt(vm.id.slice(0, 4), 16) % 1000) : null,
    NumberOfNumaNodes: 1,
    ReplicationState: 0,
    ReplicationHealth: 0,
    ReplicationMode: 0,
    LastSuccessfulBackupTime: lastBackup(state, vm.id),
    EnhancedSessionModeState: 3,
    AvailableRequestedStates: [],
  };
}

function lastBackup(state: LabState, vmId: string): string | null {
  const times = state.referencePoints.filter((r) => r.vmId === vmId).map((r) => r.createdAt);
  return times.length ? cimDateTime(Math.max(...times)) : null;
}

export function plannedInstance(state: LabState, p: PlannedRecord): CimInstance {
  return {
    __CLASS: "Msvm_PlannedComputerSystem",
    __PATH: plannedSystemPath(state.hostName, p.id),
    InstanceID: `Microsoft:${p.id}`,
    Caption: "Planned Virtual Machine",
    Description: "Microsoft Planned Virtual Machine",
    ElementName: p.name,
    CreationClassName: "Msvm_PlannedComputerSystem",
    Name: p.id,
    EnabledState: EnabledState.Off,
    RequestedState: 12,
    HealthState: 5,
    OperationalStatus: [2],
    InstallDate: cimDateTime(p.createdAt),
  };
}
