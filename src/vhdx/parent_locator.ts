import { StructureError } from "./errors";
import { readGuid, writeGuid } from "./guid";
import { PARENT_LOCATOR_TYPE_VHDX } from "./_layout";

/** The key/value pairs of a VHDX parent locator (MS-VHDX 2.6.2.6). Keys are case-sensitive. */
export type ParentLocatorEntries = Record<string, string>;

/** Parses the parent locator metadata item. Only the VHDX locator type is accepted. */
export function parseParentLocator(item: Uint8Array): ParentLocatorEntries {
  const name = "parent locator";
  if (item.length < 20) throw new StructureError(name, `item is ${item.length} bytes, too short for its header`);
  const b = Buffer.from(item.buffer, item.byteOffset, item.length);
  const type = readGuid(b, 0);
  if (type !== PARENT_LOCATOR_TYPE_VHDX) throw new StructureError(name, `LocatorType is ${type}, expected ${PARENT_LOCATOR_TYPE_VHDX}`);
  const count = b.readUInt16LE(18);
  if (20 + count * 12 > b.length) throw new StructureError(name, `KeyValueCount ${count} does not fit in ${b.length} bytes`);
  const out: ParentLocatorEntries = Object.create(null);
  for (let i = 0; i < count; i++) {
    const at = 20 + i * 12;
    const keyOffset = b.readUInt32LE(at);
    const valueOffset = b.readUInt32LE(at + 4);
    const keyLength = b.readUInt16LE(at + 8);
    const valueLength = b.readUInt16LE(at + 10);
    const label = `${name} entry ${i}`;
    const str = (off: number, len: number, what: string): string => {
      if (off === 0 || len === 0 || len % 2 !== 0 || off + len > b.length) {
        throw new StructureError(label, `${what} at ${off} length ${len} is empty, odd or outside the ${b.length}-byte item`);
      }
      return b.toString("utf16le", off, off + len);
    };
    const key = str(keyOffset, keyLength, "key");
    const value = str(valueOffset, valueLength, "value");
    if (key in out) throw new StructureError(label, `key '${key}' appears twice`);
    out[key] = value;
  }
  if (!("parent_linkage" in out)) throw new StructureError(name, "required key 'parent_linkage' is missing");
  if (!("relative_path" in out) && !("volume_path" in out) && !("absolute_win32_path" in out)) {
    throw new StructureError(name, "no path key (relative_path, volume_path or absolute_win32_path)");
  }
  return out;
}

/** Serialises parent locator entries (keys in the given order) into a metadata item. */
export function serializeParentLocator(entries: ParentLocatorEntries): Uint8Array {
  const keys = Object.keys(entries);
  const strings = keys.map((k) => [Buffer.from(k, "utf16le"), Buffer.from(entries[k]!, "utf16le")] as const);
  const headerLength = 20 + keys.length * 12;
  const total = headerLength + strings.reduce((n, [k, v]) => n + k.length + v.length, 0);
  const b = Buffer.alloc(total);
  writeGuid(b, 0, PARENT_LOCATOR_TYPE_VHDX);
  b.writeUInt16LE(keys.length, 18);
  let cursor = headerLength;
  strings.forEach(([k, v], i) => {
    const at = 20 + i * 12;
    b.writeUInt32LE(cursor, at);
    k.copy(b, cursor);
    cursor += k.length;
    b.writeUInt32LE(cursor, at + 4);
    v.copy(b, cursor);
    cursor += v.length;
    b.writeUInt16LE(k.length, at + 8);
    b.writeUInt16LE(v.length, at + 10);
  });
  return b;
}
