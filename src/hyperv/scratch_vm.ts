/**
 * Making a new VM with one new disk, through the documented calls: Msvm_ImageManagementService
 * CreateVirtualHardDisk (a dynamic VHDX), Msvm_VirtualSystemManagementService DefineSystem (a
 * generation 2 VM with its configuration in a chosen folder) and AddResourceSettings (a
 * synthetic SCSI controller, a synthetic disk drive on it at location 0, the virtual hard disk in
 * that drive). `hvbackup doctor --deep` makes its scratch VM this way. The resource instances are
 * new instances of their classes with the documented properties set (ResourceType,
 * ResourceSubType, Parent, AddressOnParent, HostResource), as a script's CreateInstance() makes.
 */
import { HvbError } from "../base/mod";
import { MANAGEMENT_SERVICE } from "./export_import";
import { embedForHost } from "./host_classes";
import { type ClientContext, affectedElements, runMethod, servicePath, subjects } from "./jobs";
import { IMAGE_MANAGEMENT_SERVICE } from "./vhd_settings";

/** VHD type 3 (dynamic) and format 3 (VHDX) of Msvm_VirtualHardDiskSettingData. */
const DYNAMIC = 3;
const VHDX = 3;

/** Creates a new, empty dynamic VHDX of `virtualSize` bytes at `file` (its folder must exist). */
export async function createVirtualHardDisk(ctx: ClientContext, file: string, virtualSize: number): Promise<void> {
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  const settings = await embedForHost(ctx, { __CLASS: "Msvm_VirtualHardDiskSettingData", Type: DYNAMIC, Format: VHDX, Path: file, MaxInternalSize: virtualSize });
  await runMethod(ctx, svc, "CreateVirtualHardDisk", { VirtualDiskSettingData: settings }, subjects.file("virtual hard disk", file));
}

/** Defines a new generation 2 VM called `name` whose configuration lives in `dataRoot`; returns its Msvm_ComputerSystem path. */
export async function defineSystem(ctx: ClientContext, name: string, dataRoot: string): Promise<string> {
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  const settings = await embedForHost(ctx, { __CLASS: "Msvm_VirtualSystemSettingData", ElementName: name, VirtualSystemSubType: "Microsoft:Hyper-V:SubType:2", ConfigurationDataRoot: dataRoot });
  const r = await runMethod(ctx, svc, "DefineSystem", { SystemSettings: settings, ResourceSettings: [], ReferenceConfiguration: null }, subjects.vm(name));
  const direct = r.out["ResultingSystem"];
  if (typeof direct === "string" && direct !== "") return direct;
  const made = (await affectedElements(ctx, r, "Msvm_ComputerSystem"))[0];
  if (!made) throw new HvbError("HyperVMethodFailed", `DefineSystem of VM '${name}' succeeded but named no new VM`, { category: "InvalidData", target: name });
  return made.__PATH;
}

async function addResource(ctx: ClientContext, settingsPath: string, vmName: string, instance: { __CLASS: string; [k: string]: unknown }): Promise<string> {
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  const text = await embedForHost(ctx, instance);
  const r = await runMethod(ctx, svc, "AddResourceSettings", { AffectedConfiguration: settingsPath, ResourceSettings: [text] }, subjects.vm(vmName));
  const direct = r.out["ResultingResourceSettings"];
  const first = Array.isArray(direct) ? direct[0] : undefined;
  if (typeof first === "string" && first !== "") return first;
  const made = (await affectedElements(ctx, r, instance.__CLASS))[0];
  if (!made) throw new HvbError("HyperVMethodFailed", `AddResourceSettings on VM '${vmName}' succeeded but named no new ${instance.__CLASS}`, { category: "InvalidData", target: vmName });
  return made.__PATH;
}

/** Gives a VM (by its Msvm_VirtualSystemSettingData path) a SCSI controller with `file` in a disk drive at location 0. */
export async function attachNewDisk(ctx: ClientContext, vm: { settingsPath: string; name: string }, file: string): Promise<void> {
  const controller = await addResource(ctx, vm.settingsPath, vm.name, { __CLASS: "Msvm_ResourceAllocationSettingData", ResourceType: 6, ResourceSubType: "Microsoft:Hyper-V:Synthetic SCSI Controller" });
  const drive = await addResource(ctx, vm.settingsPath, vm.name, { __CLASS: "Msvm_ResourceAllocationSettingData", ResourceType: 17, ResourceSubType: "Microsoft:Hyper-V:Synthetic Disk Drive", Parent: controller, AddressOnParent: "0" });
  await addResource(ctx, vm.settingsPath, vm.name, { __CLASS: "Msvm_StorageAllocationSettingData", ResourceType: 31, ResourceSubType: "Microsoft:Hyper-V:Virtual Hard Disk", Parent: drive, HostResource: [file] });
}
