/**
 * What the lab host does to virtual disk files, for real, through the VHDX and VHD libraries:
 * create base disks, put a differencing child on top (checkpoint), fold a child back into its
 * parent (merge), apply guest writes, and copy a chain into one new file (export). A file changed
 * in place is first unshared from any shadow copy that froze it (copy_on_write.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { detectDiskFormat, openDisk } from "../../disks/mod";
import type { VirtualDisk } from "../../disk/mod";
import { createVhdx, mergeVhdxIntoParent, relativeLocatorPath, resolveParentPath, VhdxImage } from "../../vhdx/mod";
import { serializeParentLocator } from "../../vhdx/mod";
import { createVhd, createVhdDifferencing, mergeVhdIntoParent, VhdImage } from "../../vhd/mod";
import type { DiskFormat } from "./model";
import { unshareBeforeChange } from "./copy_on_write";

/** Creates an empty dynamic base disk of `format`. */
export function createBaseDisk(file: string, format: DiskFormat, virtualSize: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (format === "vhdx") createVhdx(file, { virtualSize }).close();
  else createVhd(file, { virtualSize, type: "dynamic" });
}

/** Creates a differencing child of `parent` at `child`, in the parent's format. */
export function createChildDisk(parent: string, child: string, format: DiskFormat): void {
  if (format === "vhdx") createVhdx(child, { parentPath: parent }).close();
  else createVhdDifferencing(child, { parentPath: parent });
}

/**
 * Folds `child` into its parent (the parent keeps its path). The child file stays: the caller
 * deletes it once the committed state no longer references it.
 */
export function mergeChildDisk(child: string, format: DiskFormat): void {
  // A child the guest never wrote to holds nothing to fold: the parent is left as it is (a
  // recovery checkpoint converted within seconds usually is such a child).
  if (format === "vhdx" && !vhdxHoldsData(child)) return;
  const parent = parentFileOf(child);
  if (parent !== undefined) unshareBeforeChange(parent);
  if (format === "vhdx") mergeVhdxIntoParent(child);
  else mergeVhdIntoParent(child);
}

function vhdxHoldsData(file: string): boolean {
  const own = VhdxImage.open(file, { noParent: true });
  try {
    return own.extents().some((e) => e.kind !== "parent");
  } finally {
    own.close();
  }
}

/** Writes `data` at `offset` into the top file `file` (as a guest write lands there). */
export function writeDisk(file: string, offset: number, data: Uint8Array): void {
  unshareBeforeChange(file);
  const disk = openDisk(file, { writable: true });
  try {
    if (offset + data.length > disk.virtualSize) {
      throw new HvbError("LabWriteOutOfRange", `Cannot write ${data.length} bytes at ${offset}: the disk '${file}' has ${disk.virtualSize} bytes`, {
        category: "InvalidArgument",
        target: file,
      });
    }
    disk.write(data, offset);
    disk.flush();
  } finally {
    disk.close();
  }
}

/** Opens a disk read-only for inspection; the caller closes it. */
export function openForRead(file: string): VirtualDisk {
  return openDisk(file);
}

/** Facts about one disk file, as Msvm_VirtualHardDiskSettingData reports them. */
export interface DiskFacts {
  format: DiskFormat;
  type: "fixed" | "dynamic" | "differencing";
  virtualSize: number;
  blockSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  virtualDiskId: string;
  parentPath: string | undefined;
  fileSize: number;
}

export function diskFacts(file: string): DiskFacts {
  const disk = openDisk(file);
  try {
    const fileSize = fs.statSync(file).size;
    if (disk instanceof VhdxImage) {
      return {
        format: "vhdx",
        type: disk.type,
        virtualSize: disk.virtualSize,
        blockSize: disk.blockSize,
        logicalSectorSize: disk.logicalSectorSize,
        physicalSectorSize: disk.physicalSectorSize,
        virtualDiskId: disk.virtualDiskId,
        parentPath: disk.parent?.path,
        fileSize,
      };
    }
    const d = disk as VirtualDisk & { header?: { blockSize?: number } };
    return {
      format: "vhd",
      type: disk.type,
      virtualSize: disk.virtualSize,
      blockSize: d.header?.blockSize ?? 0,
      logicalSectorSize: 512,
      physicalSectorSize: 512,
      virtualDiskId: "",
      parentPath: disk.parent?.path,
      fileSize,
    };
  } finally {
    disk.close();
  }
}

/**
 * Copies what the guest sees through the chain ending at `source` into a new dynamic file
 * `target` of the same format and size (a VHDX copy keeps the VirtualDiskId).
 */
export function copyFlattened(source: string, target: string, format: DiskFormat): void {
  const src = openDisk(source);
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    let dst: VirtualDisk;
    if (format === "vhdx") dst = createVhdx(target, { virtualSize: src.virtualSize, virtualDiskId: (src as VhdxImage).virtualDiskId });
    else {
      createVhd(target, { virtualSize: src.virtualSize, type: "dynamic" });
      dst = VhdImage.open(target, { writable: true });
    }
    try {
      const buf = Buffer.alloc(4 * 1024 * 1024);
      for (const r of src.dataRanges("chain")) {
        for (let p = r.offset; p < r.offset + r.length; p += buf.length) {
          const part = buf.subarray(0, Math.min(buf.length, r.offset + r.length - p));
          src.read(part, p);
          dst.write(part, p);
        }
      }
      dst.flush();
    } finally {
      dst.close();
    }
  } finally {
    src.close();
  }
}

/** MS-VHDX 2.6.2: the Parent Locator metadata item GUID. */
const PARENT_LOCATOR_ITEM = "a8d35f2d-b30b-454d-abf7-d3d84834ab0c";

/** The resolved parent file of a differencing disk, or undefined for a base disk. */
export function parentFileOf(file: string): string | undefined {
  if (detectDiskFormat(file) === "vhdx") {
    // Read only the locator: the parent may just have been merged into (new DataWriteGuid).
    const own = VhdxImage.open(file, { noParent: true });
    try {
      return own.parentLocator ? path.resolve(resolveParentPath(file, own.parentLocator)) : undefined;
    } finally {
      own.close();
    }
  }
  const disk = openDisk(file);
  try {
    return disk.parent ? path.resolve(disk.parent.path) : undefined;
  } finally {
    disk.close();
  }
}

/**
 * Points the differencing disk `file` at `parent`: a new parent locator (relative path and
 * parent_linkage = the parent's current DataWriteGuid) written through the VHDX log. Legacy
 * VHD children are not supported (the lab never needs it for VHD: see docs/lab-fidelity.md).
 */
export function setParentFile(file: string, parent: string, format: DiskFormat): void {
  if (format !== "vhdx") {
    throw new HvbError("LabNotImplemented", `Cannot re-point '${file}' at a new parent: not implemented for VHD`, { category: "NotImplemented", target: file });
  }
  const p = VhdxImage.open(parent);
  let linkage: string;
  try {
    linkage = p.dataWriteGuid;
  } finally {
    p.close();
  }
  unshareBeforeChange(file);
  const child = VhdxImage.open(file, { writable: true, noParent: true });
  try {
    const entries: Record<string, string> = { parent_linkage: `{${linkage}}`, relative_path: relativeLocatorPath(file, parent) };
    child.rewriteMetadataItem(PARENT_LOCATOR_ITEM, serializeParentLocator(entries));
    child.flush();
  } finally {
    child.close();
  }
}

/** The format of a disk file, or undefined when it is not a virtual disk. */
export function detectFormatSafe(file: string): DiskFormat | undefined {
  try {
    return detectDiskFormat(file);
  } catch {
    return undefined;
  }
}
