/**
 * Msvm_ImageManagementService.CreateVirtualHardDisk (family B). A VHD Set (Format 4) is made by
 * vhd_set_methods.ts; here a new dynamic or fixed VHD or VHDX: VirtualDiskSettingData is an
 * Msvm_VirtualHardDiskSettingData with Type (2 fixed, 3 dynamic), Format (2 VHD, 3 VHDX), an
 * absolute Path in an existing folder and MaxInternalSize (a multiple of 512). Differencing disks
 * (Type 4) are not made (Not Supported). An existing file is not overwritten (Invalid State, as
 * for a VHD Set). The lab stores a fixed disk as a dynamic one: only guest-visible bytes matter.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createBaseDisk } from "../host/disk_files";
import { B, type MethodHandler, prop, sync } from "./method_support";
import { createVirtualHardDisk as createVhdSet } from "./vhd_set_methods";

/** Msvm_VirtualHardDiskSettingData.Format of a VHD Set. */
const FORMAT_VHDSET = 4;

export const createVirtualHardDisk: MethodHandler = (ctx, args) => {
  const sd = args.embedded("VirtualDiskSettingData");
  if (!sd || String(sd["__CLASS"]).toLowerCase() !== "msvm_virtualharddisksettingdata") return sync(B.InvalidParameter);
  const type = Number(prop(sd, "Type"));
  const format = Number(prop(sd, "Format"));
  if (format === FORMAT_VHDSET) return createVhdSet(ctx, args);
  const file = prop(sd, "Path");
  const size = Number(prop(sd, "MaxInternalSize"));
  if (type === 4) return sync(B.NotSupported);
  if ((type !== 2 && type !== 3) || (format !== 2 && format !== 3)) return sync(B.InvalidParameter);
  if (typeof file !== "string" || !path.isAbsolute(file) || !Number.isSafeInteger(size) || size <= 0 || size % 512 !== 0) return sync(B.InvalidParameter);
  if (fs.existsSync(file)) return sync(B.InvalidState);
  if (!fs.existsSync(path.dirname(file))) return sync(B.FileNotFoundOrInUse);
  createBaseDisk(file, format === 3 ? "vhdx" : "vhd", size);
  return { kind: "job", description: "Creating virtual hard disk", affected: [] };
};
