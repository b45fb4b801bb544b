/**
 * Msvm_VssComponent: the guest's backup integration service as the host sees it. EnabledState
 * 2 (enabled in settings) for every VM; OperationalStatus tells whether the guest answers:
 * [2] OK when the service runs (also for `failing`, whose VSS breaks only during a backup,
 * as real failures do), [12] No Contact when the guest has no integration services.
 */
import type { CimInstance } from "../../cim/mod";
import type { LabState, VmRecord } from "../host/model";
import { VSS_IC_GUID, vssComponentPath } from "../host/paths";

export function vssComponentInstance(state: LabState, vm: VmRecord): CimInstance {
  const answering = vm.guest !== "none" && vm.integration !== "missing" && (vm.state === 2 || vm.state === 9);
  const status = answering ? 2 : 12;
  return {
    __CLASS: "Msvm_VssComponent",
    __PATH: vssComponentPath(state.hostName, vm.id),
    Caption: "VSS",
    Description: "Microsoft VSS Service",
    ElementName: "VSS",
    Name: "VSS",
    CreationClassName: "Msvm_VssComponent",
    DeviceID: `Microsoft:${vm.id}\\${VSS_IC_GUID}`,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: vm.id,
    EnabledState: 2,
    EnabledDefault: 7,
    Availability: 6,
    HealthState: answering ? 5 : 0,
    OperationalStatus: [status],
    StatusDescriptions: [answering ? "OK" : "No Contact"],
  };
}
