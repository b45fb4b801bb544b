/**
 * Msvm_VssComponent: the guest's backup integration service as the host sees it. EnabledState
 * 2 (enabled in settings) for every VM; OperationalStatus tells whether the guest answers:
 * [2] OK or [3] (healthy on a negotiated protocol version: which one a VM shows is drawn from
 * the lab's seed, so a client must take both as healthy) when the service runs (also for
 * `failing`, whose VSS breaks only during a backup, as real failures do), [12] No Contact when
 * the guest has no integration services or is not running.
 */
import type { CimInstance } from "../../cim/mod";
import type { LabState, VmRecord } from "../host/model";
import { VSS_IC_GUID, vssComponentPath } from "../host/paths";
import { labSeed, mixSeed } from "../host/order";

export function vssComponentInstance(state: LabState, vm: VmRecord): CimInstance {
  const answering = vm.guest !== "none" && vm.integration !== "missing" && (vm.state === 2 || vm.state === 9);
  const status = answering ? (mixSeed(labSeed(state.config), vm.id) % 2 === 0 ? 2 : 3) : 12;
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
