import { isValidBlockSize } from "./bat";
import { StructureError } from "./errors";
import type { FileIo } from "./file_io";
import { readGuid } from "./guid";
import { type MetadataEntry, parseMetadataTable } from "./metadata_table";
import { type ParentLocatorEntries, parseParentLocator } from "./parent_locator";
import type { RegionEntry } from "./region_table";
import {
  MAX_VIRTUAL_SIZE,
  META_FILE_PARAMETERS,
  META_LOGICAL_SECTOR_SIZE,
  META_PAGE83,
  META_PARENT_LOCATOR,
  META_PHYSICAL_SECTOR_SIZE,
  META_VIRTUAL_DISK_SIZE,
  METADATA_TABLE_SIZE,
} from "./_layout";

/** The values of a file's system metadata items (MS-VHDX 2.6.2), read and validated. */
export interface MetadataValues {
  entries: MetadataEntry[];
  blockSize: number;
  leaveBlockAllocated: boolean;
  hasParent: boolean;
  virtualSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  virtualDiskId: string;
  parentLocator: ParentLocatorEntries | undefined;
}

const KNOWN_ITEMS = new Set([
  META_FILE_PARAMETERS,
  META_VIRTUAL_DISK_SIZE,
  META_PAGE83,
  META_LOGICAL_SECTOR_SIZE,
  META_PHYSICAL_SECTOR_SIZE,
  META_PARENT_LOCATOR,
]);

/**
 * Reads the metadata table of `region` and the items it names: File Parameters, Virtual Disk
 * Size, Page 83 Data, both sector sizes and (with HasParent) the Parent Locator. An unknown
 * item marked required makes the file unreadable (MS-VHDX 2.6.1.2).
 */
export function readMetadataValues(io: FileIo, region: RegionEntry): MetadataValues {
  const entries = parseMetadataTable(io.readExact(region.fileOffset, METADATA_TABLE_SIZE, "metadata table"), region.length);
  const item = (id: string, what: string, size?: number): Buffer => {
    const e = entries.find((x) => x.itemId === id && !x.isUser);
    if (!e) throw new StructureError("metadata", `required item ${what} (${id}) is missing`);
    if (size !== undefined && e.length !== size) throw new StructureError(`metadata item ${what}`, `length is ${e.length}, expected ${size}`);
    return io.readExact(region.fileOffset + e.offset, e.length, `metadata item ${what}`);
  };
  for (const e of entries) {
    if (e.isRequired && (e.isUser || !KNOWN_ITEMS.has(e.itemId))) {
      throw new StructureError("metadata", `unknown required item ${e.itemId}`);
    }
  }
  const fp = item(META_FILE_PARAMETERS, "File Parameters", 8);
  const blockSize = fp.readUInt32LE(0);
  const flags = fp.readUInt32LE(4);
  if (!isValidBlockSize(blockSize)) throw new StructureError("metadata item File Parameters", `BlockSize ${blockSize} is not a power of two from 1 MiB to 256 MiB`);
  if ((flags & ~3) !== 0) throw new StructureError("metadata item File Parameters", `reserved flag bits are set (${flags})`);
  const hasParent = (flags & 2) !== 0;
  const virtualSize = Number(item(META_VIRTUAL_DISK_SIZE, "Virtual Disk Size", 8).readBigUInt64LE(0));
  const logicalSectorSize = item(META_LOGICAL_SECTOR_SIZE, "Logical Sector Size", 4).readUInt32LE(0);
  const physicalSectorSize = item(META_PHYSICAL_SECTOR_SIZE, "Physical Sector Size", 4).readUInt32LE(0);
  if (logicalSectorSize !== 512 && logicalSectorSize !== 4096) throw new StructureError("metadata item Logical Sector Size", `is ${logicalSectorSize}, expected 512 or 4096`);
  if (physicalSectorSize !== 512 && physicalSectorSize !== 4096) throw new StructureError("metadata item Physical Sector Size", `is ${physicalSectorSize}, expected 512 or 4096`);
  if (virtualSize === 0 || virtualSize > MAX_VIRTUAL_SIZE || virtualSize % logicalSectorSize !== 0) {
    throw new StructureError("metadata item Virtual Disk Size", `${virtualSize} is not a non-zero multiple of ${logicalSectorSize} up to 64 TiB`);
  }
  const virtualDiskId = readGuid(item(META_PAGE83, "Page 83 Data", 16), 0);
  let parentLocator: ParentLocatorEntries | undefined;
  if (hasParent) {
    const pl = entries.find((x) => x.itemId === META_PARENT_LOCATOR && !x.isUser);
    if (!pl) throw new StructureError("metadata", "HasParent is set but the Parent Locator item is missing");
    parentLocator = parseParentLocator(io.readExact(region.fileOffset + pl.offset, pl.length, "metadata item Parent Locator"));
  }
  return {
    entries,
    blockSize,
    leaveBlockAllocated: (flags & 1) !== 0 && !hasParent,
    hasParent,
    virtualSize,
    logicalSectorSize,
    physicalSectorSize,
    virtualDiskId,
    parentLocator,
  };
}
