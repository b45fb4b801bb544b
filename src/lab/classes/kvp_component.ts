/**
 * Msvm_KvpExchangeComponent: the key-value pair exchange integration service of a VM. While the
 * guest runs its integration services, GuestIntrinsicExchangeItems holds the items the guest's
 * OS publishes about itself, each an embedded Msvm_KvpExchangeDataItem as CIM-DTD 2.0 text (as
 * real WMI returns it). The lab's Windows guests publish OSName and OSPlatformId 2 (Windows NT);
 * its Linux guests publish OSName and the rest hv_kvp_daemon sends, without OSPlatformId
 * (assumption, docs/lab-fidelity.md §8 A12). A guest that is off, or has no integration
 * services, publishes nothing (an empty array).
 */
import { type CimInstance, toCimDtd20 } from "../../cim/mod";
import type { LabState, VmRecord } from "../host/model";
import { KVP_IC_GUID, kvpComponentPath } from "../host/paths";
import { classSchema } from "./schemas";

/** What each lab guest says about its OS. */
const GUEST_ITEMS: Record<"windows" | "linux", Array<[string, string]>> = {
  windows: [
    ["OSName", "Windows Server 2022 Datacenter"],
    ["OSVersion", "10.0.20348"],
    ["OSPlatformId", "2"],
    ["ProcessorArchitecture", "9"],
    ["IntegrationServicesVersion", "10.0.20348"],
  ],
  linux: [
    ["OSName", "Ubuntu"],
    ["OSVersion", "22.04.4 LTS (Jammy Jellyfish)"],
    ["OSMajorVersion", "22"],
    ["OSMinorVersion", "04"],
    ["ProcessorArchitecture", "x86_64"],
    ["IntegrationServicesVersion", "3.1"],
  ],
};

/** The guest's intrinsic items as WMI returns them (CIM-DTD 2.0 text), or [] when it publishes none. */
export function guestIntrinsicItems(state: LabState, vm: VmRecord): string[] {
  const answering = vm.guest !== "none" && vm.integration !== "missing" && (vm.state === 2 || vm.state === 9);
  if (!answering) return [];
  const schema = classSchema("Msvm_KvpExchangeDataItem", state.config.hostVersion)!;
  return GUEST_ITEMS[vm.guest as "windows" | "linux"].map(([Name, Data]) =>
    toCimDtd20(schema, { __CLASS: "Msvm_KvpExchangeDataItem", Caption: "Key-Value Pair Exchange Data Item", Description: "Microsoft Key-Value Pair Exchange Data Item", ElementName: "Key-Value Pair Exchange Data Item", Source: 2, Name, Data }),
  );
}

export function kvpComponentInstance(state: LabState, vm: VmRecord): CimInstance {
  const items = guestIntrinsicItems(state, vm);
  return {
    __CLASS: "Msvm_KvpExchangeComponent",
    __PATH: kvpComponentPath(state.hostName, vm.id),
    Caption: "Key-Value Pair Exchange",
    Description: "Microsoft Key-Value Pair Exchange Service",
    ElementName: "Key-Value Pair Exchange",
    Name: "Key-Value Pair Exchange",
    CreationClassName: "Msvm_KvpExchangeComponent",
    DeviceID: `Microsoft:${vm.id}\\${KVP_IC_GUID}`,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: vm.id,
    EnabledState: 2,
    EnabledDefault: 7,
    HealthState: items.length > 0 ? 5 : 0,
    OperationalStatus: [items.length > 0 ? 2 : 12],
    StatusDescriptions: [items.length > 0 ? "OK" : "No Contact"],
    GuestIntrinsicExchangeItems: items,
    GuestExchangeItems: [],
  };
}
