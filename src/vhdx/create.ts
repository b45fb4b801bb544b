import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import { batGeometry, isValidBlockSize } from "./bat";
import { newGuid, normalizeGuid, writeGuid, NIL_GUID } from "./guid";
import { serializeHeader } from "./header";
import { type MetadataEntry, serializeMetadataTable } from "./metadata_table";
import { type ParentLocatorEntries, serializeParentLocator } from "./parent_locator";
import { relativeLocatorPath } from "./parent_path";
import { serializeRegionTable } from "./region_table";
import { VhdxImage } from "./vhdx_image";
import {
  CREATOR,
  HEADER1_OFFSET,
  HEADER2_OFFSET,
  MAX_VIRTUAL_SIZE,
  META_FILE_PARAMETERS,
  META_LOGICAL_SECTOR_SIZE,
  META_PAGE83,
  META_PARENT_LOCATOR,
  META_PHYSICAL_SECTOR_SIZE,
  META_VIRTUAL_DISK_SIZE,
  METADATA_TABLE_SIZE,
  MiB,
  REGION_BAT,
  REGION_METADATA,
  REGION_TABLE1_OFFSET,
  REGION_TABLE2_OFFSET,
  SIG_FILE,
} from "./_layout";

/** How to create a VHDX file. */
export interface CreateVhdxOptions {
  /** Virtual size in bytes; taken from the parent for a differencing disk. */
  virtualSize?: number;
  /** Payload block size: a power of two from 1 MiB to 256 MiB. Default 32 MiB (dynamic), 2 MiB (differencing), as Hyper-V. */
  blockSize?: number;
  logicalSectorSize?: 512 | 4096;
  physicalSectorSize?: 512 | 4096;
  /** Page 83 identifier (Hyper-V's VirtualDiskId); a child inherits its parent's by default. */
  virtualDiskId?: string;
  /** Creates a differencing disk on this parent. */
  parentPath?: string;
  /** Parent locator entries to write instead of the computed ones (parent_linkage is always set). */
  parentLocator?: { relativePath?: string; absoluteWin32Path?: string; volumePath?: string };
}

/**
 * Creates a dynamic VHDX, or a differencing one with `parentPath`, and returns it open for
 * writing. Layout (as qemu and Hyper-V): header section, 1 MiB log at 1 MiB, 1 MiB metadata
 * region at 2 MiB, BAT from 3 MiB; payload blocks are appended after it as they are written.
 *
 * @example
 * const d = createVhdx("disk.vhdx", { virtualSize: 64 * 1024 * 1024 });
 * d.write(new Uint8Array(4096).fill(1), 0);
 * d.close();
 */
export function createVhdx(file: string, options: CreateVhdxOptions): VhdxImage {
  let parent: VhdxImage | undefined;
  if (options.parentPath !== undefined) parent = VhdxImage.open(options.parentPath);
  try {
    const virtualSize = options.virtualSize ?? parent?.virtualSize;
    const lss = options.logicalSectorSize ?? (parent?.logicalSectorSize as 512 | 4096 | undefined) ?? 512;
    const pss = options.physicalSectorSize ?? (parent?.physicalSectorSize as 512 | 4096 | undefined) ?? 4096;
    const blockSize = options.blockSize ?? (parent ? 2 * MiB : 32 * MiB);
    const virtualDiskId = normalizeGuid(options.virtualDiskId ?? parent?.virtualDiskId ?? newGuid());
    const bad = (field: string, detail: string): never => {
      throw new HvbError("VhdxCreate", `Cannot create '${file}': ${field} ${detail}`, { category: "InvalidArgument", target: file });
    };
    if (virtualSize === undefined) bad("virtual size", "is required");
    if (lss !== 512 && lss !== 4096) bad("logical sector size", `must be 512 or 4096, got ${lss}`);
    if (pss !== 512 && pss !== 4096) bad("physical sector size", `must be 512 or 4096, got ${pss}`);
    if (!Number.isSafeInteger(virtualSize) || virtualSize! <= 0 || virtualSize! > MAX_VIRTUAL_SIZE || virtualSize! % lss !== 0) {
      bad("virtual size", `must be a multiple of ${lss} bytes from ${lss} bytes to 64 TiB, got ${virtualSize}`);
    }
    if (!isValidBlockSize(blockSize)) bad("block size", `must be a power of two from 1 MiB to 256 MiB, got ${blockSize}`);
    if (parent && (parent.virtualSize !== virtualSize || parent.logicalSectorSize !== lss)) {
      bad("geometry", `must match the parent '${options.parentPath}' (${parent.virtualSize} bytes, ${parent.logicalSectorSize}-byte sectors)`);
    }

    let locator: ParentLocatorEntries | undefined;
    if (parent) {
      locator = { parent_linkage: `{${parent.dataWriteGuid}}` };
      const given = options.parentLocator;
      locator["relative_path"] = given?.relativePath ?? relativeLocatorPath(file, options.parentPath!);
      const abs = given?.absoluteWin32Path ?? (process.platform === "win32" ? `\\\\?\\${path.resolve(options.parentPath!)}` : undefined);
      if (abs !== undefined) locator["absolute_win32_path"] = abs;
      if (given?.volumePath !== undefined) locator["volume_path"] = given.volumePath;
    }
    writeEmptyVhdx(file, { virtualSize: virtualSize!, blockSize, lss, pss, virtualDiskId, locator });
  } finally {
    parent?.close();
  }
  return VhdxImage.open(file, { writable: true, ...(options.parentPath !== undefined ? { parentPath: options.parentPath } : {}) });
}

function writeEmptyVhdx(
  file: string,
  o: { virtualSize: number; blockSize: number; lss: number; pss: number; virtualDiskId: string; locator: ParentLocatorEntries | undefined },
): void {
  const hasParent = o.locator !== undefined;
  const g = batGeometry(o.virtualSize, o.blockSize, o.lss, hasParent);
  const logOffset = MiB;
  const logLength = MiB;
  const metaOffset = 2 * MiB;
  const metaLength = MiB;
  const batOffset = 3 * MiB;
  const batLength = Math.max(MiB, Math.ceil((g.totalEntries * 8) / MiB) * MiB);
  const fileEnd = batOffset + batLength;

  const fd = openSync(file, "wx");
  try {
    const put = (buf: Uint8Array, at: number): void => {
      let done = 0;
      while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, at + done);
    };
    ftruncateSync(fd, fileEnd);
    const ident = Buffer.alloc(520);
    ident.write(SIG_FILE, 0, "latin1");
    ident.write(CREATOR, 8, "utf16le");
    put(ident, 0);

    const dataWriteGuid = newGuid();
    const fileWriteGuid = newGuid();
    for (const [seq, at] of [[1n, HEADER1_OFFSET], [2n, HEADER2_OFFSET]] as const) {
      put(serializeHeader({ sequenceNumber: seq, fileWriteGuid, dataWriteGuid, logGuid: NIL_GUID, logVersion: 0, version: 1, logLength, logOffset }), at);
    }
    const regions = serializeRegionTable([
      { guid: REGION_BAT, fileOffset: batOffset, length: batLength, required: true },
      { guid: REGION_METADATA, fileOffset: metaOffset, length: metaLength, required: true },
    ]);
    put(regions, REGION_TABLE1_OFFSET);
    put(regions, REGION_TABLE2_OFFSET);

    // Metadata items, back to back after the 64 KiB table; the parent locator last so it can grow.
    const items: Array<{ id: string; data: Uint8Array; virtualDisk: boolean }> = [];
    const fp = Buffer.alloc(8);
    fp.writeUInt32LE(o.blockSize, 0);
    fp.writeUInt32LE(hasParent ? 2 : 0, 4);
    items.push({ id: META_FILE_PARAMETERS, data: fp, virtualDisk: false });
    const vs = Buffer.alloc(8);
    vs.writeBigUInt64LE(BigInt(o.virtualSize));
    items.push({ id: META_VIRTUAL_DISK_SIZE, data: vs, virtualDisk: true });
    const p83 = Buffer.alloc(16);
    writeGuid(p83, 0, o.virtualDiskId);
    items.push({ id: META_PAGE83, data: p83, virtualDisk: true });
    const ls = Buffer.alloc(4);
    ls.writeUInt32LE(o.lss);
    items.push({ id: META_LOGICAL_SECTOR_SIZE, data: ls, virtualDisk: true });
    const ps = Buffer.alloc(4);
    ps.writeUInt32LE(o.pss);
    items.push({ id: META_PHYSICAL_SECTOR_SIZE, data: ps, virtualDisk: true });
    if (o.locator) items.push({ id: META_PARENT_LOCATOR, data: serializeParentLocator(o.locator), virtualDisk: false });
    const entries: MetadataEntry[] = [];
    let cursor = METADATA_TABLE_SIZE;
    for (const it of items) {
      entries.push({ itemId: it.id, offset: cursor, length: it.data.length, isUser: false, isVirtualDisk: it.virtualDisk, isRequired: true });
      put(it.data, metaOffset + cursor);
      cursor += it.data.length;
    }
    put(serializeMetadataTable(entries), metaOffset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
