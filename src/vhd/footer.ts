import { readAscii, readGuid, readU16, readU32, readU64, writeAscii, writeGuid, writeU16, writeU32, writeU64 } from "./_be";
import { VhdStructureError, hex, printable } from "./_errors";
import {
  DISK_TYPE_DIFFERENCING,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  FOOTER_COOKIE,
  FOOTER_SIZE,
  MAX_READ_SIZE,
  SECTOR_SIZE,
} from "./_layout";
import { vhdChecksum } from "./checksum";
import type { ChsGeometry } from "./geometry";

/**
 * The 512-byte hard disk footer ("Hard Disk Footer Format"). It ends every VHD file; dynamic and
 * differencing files also keep a copy at offset 0.
 */
export interface VhdFooter {
  /** Bit 0 temporary, bit 1 reserved (always written as 1). */
  features: number;
  /** 0x00010000. */
  formatVersion: number;
  /** Absolute offset of the dynamic header; `null` for 0xFFFFFFFFFFFFFFFF (fixed disks). */
  dataOffset: number | null;
  /** Seconds since 2000-01-01 UTC. */
  timestamp: number;
  /** Four characters, e.g. `"win "`, `"qem2"`, `"vpc "`. */
  creatorApplication: string;
  creatorVersion: number;
  /** `"Wi2k"` or `"Mac "`. */
  creatorHostOs: string;
  /** Size at creation time, bytes. */
  originalSize: number;
  /** Size of the disk as the guest sees it, bytes. */
  currentSize: number;
  geometry: ChsGeometry;
  /** 2 fixed, 3 dynamic, 4 differencing. */
  diskType: number;
  /** Unique Id; a child's dynamic header stores its parent's. RFC 4122 text. */
  uniqueId: string;
  /** 1 when the disk is in a saved state. */
  savedState: number;
}

/** Byte offset of the Checksum field inside the footer. */
export const FOOTER_CHECKSUM_OFFSET = 64;

const ALL_ONES = 0xffffffffffffffffn;

/**
 * Parses a 512-byte footer: cookie, then checksum, then fields, then range checks. Throws
 * {@link VhdStructureError} naming the field when it is not valid.
 */
export function parseFooter(bytes: Uint8Array): VhdFooter {
  if (bytes.length < FOOTER_SIZE) throw new VhdStructureError("footer", `is ${bytes.length} bytes, expected ${FOOTER_SIZE}`);
  const b = bytes.subarray(0, FOOTER_SIZE);
  const cookie = readAscii(b, 0, 8);
  if (cookie !== FOOTER_COOKIE) throw new VhdStructureError("footer", `cookie is '${printable(cookie)}', expected '${FOOTER_COOKIE}'`);
  const stored = readU32(b, FOOTER_CHECKSUM_OFFSET);
  const actual = vhdChecksum(b, FOOTER_CHECKSUM_OFFSET);
  if (stored !== actual) throw new VhdStructureError("footer", `checksum is ${hex(stored)}, expected ${hex(actual)}`);

  const formatVersion = readU32(b, 12);
  if (formatVersion >>> 16 !== 1) throw new VhdStructureError("footer", `File Format Version is ${hex(formatVersion)}, expected 0x10000`);
  const rawDataOffset = readU64(b, 16);
  const rawOriginal = readU64(b, 40);
  const rawCurrent = readU64(b, 48);
  const diskType = readU32(b, 60);
  if (diskType !== DISK_TYPE_FIXED && diskType !== DISK_TYPE_DYNAMIC && diskType !== DISK_TYPE_DIFFERENCING) {
    throw new VhdStructureError("footer", `Disk Type is ${diskType}, expected 2 (fixed), 3 (dynamic) or 4 (differencing)`);
  }
  if (rawCurrent > BigInt(MAX_READ_SIZE)) {
    throw new VhdStructureError("footer", `Current Size is ${rawCurrent} bytes, more than the VHD maximum of ${MAX_READ_SIZE}`);
  }
  const currentSize = Number(rawCurrent);
  if (currentSize % SECTOR_SIZE !== 0) {
    throw new VhdStructureError("footer", `Current Size ${currentSize} is not a multiple of ${SECTOR_SIZE}`);
  }
  let dataOffset: number | null = null;
  if (rawDataOffset !== ALL_ONES) {
    if (rawDataOffset > BigInt(Number.MAX_SAFE_INTEGER)) throw new VhdStructureError("footer", `Data Offset ${hex(rawDataOffset)} is out of range`);
    dataOffset = Number(rawDataOffset);
  }
  if (diskType !== DISK_TYPE_FIXED && dataOffset === null) {
    throw new VhdStructureError("footer", `Data Offset is 0xffffffffffffffff, but a ${diskType === DISK_TYPE_DYNAMIC ? "dynamic" : "differencing"} disk needs a dynamic header`);
  }
  return {
    features: readU32(b, 8),
    formatVersion,
    dataOffset,
    timestamp: readU32(b, 24),
    creatorApplication: readAscii(b, 28, 4),
    creatorVersion: readU32(b, 32),
    creatorHostOs: readAscii(b, 36, 4),
    // Original Size is informational only; clamp absurd values instead of refusing the disk.
    originalSize: rawOriginal > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(rawOriginal),
    currentSize,
    geometry: { cylinders: readU16(b, 56), heads: b[58]!, sectorsPerTrack: b[59]! },
    diskType,
    uniqueId: readGuid(b, 68),
    savedState: b[84]!,
  };
}

/** Serialises a footer into 512 bytes with a correct checksum (reserved bytes zero). */
export function serializeFooter(f: VhdFooter): Uint8Array {
  const b = new Uint8Array(FOOTER_SIZE);
  writeAscii(b, 0, FOOTER_COOKIE);
  writeU32(b, 8, f.features);
  writeU32(b, 12, f.formatVersion);
  writeU64(b, 16, f.dataOffset === null ? ALL_ONES : BigInt(f.dataOffset));
  writeU32(b, 24, f.timestamp);
  writeAscii(b, 28, fourChars(f.creatorApplication));
  writeU32(b, 32, f.creatorVersion);
  writeAscii(b, 36, fourChars(f.creatorHostOs));
  writeU64(b, 40, f.originalSize);
  writeU64(b, 48, f.currentSize);
  writeU16(b, 56, f.geometry.cylinders);
  b[58] = f.geometry.heads;
  b[59] = f.geometry.sectorsPerTrack;
  writeU32(b, 60, f.diskType);
  writeGuid(b, 68, f.uniqueId);
  b[84] = f.savedState;
  writeU32(b, FOOTER_CHECKSUM_OFFSET, vhdChecksum(b, FOOTER_CHECKSUM_OFFSET));
  return b;
}

function fourChars(s: string): string {
  return (s + "\0\0\0\0").slice(0, 4);
}
