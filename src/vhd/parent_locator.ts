import { decodeUtf16le, encodeUtf16le, readAscii, readU32, readU64, writeAscii, writeU32, writeU64 } from "./_be";
import { VhdStructureError, hex, printable } from "./_errors";
import { PARENT_LOCATOR_ENTRY_SIZE } from "./_layout";

/**
 * One 24-byte parent locator entry of the dynamic header ("Dynamic Disk Header Format",
 * Parent Locator Entries). It points at platform-specific data that names the parent file.
 */
export interface ParentLocatorEntry {
  /** `"W2ru"`, `"W2ku"`, `"Wi2r"`, `"Wi2k"`, `"Mac "`, `"MacX"`, or `""` for an empty entry (code 0). */
  platformCode: string;
  /**
   * Space reserved for the data. The spec says 512-byte sectors; some writers store bytes, so
   * readers must not rely on it. This implementation writes sectors and reads only the length.
   */
  platformDataSpace: number;
  /** Length of the locator data in bytes. */
  platformDataLength: number;
  /** Absolute file offset of the locator data. */
  platformDataOffset: number;
}

/** Platform codes this implementation knows. */
export const PLATFORM_W2RU = "W2ru";
export const PLATFORM_W2KU = "W2ku";
export const PLATFORM_WI2R = "Wi2r";
export const PLATFORM_WI2K = "Wi2k";
export const PLATFORM_MACX = "MacX";

/** An unused entry (platform code 0). */
export const EMPTY_LOCATOR: ParentLocatorEntry = Object.freeze({
  platformCode: "",
  platformDataSpace: 0,
  platformDataLength: 0,
  platformDataOffset: 0,
});

/** Parses one 24-byte entry. */
export function parseParentLocatorEntry(bytes: Uint8Array, index = 0): ParentLocatorEntry {
  const name = `parent locator ${index + 1}`;
  if (bytes.length < PARENT_LOCATOR_ENTRY_SIZE) {
    throw new VhdStructureError(name, `is ${bytes.length} bytes, expected ${PARENT_LOCATOR_ENTRY_SIZE}`);
  }
  const code = readU32(bytes, 0);
  const offset = readU64(bytes, 16);
  if (code !== 0 && offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new VhdStructureError(name, `Platform Data Offset ${hex(offset)} is out of range`);
  }
  return {
    platformCode: code === 0 ? "" : readAscii(bytes, 0, 4),
    platformDataSpace: readU32(bytes, 4),
    platformDataLength: readU32(bytes, 8),
    platformDataOffset: Number(offset),
  };
}

/** Serialises one entry into 24 bytes (Reserved zero). */
export function serializeParentLocatorEntry(e: ParentLocatorEntry): Uint8Array {
  const b = new Uint8Array(PARENT_LOCATOR_ENTRY_SIZE);
  if (e.platformCode !== "") writeAscii(b, 0, (e.platformCode + "\0\0\0\0").slice(0, 4));
  writeU32(b, 4, e.platformDataSpace);
  writeU32(b, 8, e.platformDataLength);
  writeU64(b, 16, e.platformDataOffset);
  return b;
}

/**
 * Decodes the path stored as locator data. W2ru/W2ku hold UTF-16 (Windows writes it
 * little-endian, without terminator; a big-endian writer is detected from the NUL pattern of
 * ASCII characters). MacX holds a UTF-8 file URL; Wi2r/Wi2k (deprecated) hold ANSI text.
 * Returns undefined for platform codes that name no path this product can use.
 *
 * @example decodeLocatorPath("W2ru", Buffer.from(".\\base.vhd", "utf16le")) // ".\\base.vhd"
 */
export function decodeLocatorPath(platformCode: string, data: Uint8Array): string | undefined {
  switch (platformCode) {
    case PLATFORM_W2RU:
    case PLATFORM_W2KU:
      return looksBigEndian(data) ? decodeUtf16le(swap16(data)) : decodeUtf16le(data);
    case PLATFORM_WI2R:
    case PLATFORM_WI2K:
      return cut(Buffer.from(data).toString("latin1"));
    case PLATFORM_MACX: {
      const url = cut(Buffer.from(data).toString("utf8"));
      if (!url.startsWith("file://")) return undefined;
      try {
        return decodeURIComponent(url.replace(/^file:\/\/(localhost)?/, ""));
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** Encodes a Windows path as W2ru/W2ku locator data (UTF-16 little-endian, no terminator). */
export function encodeLocatorPath(path: string): Uint8Array {
  return encodeUtf16le(path);
}

/** Describes a platform code for messages. */
export function describePlatformCode(code: string): string {
  return code === "" ? "none" : `'${printable(code)}'`;
}

function looksBigEndian(data: Uint8Array): boolean {
  // "C:" or ".\" in UTF-16BE starts with a NUL byte; in UTF-16LE the NUL comes second.
  return data.length >= 2 && data[0] === 0 && data[1] !== 0;
}

function swap16(data: Uint8Array): Uint8Array {
  const b = Buffer.from(data.subarray(0, data.length & ~1));
  b.swap16();
  return b;
}

function cut(s: string): string {
  const i = s.indexOf("\0");
  return i < 0 ? s : s.slice(0, i);
}
