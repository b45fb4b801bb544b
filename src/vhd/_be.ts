/**
 * Byte-order helpers for the legacy VHD format. Every VHD integer is big-endian (VHD spec
 * "Hard Disk Footer Format"); this is the only file of src/vhd that decodes or encodes them, so
 * the structure files work on native numbers. Parent locator paths are UTF-16 *little*-endian
 * (Windows wide strings) while the header's Parent Unicode Name is UTF-16 big-endian; both
 * codecs live here too.
 */

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads an unsigned 16-bit big-endian integer. */
export function readU16(b: Uint8Array, off: number): number {
  return view(b).getUint16(off, false);
}

/** Reads an unsigned 32-bit big-endian integer. */
export function readU32(b: Uint8Array, off: number): number {
  return view(b).getUint32(off, false);
}

/** Reads an unsigned 64-bit big-endian integer as a bigint (exact for every value). */
export function readU64(b: Uint8Array, off: number): bigint {
  return view(b).getBigUint64(off, false);
}

/** Writes an unsigned 16-bit big-endian integer. */
export function writeU16(b: Uint8Array, off: number, v: number): void {
  view(b).setUint16(off, v, false);
}

/** Writes an unsigned 32-bit big-endian integer. */
export function writeU32(b: Uint8Array, off: number, v: number): void {
  view(b).setUint32(off, v >>> 0, false);
}

/** Writes an unsigned 64-bit big-endian integer. */
export function writeU64(b: Uint8Array, off: number, v: number | bigint): void {
  view(b).setBigUint64(off, BigInt(v), false);
}

/**
 * Reads a 16-byte identifier in RFC 4122 byte order (the VHD spec stores the Unique Id as a
 * plain 128-bit big-endian value; libvhdi prints it as `uuid.UUID(bytes=…)`).
 *
 * @example readGuid(Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8]), 0)
 * // "12345678-9abc-def0-0102-030405060708"
 */
export function readGuid(b: Uint8Array, off: number): string {
  const hex = Buffer.from(b.buffer, b.byteOffset + off, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Writes a GUID given as text (braces optional) in RFC 4122 byte order. */
export function writeGuid(b: Uint8Array, off: number, guid: string): void {
  const hex = guid.replace(/[{}-]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`Cannot encode GUID: '${guid}' is not a GUID`);
  b.set(Buffer.from(hex, "hex"), off);
}

/** Reads `len` bytes as Latin-1 text (cookies, creator fields, platform codes). */
export function readAscii(b: Uint8Array, off: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + off, len).toString("latin1");
}

/** Writes Latin-1 text; `text` must fit in the field. */
export function writeAscii(b: Uint8Array, off: number, text: string): void {
  b.set(Buffer.from(text, "latin1"), off);
}

/** Decodes UTF-16 big-endian text, stopping at the first NUL code unit. */
export function decodeUtf16be(b: Uint8Array): string {
  const swapped = Buffer.from(b.subarray(0, b.length & ~1));
  swapped.swap16();
  return cutAtNul(swapped.toString("utf16le"));
}

/** Encodes text as UTF-16 big-endian without terminator or byte order mark. */
export function encodeUtf16be(text: string): Uint8Array {
  const out = Buffer.from(text, "utf16le");
  out.swap16();
  return out;
}

/** Decodes UTF-16 little-endian text, stopping at the first NUL code unit. */
export function decodeUtf16le(b: Uint8Array): string {
  return cutAtNul(Buffer.from(b.buffer, b.byteOffset, b.length & ~1).toString("utf16le"));
}

/** Encodes text as UTF-16 little-endian without terminator or byte order mark. */
export function encodeUtf16le(text: string): Uint8Array {
  return Buffer.from(text, "utf16le");
}

function cutAtNul(s: string): string {
  const i = s.indexOf("\0");
  return i < 0 ? s : s.slice(0, i);
}
