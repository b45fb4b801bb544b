import { checksumWithFieldZeroed } from "./crc32c";
import { StructureError, hex } from "./errors";
import { readGuid, writeGuid } from "./guid";
import { printable } from "./header";
import { MAX_TABLE_ENTRIES, MiB, REGION_BAT, REGION_METADATA, REGION_TABLE_SIZE, SIG_REGION } from "./_layout";

/** One region table entry (MS-VHDX 2.2.3.2). */
export interface RegionEntry {
  guid: string;
  fileOffset: number;
  length: number;
  required: boolean;
}

/** Parses a 64 KiB region table; checks signature, checksum, count, alignment and known regions. */
export function parseRegionTable(block: Uint8Array, name = "region table"): RegionEntry[] {
  if (block.length < REGION_TABLE_SIZE) throw new StructureError(name, `got ${block.length} bytes, expected ${REGION_TABLE_SIZE}`);
  const b = Buffer.from(block.buffer, block.byteOffset, REGION_TABLE_SIZE);
  const sig = b.toString("latin1", 0, 4);
  if (sig !== SIG_REGION) throw new StructureError(name, `signature is '${printable(sig)}', expected '${SIG_REGION}'`);
  const stored = b.readUInt32LE(4);
  const actual = checksumWithFieldZeroed(b, 4);
  if (stored !== actual) throw new StructureError(name, `checksum is ${hex(stored)}, expected ${hex(actual)}`);
  const count = b.readUInt32LE(8);
  if (count > MAX_TABLE_ENTRIES) throw new StructureError(name, `EntryCount ${count} exceeds ${MAX_TABLE_ENTRIES}`);
  const entries: RegionEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 16 + i * 32;
    const e: RegionEntry = {
      guid: readGuid(b, at),
      fileOffset: Number(b.readBigUInt64LE(at + 16)),
      length: b.readUInt32LE(at + 24),
      required: (b.readUInt32LE(at + 28) & 1) === 1,
    };
    const label = `${name} entry ${i}`;
    if (e.fileOffset % MiB !== 0 || e.fileOffset < MiB) throw new StructureError(label, `FileOffset ${e.fileOffset} is not a multiple of 1 MiB at or after 1 MiB`);
    if (e.length % MiB !== 0 || e.length === 0) throw new StructureError(label, `Length ${e.length} is not a non-zero multiple of 1 MiB`);
    if (entries.some((x) => x.guid === e.guid)) throw new StructureError(label, `region ${e.guid} appears twice`);
    if (e.required && e.guid !== REGION_BAT && e.guid !== REGION_METADATA) {
      throw new StructureError(label, `unknown required region ${e.guid}`);
    }
    entries.push(e);
  }
  return entries;
}

/** Serialises region entries into a 64 KiB table with a correct checksum. */
export function serializeRegionTable(entries: readonly RegionEntry[]): Uint8Array {
  const b = Buffer.alloc(REGION_TABLE_SIZE);
  b.write(SIG_REGION, 0, "latin1");
  b.writeUInt32LE(entries.length, 8);
  entries.forEach((e, i) => {
    const at = 16 + i * 32;
    writeGuid(b, at, e.guid);
    b.writeBigUInt64LE(BigInt(e.fileOffset), at + 16);
    b.writeUInt32LE(e.length, at + 24);
    b.writeUInt32LE(e.required ? 1 : 0, at + 28);
  });
  b.writeUInt32LE(checksumWithFieldZeroed(b, 4), 4);
  return b;
}
