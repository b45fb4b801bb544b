import { randomUUID } from "node:crypto";

/**
 * GUIDs in Microsoft's mixed-endian layout (MS-VHDX 1.3 / MS-DTYP 2.3.4.2): Data1 (u32 LE),
 * Data2 (u16 LE), Data3 (u16 LE), Data4 (8 raw bytes). Text form is lowercase, no braces.
 */
const GUID_RE = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** The all-zero GUID. */
export const NIL_GUID = "00000000-0000-0000-0000-000000000000";

/** Reads a GUID at `offset` of `buf`. */
export function readGuid(buf: Uint8Array, offset: number): string {
  const b = buf.subarray(offset, offset + 16);
  const hex = (from: number, to: number, reverse: boolean): string => {
    const bytes = Array.from(b.subarray(from, to));
    if (reverse) bytes.reverse();
    return bytes.map((x) => x.toString(16).padStart(2, "0")).join("");
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** Writes GUID text (with or without braces) at `offset` of `buf`. */
export function writeGuid(buf: Uint8Array, offset: number, guid: string): void {
  const m = GUID_RE.exec(guid);
  if (!m) throw new Error(`Cannot encode GUID: '${guid}' is not a GUID`);
  const put = (hex: string, at: number, reverse: boolean): void => {
    const bytes: number[] = [];
    for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    if (reverse) bytes.reverse();
    buf.set(bytes, offset + at);
  };
  put(m[1]!, 0, true);
  put(m[2]!, 4, true);
  put(m[3]!, 6, true);
  put(m[4]!, 8, false);
  put(m[5]!, 10, false);
}

/** True when `text` is a GUID (braces optional). */
export function isGuid(text: string): boolean {
  return GUID_RE.test(text);
}

/** Normalises GUID text to lowercase without braces. */
export function normalizeGuid(text: string): string {
  const m = GUID_RE.exec(text);
  if (!m) throw new Error(`'${text}' is not a GUID`);
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
}

/** A new random (version 4) GUID. */
export function newGuid(): string {
  return randomUUID();
}
