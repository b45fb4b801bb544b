import { readU32, writeU32 } from "./_be";
import { VhdStructureError, hex } from "./_errors";
import { BAT_UNUSED, SECTOR_SIZE, roundUp } from "./_layout";

/**
 * The Block Allocation Table ("Block Allocation Table and Data Blocks"): one big-endian u32 per
 * block, the absolute *sector* number of the block (its sector bitmap comes first), or
 * 0xFFFFFFFF when the block is not allocated. On disk the table is padded to a sector boundary;
 * the padding is written as 0xFF like qemu and Hyper-V do.
 */
export type Bat = Uint32Array;

/** Bytes the BAT of `entries` entries occupies on disk (padded to 512). */
export function batByteSize(entries: number): number {
  return roundUp(entries * 4, SECTOR_SIZE);
}

/** Parses `entries` big-endian entries. */
export function parseBat(bytes: Uint8Array, entries: number): Bat {
  if (bytes.length < entries * 4) throw new VhdStructureError("BAT", `is ${bytes.length} bytes, expected ${entries * 4} for ${entries} entries`);
  const bat = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) bat[i] = readU32(bytes, i * 4);
  return bat;
}

/** Serialises a BAT, padded to a sector boundary with 0xFF. */
export function serializeBat(bat: Bat): Uint8Array {
  const b = new Uint8Array(batByteSize(bat.length)).fill(0xff);
  for (let i = 0; i < bat.length; i++) writeU32(b, i * 4, bat[i]!);
  return b;
}

/** Encodes one entry (for in-place updates of a single entry). */
export function serializeBatEntry(sector: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, sector);
  return b;
}

/** Where blocks may live: after the metadata, wholly inside the file. */
export interface BatBounds {
  /** Bytes of one block on disk: sector bitmap plus data. */
  blockBytes: number;
  /** File byte ranges blocks must not overlap (footer copy, header, BAT, locator data). */
  reserved: Array<{ offset: number; length: number }>;
  /** Bytes of the file that blocks may occupy (file size, minus the footer when one is at the end). */
  limit: number;
}

/**
 * Checks every allocated entry: block inside the file, not over metadata, no two blocks
 * overlapping. Throws {@link VhdStructureError} naming the first bad entry.
 */
export function checkBat(bat: Bat, bounds: BatBounds): void {
  const starts: number[] = [];
  for (let i = 0; i < bat.length; i++) {
    const e = bat[i]!;
    if (e === BAT_UNUSED) continue;
    const start = e * SECTOR_SIZE;
    const end = start + bounds.blockBytes;
    if (end > bounds.limit) {
      throw new VhdStructureError("BAT", `entry ${i} points at sector ${hex(e)} (offset ${start}); the block ends at ${end}, past the end of data at ${bounds.limit}`);
    }
    for (const r of bounds.reserved) {
      if (start < r.offset + r.length && r.offset < end) {
        throw new VhdStructureError("BAT", `entry ${i} points at offset ${start}, inside metadata at [${r.offset}, ${r.offset + r.length})`);
      }
    }
    starts.push(start);
  }
  starts.sort((a, b) => a - b);
  for (let i = 1; i < starts.length; i++) {
    if (starts[i]! - starts[i - 1]! < bounds.blockBytes) {
      throw new VhdStructureError("BAT", `two entries point at overlapping blocks at offsets ${starts[i - 1]} and ${starts[i]}`);
    }
  }
}
