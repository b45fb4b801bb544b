import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { HvbError } from "../base/mod";
import { ioError, openFile, syncFile, truncateFile, writeFully } from "./_io";
import {
  BAT_UNUSED,
  DEFAULT_BLOCK_SIZE,
  DISK_TYPE_DIFFERENCING,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  DYNAMIC_HEADER_OFFSET,
  DYNAMIC_HEADER_SIZE,
  FEATURES_RESERVED,
  FORMAT_VERSION,
  MAX_BLOCK_SIZE,
  MAX_CREATE_SIZE,
  MIN_BLOCK_SIZE,
  PARENT_LOCATOR_COUNT,
  SECTOR_SIZE,
  roundUp,
  toVhdTimestamp,
} from "./_layout";
import { batByteSize, serializeBat } from "./bat";
import { type VhdDynamicHeader, serializeDynamicHeader } from "./dynamic_header";
import { type VhdFooter, serializeFooter } from "./footer";
import { computeGeometry } from "./geometry";
import { EMPTY_LOCATOR, PLATFORM_W2KU, PLATFORM_W2RU, type ParentLocatorEntry, encodeLocatorPath } from "./parent_locator";
import { relativeWindowsPath } from "./parent_path";
import { VhdImage } from "./vhd_image";

/** Options of {@link createVhd}. */
export interface CreateVhdOptions {
  /** Size the guest sees, bytes: a multiple of 512, at most 2040 GiB. Stored exactly. */
  virtualSize: number;
  type: "fixed" | "dynamic";
  /** Dynamic only: bytes per block, a power of two from 512 B to 256 MiB. Default 2 MiB. */
  blockSize?: number;
}

/** Options of {@link createVhdDifferencing}. */
export interface CreateVhdDifferencingOptions {
  /** The parent disk (VHD of any type); the child gets its size and block size. */
  parentPath: string;
  /**
   * The parent's absolute Windows path for the W2ku locator (e.g. `C:\VMs\base.vhd`).
   * Default: the parent's absolute local path with `\` separators.
   */
  parentWindowsPath?: string;
}

/**
 * Identity written into the footers we create. Creator "win " (Hyper-V) matters: readers such
 * as qemu take the size from Current Size, not from the CHS geometry, only for known creators
 * ("win ", "qem2", "d2v ", "CTXS", "tap"). We write the exact requested size as Current Size
 * (like Hyper-V, and like `qemu-img create -o force_size=on`), while the Disk Geometry field
 * holds the spec's CHS computation, which may address a little less.
 */
const CREATOR_APPLICATION = "win ";
const CREATOR_VERSION = 0x000a0000;
const CREATOR_HOST_OS = "Wi2k";

/**
 * Creates a fixed or dynamic VHD. Fails with `AlreadyExists` when `path` exists.
 *
 * @example createVhd("/tmp/a.vhd", { virtualSize: 64 * 1024 * 1024, type: "dynamic" }) // 64 MiB sparse disk, 3 KiB file
 */
export function createVhd(path: string, options: CreateVhdOptions): void {
  const { virtualSize, type } = options;
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  checkSize(path, virtualSize);
  if (type !== "fixed" && type !== "dynamic") throw invalid(path, `type is '${String(type)}', expected 'fixed' or 'dynamic'`);
  checkBlockSize(path, blockSize);
  const footer = newFooter(virtualSize, type === "fixed" ? DISK_TYPE_FIXED : DISK_TYPE_DYNAMIC);
  writeNewFile(path, (fd) => {
    if (type === "fixed") {
      truncateFile(fd, path, virtualSize);
      writeFully(fd, path, serializeFooter(footer), virtualSize);
      return;
    }
    const entries = Math.ceil(virtualSize / blockSize);
    const tableOffset = DYNAMIC_HEADER_OFFSET + DYNAMIC_HEADER_SIZE;
    const header: VhdDynamicHeader = {
      tableOffset,
      headerVersion: FORMAT_VERSION,
      maxTableEntries: entries,
      blockSize,
      parentUniqueId: "00000000-0000-0000-0000-000000000000",
      parentTimestamp: 0,
      parentUnicodeName: "",
      parentLocators: Array.from({ length: PARENT_LOCATOR_COUNT }, () => ({ ...EMPTY_LOCATOR })),
    };
    writeDynamicLayout(fd, path, footer, header, []);
  });
}

/**
 * Creates a differencing VHD (an .avhd checkpoint file) on top of `parentPath`: same size and
 * block size as the parent, parent Unique Id and time stamp in the header, a W2ru locator
 * (`.\base.vhd`), a W2ku locator and the parent's file name as Parent Unicode Name.
 */
export function createVhdDifferencing(path: string, options: CreateVhdDifferencingOptions): void {
  const parent = VhdImage.open(options.parentPath);
  let parentFooter: VhdFooter;
  let blockSize: number;
  try {
    parentFooter = parent.footer;
    blockSize = parent.header?.blockSize ?? DEFAULT_BLOCK_SIZE;
  } finally {
    parent.close();
  }
  const parentAbs = nodePath.resolve(options.parentPath);
  const relative = relativeWindowsPath(path, parentAbs);
  const absolute = options.parentWindowsPath ?? parentAbs.split(nodePath.sep).join("\\");
  const footer = newFooter(parentFooter.currentSize, DISK_TYPE_DIFFERENCING);

  // Layout: footer copy, header, locator data (each padded to sectors), BAT, footer.
  const texts = [
    { code: PLATFORM_W2RU, data: encodeLocatorPath(relative) },
    { code: PLATFORM_W2KU, data: encodeLocatorPath(absolute) },
  ];
  let at = DYNAMIC_HEADER_OFFSET + DYNAMIC_HEADER_SIZE;
  const locators: ParentLocatorEntry[] = [];
  const blobs: Array<{ offset: number; data: Uint8Array }> = [];
  for (const t of texts) {
    const space = roundUp(Math.max(t.data.length, 1), SECTOR_SIZE);
    locators.push({ platformCode: t.code, platformDataSpace: space / SECTOR_SIZE, platformDataLength: t.data.length, platformDataOffset: at });
    blobs.push({ offset: at, data: t.data });
    at += space;
  }
  while (locators.length < PARENT_LOCATOR_COUNT) locators.push({ ...EMPTY_LOCATOR });
  const header: VhdDynamicHeader = {
    tableOffset: at,
    headerVersion: FORMAT_VERSION,
    maxTableEntries: Math.ceil(parentFooter.currentSize / blockSize),
    blockSize,
    parentUniqueId: parentFooter.uniqueId,
    parentTimestamp: parentFooter.timestamp,
    parentUnicodeName: nodePath.basename(parentAbs).slice(0, 256),
    parentLocators: locators,
  };
  writeNewFile(path, (fd) => writeDynamicLayout(fd, path, footer, header, blobs));
}

function newFooter(virtualSize: number, diskType: number): VhdFooter {
  return {
    features: FEATURES_RESERVED,
    formatVersion: FORMAT_VERSION,
    dataOffset: diskType === DISK_TYPE_FIXED ? null : DYNAMIC_HEADER_OFFSET,
    timestamp: toVhdTimestamp(Date.now()),
    creatorApplication: CREATOR_APPLICATION,
    creatorVersion: CREATOR_VERSION,
    creatorHostOs: CREATOR_HOST_OS,
    originalSize: virtualSize,
    currentSize: virtualSize,
    geometry: computeGeometry(virtualSize / SECTOR_SIZE),
    diskType,
    uniqueId: randomUUID(),
    savedState: 0,
  };
}

function writeDynamicLayout(
  fd: number,
  path: string,
  footer: VhdFooter,
  header: VhdDynamicHeader,
  blobs: Array<{ offset: number; data: Uint8Array }>,
): void {
  const footerBytes = serializeFooter(footer);
  writeFully(fd, path, footerBytes, 0);
  writeFully(fd, path, serializeDynamicHeader(header), DYNAMIC_HEADER_OFFSET);
  for (const b of blobs) writeFully(fd, path, b.data, b.offset);
  const bat = new Uint32Array(header.maxTableEntries).fill(BAT_UNUSED);
  writeFully(fd, path, serializeBat(bat), header.tableOffset);
  writeFully(fd, path, footerBytes, header.tableOffset + batByteSize(header.maxTableEntries));
}

/** Creates `path` exclusively, runs `fill`, fsyncs; removes the file when anything fails. */
function writeNewFile(path: string, fill: (fd: number) => void): void {
  const fd = openFile(path, "wx");
  try {
    fill(fd);
    syncFile(fd, path);
    fs.closeSync(fd);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(path, { force: true });
    throw ioError(path, "create", e);
  }
}

function checkSize(path: string, size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0 || size > MAX_CREATE_SIZE) {
    throw invalid(path, `virtual size ${size} is not a positive multiple of ${SECTOR_SIZE} up to ${MAX_CREATE_SIZE} bytes (2040 GiB)`);
  }
}

function checkBlockSize(path: string, blockSize: number): void {
  if (!Number.isSafeInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw invalid(path, `block size ${blockSize} is not a power of two from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}`);
  }
}

function invalid(path: string, detail: string): HvbError {
  return new HvbError("InvalidArgument", `Cannot create '${path}': ${detail}`, { category: "InvalidArgument", target: path });
}
