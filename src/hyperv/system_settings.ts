/**
 * Changing a VM or planned VM: repointing a disk (ModifyResourceSettings with the
 * Msvm_StorageAllocationSettingData's HostResource changed, reference §6.6, §13.3 step 3),
 * state changes (Msvm_ComputerSystem.RequestStateChange, §1) and removal (DestroySystem, §6.5).
 */
import { HvbError } from "../base/mod";
import { readConfiguration } from "./configuration";
import { MANAGEMENT_SERVICE } from "./export_import";
import { type ClientContext, type Subject, runMethod, servicePath, subjects } from "./jobs";
import { REQUESTED_STATE, type PlannedSystem, type RequestableState, type VmDisk, type VmInfo } from "./types";
import { toEmbedded } from "../cim/mod";
import { embedForHost } from "./host_classes";

function subjectOf(target: { name: string; path: string }): Subject {
  return /Msvm_PlannedComputerSystem/i.test(target.path) ? subjects.plannedVm(target.name) : subjects.vm(target.name);
}

/**
 * Points disk `diskIndex` of a VM or planned VM at `newPath` and returns the disk as it is now.
 * The whole storage setting is sent back with only HostResource changed, as the host expects.
 */
export async function setDiskPath(ctx: ClientContext, target: VmInfo | PlannedSystem, diskIndex: number, newPath: string): Promise<VmDisk> {
  const before = await readConfiguration(ctx, target.settingsPath);
  const disk = before.disks.find((d) => d.index === diskIndex);
  if (!disk) {
    throw new HvbError("DiskNotFound", `Cannot repoint disk ${diskIndex} of ${subjectOf(target).text}: it has ${before.disks.length} disk(s)`, {
      category: "ObjectNotFound",
      target: target.name,
    });
  }
  const sasd = await ctx.session.getInstance(disk.sasdPath);
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  await runMethod(ctx, svc, "ModifyResourceSettings", { ResourceSettings: [await embedForHost(ctx, toEmbedded(sasd, { HostResource: [newPath] }))] }, subjectOf(target));
  const after = await readConfiguration(ctx, target.settingsPath);
  const now = after.disks.find((d) => d.instanceId === disk.instanceId) ?? after.disks.find((d) => d.index === diskIndex);
  if (!now) throw new HvbError("DiskNotFound", `Disk ${diskIndex} of ${subjectOf(target).text} vanished after ModifyResourceSettings`, { category: "InvalidData", target: target.name });
  return now;
}

/**
 * Points the shared disk at `location` (a VHD Set or shared VHDX attachment) of a VM or planned
 * VM at `newPath`, the same way as {@link setDiskPath}.
 */
export async function setSharedDiskPath(ctx: ClientContext, target: VmInfo | PlannedSystem, location: string, newPath: string): Promise<void> {
  const before = await readConfiguration(ctx, target.settingsPath);
  const disk = before.sharedDisks.find((d) => d.location === location.toLowerCase());
  if (!disk) {
    throw new HvbError("DiskNotFound", `Cannot repoint the shared disk at '${location}' of ${subjectOf(target).text}: it has ${before.sharedDisks.length} shared disk(s) (${before.sharedDisks.map((d) => d.location).join(", ") || "none"})`, {
      category: "ObjectNotFound",
      target: target.name,
    });
  }
  const sasd = await ctx.session.getInstance(disk.sasdPath);
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  await runMethod(ctx, svc, "ModifyResourceSettings", { ResourceSettings: [await embedForHost(ctx, toEmbedded(sasd, { HostResource: [newPath] }))] }, subjectOf(target));
}

/** Asks for a state change (RequestedState 2 Running, 3 Off, 6 Saved, 9 Paused, 11 Reset) and waits for it. */
export async function requestStateChange(ctx: ClientContext, vm: Pick<VmInfo, "path" | "name">, state: RequestableState): Promise<void> {
  await runMethod(ctx, vm.path, "RequestStateChange", { RequestedState: REQUESTED_STATE[state] }, subjects.vm(vm.name));
}

/** Removes a VM or planned VM and its definition from the host (DestroySystem); virtual hard disk files are not deleted. */
export async function destroySystem(ctx: ClientContext, system: { path: string; name: string }): Promise<void> {
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  await runMethod(ctx, svc, "DestroySystem", { AffectedSystem: system.path }, subjectOf(system));
}
