import { decodeUtf16be, encodeUtf16be, readAscii, readGuid, readU32, readU64, writeAscii, writeGuid, writeU32, writeU64 } from "./_be";
import { VhdStructureError, hex, printable } from "./_errors";
import {
  DYNAMIC_HEADER_COOKIE,
  DYNAMIC_HEADER_SIZE,
  MAX_BAT_ENTRIES,
  MAX_BLOCK_SIZE,
  MIN_BLOCK_SIZE,
  PARENT_LOCATOR_COUNT,
  PARENT_LOCATOR_ENTRY_SIZE,
} from "./_layout";
import { vhdChecksum } from "./checksum";
import { type ParentLocatorEntry, parseParentLocatorEntry, serializeParentLocatorEntry } from "./parent_locator";

/** The 1024-byte dynamic disk header ("Dynamic Disk Header Format") of dynamic and differencing disks. */
export interface VhdDynamicHeader {
  /** Absolute offset of the BAT. */
  tableOffset: number;
  /** 0x00010000. */
  headerVersion: number;
  /** Number of BAT entries; at least ceil(Current Size / Block Size). */
  maxTableEntries: number;
  /** Bytes of data per block (power of two), excluding the sector bitmap. */
  blockSize: number;
  /** The parent's footer Unique Id (differencing only; all zero otherwise). */
  parentUniqueId: string;
  /** The parent's time stamp, seconds since 2000-01-01 UTC (differencing only). */
  parentTimestamp: number;
  /** Parent file name, UTF-16 big-endian in the file, at most 256 code units. */
  parentUnicodeName: string;
  /** Always eight entries; unused ones are {@link EMPTY_LOCATOR}. */
  parentLocators: ParentLocatorEntry[];
}

/** Byte offset of the Checksum field inside the dynamic header. */
export const DYNAMIC_HEADER_CHECKSUM_OFFSET = 36;
const PARENT_NAME_OFFSET = 64;
const PARENT_NAME_SIZE = 512;
const LOCATORS_OFFSET = 576;

/**
 * Parses a 1024-byte dynamic header: cookie, checksum, fields, range checks. Throws
 * {@link VhdStructureError} naming the field when it is not valid. Whether the BAT fits in the
 * file is checked by the image code, which knows the file size.
 */
export function parseDynamicHeader(bytes: Uint8Array): VhdDynamicHeader {
  const name = "dynamic header";
  if (bytes.length < DYNAMIC_HEADER_SIZE) throw new VhdStructureError(name, `is ${bytes.length} bytes, expected ${DYNAMIC_HEADER_SIZE}`);
  const b = bytes.subarray(0, DYNAMIC_HEADER_SIZE);
  const cookie = readAscii(b, 0, 8);
  if (cookie !== DYNAMIC_HEADER_COOKIE) throw new VhdStructureError(name, `cookie is '${printable(cookie)}', expected '${DYNAMIC_HEADER_COOKIE}'`);
  const stored = readU32(b, DYNAMIC_HEADER_CHECKSUM_OFFSET);
  const actual = vhdChecksum(b, DYNAMIC_HEADER_CHECKSUM_OFFSET);
  if (stored !== actual) throw new VhdStructureError(name, `checksum is ${hex(stored)}, expected ${hex(actual)}`);
  const headerVersion = readU32(b, 24);
  if (headerVersion >>> 16 !== 1) throw new VhdStructureError(name, `Header Version is ${hex(headerVersion)}, expected 0x10000`);
  const rawTable = readU64(b, 16);
  if (rawTable > BigInt(Number.MAX_SAFE_INTEGER)) throw new VhdStructureError(name, `Table Offset ${hex(rawTable)} is out of range`);
  const maxTableEntries = readU32(b, 28);
  if (maxTableEntries > MAX_BAT_ENTRIES) throw new VhdStructureError(name, `Max Table Entries is ${maxTableEntries}, more than the limit of ${MAX_BAT_ENTRIES}`);
  const blockSize = readU32(b, 32);
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || (blockSize & (blockSize - 1)) !== 0) {
    throw new VhdStructureError(name, `Block Size is ${blockSize}, expected a power of two from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}`);
  }
  const parentLocators: ParentLocatorEntry[] = [];
  for (let i = 0; i < PARENT_LOCATOR_COUNT; i++) {
    const at = LOCATORS_OFFSET + i * PARENT_LOCATOR_ENTRY_SIZE;
    parentLocators.push(parseParentLocatorEntry(b.subarray(at, at + PARENT_LOCATOR_ENTRY_SIZE), i));
  }
  return {
    tableOffset: Number(rawTable),
    headerVersion,
    maxTableEntries,
    blockSize,
    parentUniqueId: readGuid(b, 40),
    parentTimestamp: readU32(b, 56),
    parentUnicodeName: decodeUtf16be(b.subarray(PARENT_NAME_OFFSET, PARENT_NAME_OFFSET + PARENT_NAME_SIZE)),
    parentLocators,
  };
}

/** Serialises a dynamic header into 1024 bytes with a correct checksum. Data Offset is all ones. */
export function serializeDynamicHeader(h: VhdDynamicHeader): Uint8Array {
  const b = new Uint8Array(DYNAMIC_HEADER_SIZE);
  writeAscii(b, 0, DYNAMIC_HEADER_COOKIE);
  writeU64(b, 8, 0xffffffffffffffffn);
  writeU64(b, 16, h.tableOffset);
  writeU32(b, 24, h.headerVersion);
  writeU32(b, 28, h.maxTableEntries);
  writeU32(b, 32, h.blockSize);
  writeGuid(b, 40, h.parentUniqueId);
  writeU32(b, 56, h.parentTimestamp);
  const name = encodeUtf16be(h.parentUnicodeName);
  if (name.length > PARENT_NAME_SIZE) throw new RangeError(`Cannot encode dynamic header: Parent Unicode Name is longer than 256 characters`);
  b.set(name, PARENT_NAME_OFFSET);
  if (h.parentLocators.length > PARENT_LOCATOR_COUNT) throw new RangeError(`Cannot encode dynamic header: more than 8 parent locators`);
  h.parentLocators.forEach((e, i) => b.set(serializeParentLocatorEntry(e), LOCATORS_OFFSET + i * PARENT_LOCATOR_ENTRY_SIZE));
  writeU32(b, DYNAMIC_HEADER_CHECKSUM_OFFSET, vhdChecksum(b, DYNAMIC_HEADER_CHECKSUM_OFFSET));
  return b;
}
