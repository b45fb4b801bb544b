/**
 * Msvm_ImageManagementService.GetVirtualHardDiskSettingData (reference §5.2): the type, format,
 * parent and virtual size of a VHD/VHDX file, from the embedded
 * Msvm_VirtualHardDiskSettingData it returns.
 */
import { embeddedInstance } from "../cim/mod";
import { type ClientContext, runQuery, servicePath, subjects } from "./jobs";
import type { VhdSettings } from "./types";
import { numberOrUndefined, requireNumber, stringOrUndefined } from "../cim/mod";

export const IMAGE_MANAGEMENT_SERVICE = "Msvm_ImageManagementService";

const TYPES: Record<number, VhdSettings["type"]> = { 2: "fixed", 3: "dynamic", 4: "differencing" };
const FORMATS: Record<number, VhdSettings["format"]> = { 2: "vhd", 3: "vhdx", 4: "vhdset" };

/** Parses a Msvm_VirtualHardDiskSettingData (pure); `path` is used when the instance has none. */
export function vhdSettingsFrom(sd: Record<string, unknown>, path: string): VhdSettings {
  return {
    path: stringOrUndefined(sd["Path"]) ?? path,
    type: TYPES[numberOrUndefined(sd["Type"]) ?? 0] ?? "unknown",
    format: FORMATS[numberOrUndefined(sd["Format"]) ?? 0] ?? "unknown",
    parentPath: stringOrUndefined(sd["ParentPath"]),
    virtualSize: requireNumber(sd["MaxInternalSize"], "Msvm_VirtualHardDiskSettingData.MaxInternalSize"),
    blockSize: numberOrUndefined(sd["BlockSize"]),
    logicalSectorSize: numberOrUndefined(sd["LogicalSectorSize"]),
    physicalSectorSize: numberOrUndefined(sd["PhysicalSectorSize"]),
    virtualDiskId: stringOrUndefined(sd["VirtualDiskId"]),
  };
}

/** Reads the settings of the virtual hard disk file at `path`. */
export async function getVhdSettings(ctx: ClientContext, path: string): Promise<VhdSettings> {
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  // Documented to answer 0, or 4096 with a Job: runQuery waits and makes sure SettingData came.
  const { out } = await runQuery(ctx, svc, "GetVirtualHardDiskSettingData", { Path: path }, subjects.file("disk", path), ["SettingData"]);
  return vhdSettingsFrom(embeddedInstance(out["SettingData"], "GetVirtualHardDiskSettingData SettingData"), path);
}
