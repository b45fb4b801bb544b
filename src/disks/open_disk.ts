/**
 * Opens a virtual disk file of either format, chosen by its signature: `vhdxfile` at offset 0
 * is VHDX; `conectix` in the footer (last 512 bytes, or the copy at offset 0 of a dynamic or
 * differencing VHD) is legacy VHD.
 */
import * as fs from "node:fs";
import { HvbError, openRegularFile } from "../base/mod";
import type { VirtualDisk } from "../disk/mod";
import { VhdxImage } from "../vhdx/mod";
import { VhdImage } from "../vhd/mod";

export type DiskFileFormat = "vhdx" | "vhd";

export interface OpenDiskOptions {
  writable?: boolean;
  /** Parent to use instead of the one the child's parent locator names. */
  parentPath?: string;
}

/**
 * Detects the format of a virtual disk file from its signature.
 *
 * @example
 * detectDiskFormat("disk.avhdx"); // "vhdx"
 */
export function detectDiskFormat(path: string): DiskFileFormat {
  const fd = openRegularFile(path, "r", "disk file");
  try {
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, 0);
    if (head.toString("latin1") === "vhdxfile") return "vhdx";
    if (head.toString("latin1") === "conectix") return "vhd";
    const size = fs.fstatSync(fd).size;
    if (size >= 512) {
      const foot = Buffer.alloc(8);
      fs.readSync(fd, foot, 0, 8, size - 512);
      if (foot.toString("latin1") === "conectix") return "vhd";
    }
  } finally {
    fs.closeSync(fd);
  }
  throw new HvbError("DiskFormatUnknown", `Cannot open '${path}': not a VHDX or VHD file`, {
    category: "InvalidData",
    target: path,
  });
}

/** Opens `path` as VHDX or VHD, whichever its signature says. */
export function openDisk(path: string, options: OpenDiskOptions = {}): VirtualDisk {
  const format = detectDiskFormat(path);
  const opts = { writable: options.writable ?? false, ...(options.parentPath === undefined ? {} : { parentPath: options.parentPath }) };
  return format === "vhdx" ? VhdxImage.open(path, opts) : VhdImage.open(path, opts);
}
