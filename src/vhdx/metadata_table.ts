import { StructureError } from "./errors";
import { readGuid, writeGuid } from "./guid";
import { printable } from "./header";
import { MAX_METADATA_ITEM_LENGTH, MAX_TABLE_ENTRIES, METADATA_TABLE_SIZE, SIG_METADATA } from "./_layout";

/** One metadata table entry (MS-VHDX 2.6.1.2). Offsets are relative to the metadata region. */
export interface MetadataEntry {
  itemId: string;
  offset: number;
  length: number;
  isUser: boolean;
  isVirtualDisk: boolean;
  isRequired: boolean;
}

/** Parses the 64 KiB metadata table at the start of the metadata region. */
export function parseMetadataTable(block: Uint8Array, regionLength: number): MetadataEntry[] {
  const name = "metadata table";
  if (block.length < METADATA_TABLE_SIZE) throw new StructureError(name, `got ${block.length} bytes, expected ${METADATA_TABLE_SIZE}`);
  const b = Buffer.from(block.buffer, block.byteOffset, METADATA_TABLE_SIZE);
  const sig = b.toString("latin1", 0, 8);
  if (sig !== SIG_METADATA) throw new StructureError(name, `signature is '${printable(sig)}', expected '${SIG_METADATA}'`);
  const count = b.readUInt16LE(10);
  if (count > MAX_TABLE_ENTRIES) throw new StructureError(name, `EntryCount ${count} exceeds ${MAX_TABLE_ENTRIES}`);
  const entries: MetadataEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 32 + i * 32;
    const flags = b.readUInt32LE(at + 24);
    const e: MetadataEntry = {
      itemId: readGuid(b, at),
      offset: b.readUInt32LE(at + 16),
      length: b.readUInt32LE(at + 20),
      isUser: (flags & 1) !== 0,
      isVirtualDisk: (flags & 2) !== 0,
      isRequired: (flags & 4) !== 0,
    };
    const label = `metadata table entry ${i} (${e.itemId})`;
    if (e.length > MAX_METADATA_ITEM_LENGTH) throw new StructureError(label, `Length ${e.length} exceeds 1 MiB`);
    if (e.length === 0 && e.offset !== 0) throw new StructureError(label, `Length is 0 but Offset is ${e.offset}`);
    if (e.length > 0 && (e.offset < METADATA_TABLE_SIZE || e.offset + e.length > regionLength)) {
      throw new StructureError(label, `item [${e.offset}, ${e.offset + e.length}) lies outside the metadata region (64 KiB..${regionLength})`);
    }
    if (entries.some((x) => x.itemId === e.itemId && x.isUser === e.isUser)) throw new StructureError(label, "item appears twice");
    entries.push(e);
  }
  return entries;
}

/** Serialises metadata entries into a 64 KiB table. */
export function serializeMetadataTable(entries: readonly MetadataEntry[]): Uint8Array {
  const b = Buffer.alloc(METADATA_TABLE_SIZE);
  b.write(SIG_METADATA, 0, "latin1");
  b.writeUInt16LE(entries.length, 10);
  entries.forEach((e, i) => {
    const at = 32 + i * 32;
    writeGuid(b, at, e.itemId);
    b.writeUInt32LE(e.offset, at + 16);
    b.writeUInt32LE(e.length, at + 20);
    b.writeUInt32LE((e.isUser ? 1 : 0) | (e.isVirtualDisk ? 2 : 0) | (e.isRequired ? 4 : 0), at + 24);
  });
  return b;
}
