/**
 * Renaming a VM or planned VM: Msvm_VirtualSystemManagementService.ModifySystemSettings with
 * its Msvm_VirtualSystemSettingData sent back with ElementName changed (reference §6.6).
 */
import { MANAGEMENT_SERVICE } from "./export_import";
import { type ClientContext, runMethod, servicePath } from "./jobs";
import type { PlannedSystem, VmInfo } from "./types";
import { toEmbedded } from "../cim/mod";
import { embedForHost } from "./host_classes";

/** Gives a VM or planned VM a new display name (ElementName); its id does not change. */
export async function renameSystem(ctx: ClientContext, target: Pick<VmInfo | PlannedSystem, "settingsPath" | "name" | "path">, newName: string): Promise<void> {
  const vssd = await ctx.session.getInstance(target.settingsPath);
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  const subject = /Msvm_PlannedComputerSystem/i.test(target.path) ? `planned VM '${target.name}'` : `VM '${target.name}'`;
  await runMethod(ctx, svc, "ModifySystemSettings", { SystemSettings: await embedForHost(ctx, toEmbedded(vssd, { ElementName: newName })) }, subject);
}
