/**
 * Msvm_VirtualSystemManagementService DefineSystem and AddResourceSettings, as far as a new
 * VM with one SCSI controller, synthetic disk drives and virtual hard disks needs them (what
 * `hvbackup doctor --deep` makes its scratch VM with). Family A return codes.
 *
 * DefineSystem takes the VSSD's ElementName, VirtualSystemSubType (generation) and
 * ConfigurationDataRoot; ResourceSettings must be empty and ReferenceConfiguration null here
 * (the lab adds devices only through AddResourceSettings). AddResourceSettings takes, one
 * instance at a time, a synthetic SCSI controller (ResourceType 6), a synthetic disk drive
 * (17) whose Parent is a controller of the configuration and whose AddressOnParent is free, and
 * a virtual hard disk (Msvm_StorageAllocationSettingData, 31) whose Parent is an empty drive and
 * whose HostResource names an existing VHD/VHDX file. Anything else is Invalid Parameter.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { detectFormatSafe } from "../host/disk_files";
import { configVersionHasRct, EnabledState, newGuid, type DeviceSlot, type VmRecord } from "../host/model";
import { MAX_CONFIG_VERSION } from "../host/host_versions";
import { computerSystemPath, controllerInstanceId, diskDeviceKey, diskInstanceId, driveInstanceId, instanceIdPath } from "../host/paths";
import { newRct } from "../host/rct";
import { RESOURCE } from "../classes/settings";
import { A, EFFECT_CREATE, type MethodContext, type MethodHandler, prop, sync } from "./method_support";

/** SCSI controllers per VM and locations per controller (Hyper-V: 4 and 64). */
const MAX_SCSI_CONTROLLERS = 4;
const SCSI_LOCATIONS = 64;

export const defineSystem: MethodHandler = (ctx, args) => {
  const vssd = args.embedded("SystemSettings");
  if (!vssd || String(vssd["__CLASS"]).toLowerCase() !== "msvm_virtualsystemsettingdata") return sync(A.InvalidParameter);
  if ((args.embeddedArray("ResourceSettings") ?? []).length > 0) return sync(A.NotSupported); // lab: devices come through AddResourceSettings
  if (args.ref("ReferenceConfiguration") !== undefined) return sync(A.NotSupported);
  const name = prop(vssd, "ElementName");
  if (typeof name !== "string" || name.trim() === "") return sync(A.InvalidParameter);
  const subType = String(prop(vssd, "VirtualSystemSubType") ?? "Microsoft:Hyper-V:SubType:2");
  const generation = subType === "Microsoft:Hyper-V:SubType:1" ? 1 : subType === "Microsoft:Hyper-V:SubType:2" ? 2 : undefined;
  if (generation === undefined) return sync(A.InvalidParameter);
  const root = prop(vssd, "ConfigurationDataRoot");
  const dataRoot = typeof root === "string" && root !== "" ? path.resolve(root) : ctx.state.config.defaultExternalDataRoot;
  const id = newGuid();
  const vm: VmRecord = {
    id,
    name,
    state: EnabledState.Off,
    // A new VM gets the host's highest configuration version (New-VM without -Version).
    configVersion: MAX_CONFIG_VERSION[ctx.state.config.hostVersion],
    hardware: { generation, scsiControllerId: undefined },
    guest: "none",
    integration: "missing",
    disks: [],
    currentSnapshot: undefined,
    dataRoot,
    notes: [],
    createdAt: ctx.now,
    stateChangedAt: ctx.now,
    ...((ctx.state.nodes?.length ?? 0) > 0 ? { node: ctx.state.hostName } : {}),
  };
  fs.mkdirSync(path.join(dataRoot, "Virtual Machines"), { recursive: true });
  ctx.state.vms.push(vm);
  const vmPath = computerSystemPath(ctx.state.hostName, id);
  return { kind: "job", description: "Defining virtual machine", affected: [{ path: vmPath, effects: [EFFECT_CREATE] }], out: { ResultingSystem: vmPath } };
};

/** The VM whose configuration (VSSD) `ref` names. */
export function vmOfConfiguration(ctx: MethodContext, ref: string | undefined): VmRecord | undefined {
  if (!ref) return undefined;
  const inst = ctx.resolve(ref);
  if (!inst || String(inst.__CLASS).toLowerCase() !== "msvm_virtualsystemsettingdata") return undefined;
  const m = /^Microsoft:([0-9A-Fa-f-]{36})$/.exec(String(inst["InstanceID"] ?? ""));
  return m ? ctx.state.vms.find((v) => v.id.toLowerCase() === m[1]!.toLowerCase()) : undefined;
}

/** Index of the SCSI controller of `vm` whose RASD `ref` names, or undefined. */
function scsiControllerOf(ctx: MethodContext, vm: VmRecord, ref: unknown): number | undefined {
  if (typeof ref !== "string" || !ctx.resolve(ref)) return undefined;
  const ids = vm.hardware.scsiControllerId ? [vm.hardware.scsiControllerId, ...(vm.hardware.extraScsiControllerIds ?? [])] : [];
  const i = ids.findIndex((g, index) => ref === instanceIdPath(ctx.state.hostName, "Msvm_ResourceAllocationSettingData", controllerInstanceId(vm.id, "scsi", index, g)));
  return i < 0 ? undefined : i;
}

function keyOf(vm: VmRecord, slot: DeviceSlot): string {
  const guid = slot.controllerIndex === 0 ? vm.hardware.scsiControllerId : vm.hardware.extraScsiControllerIds?.[slot.controllerIndex - 1];
  return diskDeviceKey("scsi", slot.controllerIndex, slot.address, guid);
}

export const addResourceSettings: MethodHandler = (ctx, args) => {
  const vm = vmOfConfiguration(ctx, args.ref("AffectedConfiguration"));
  const items = args.embeddedArray("ResourceSettings");
  if (!vm || !items || items.length === 0) return sync(A.InvalidParameter);
  // Devices are added to a VM that is off (the lab does not hot-add).
  if (vm.state !== EnabledState.Off) return sync(A.InvalidState);
  const host = ctx.state.hostName;
  const resulting: string[] = [];
  for (const item of items) {
    const cls = String(item["__CLASS"]).toLowerCase();
    const type = Number(prop(item, "ResourceType"));
    const subType = String(prop(item, "ResourceSubType") ?? "");
    if (cls === "msvm_resourceallocationsettingdata" && type === RESOURCE.scsi.type && subType === RESOURCE.scsi.subType) {
      const count = vm.hardware.scsiControllerId ? 1 + (vm.hardware.extraScsiControllerIds?.length ?? 0) : 0;
      if (count >= MAX_SCSI_CONTROLLERS) return sync(A.InvalidParameter);
      const guid = newGuid();
      if (count === 0) vm.hardware.scsiControllerId = guid;
      else vm.hardware.extraScsiControllerIds = [...(vm.hardware.extraScsiControllerIds ?? []), guid];
      resulting.push(instanceIdPath(host, "Msvm_ResourceAllocationSettingData", controllerInstanceId(vm.id, "scsi", count, guid)));
    } else if (cls === "msvm_resourceallocationsettingdata" && type === RESOURCE.drive.type && subType === RESOURCE.drive.subType) {
      const controllerIndex = scsiControllerOf(ctx, vm, prop(item, "Parent"));
      const address = Number(prop(item, "AddressOnParent"));
      if (controllerIndex === undefined || !Number.isInteger(address) || address < 0 || address >= SCSI_LOCATIONS) return sync(A.InvalidParameter);
      const taken = [...vm.disks, ...(vm.hardware.emptyDrives ?? [])].some((d) => d.controller === "scsi" && d.controllerIndex === controllerIndex && d.address === address);
      if (taken) return sync(A.InvalidParameter);
      const slot: DeviceSlot = { controller: "scsi", controllerIndex, address };
      vm.hardware.emptyDrives = [...(vm.hardware.emptyDrives ?? []), slot];
      resulting.push(instanceIdPath(host, "Msvm_ResourceAllocationSettingData", driveInstanceId(vm.id, keyOf(vm, slot))));
    } else if (cls === "msvm_storageallocationsettingdata" && type === RESOURCE.vhd.type && subType === RESOURCE.vhd.subType) {
      const parent = prop(item, "Parent");
      const slot = (vm.hardware.emptyDrives ?? []).find((s) => parent === instanceIdPath(host, "Msvm_ResourceAllocationSettingData", driveInstanceId(vm.id, keyOf(vm, s))));
      const hr = prop(item, "HostResource");
      const file = Array.isArray(hr) && hr.length === 1 ? String(hr[0]) : undefined;
      if (!slot || !file || !fs.existsSync(file)) return sync(A.InvalidParameter);
      const format = detectFormatSafe(file);
      if (!format) return sync(A.InvalidParameter);
      const deviceKey = keyOf(vm, slot);
      vm.hardware.emptyDrives = (vm.hardware.emptyDrives ?? []).filter((s) => s !== slot);
      vm.disks.push({ deviceKey, ...slot, format, path: path.resolve(file), baseName: path.parse(file).name, rct: newRct(format === "vhdx" && configVersionHasRct(vm.configVersion)) });
      resulting.push(instanceIdPath(host, "Msvm_StorageAllocationSettingData", diskInstanceId(vm.id, deviceKey)));
    } else {
      return sync(A.InvalidParameter);
    }
  }
  return { kind: "job", description: "Adding resources", affected: [{ path: computerSystemPath(host, vm.id), effects: [EFFECT_CREATE] }], out: { ResultingResourceSettings: resulting } };
};
