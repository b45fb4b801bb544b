import { SECTOR_SIZE, roundUp } from "./_layout";

/**
 * The sector bitmap at the start of every block ("Block Allocation Table and Data Blocks"):
 * one bit per 512-byte sector of the block, most significant bit first (bit 7 of byte 0 is the
 * block's first sector), padded to a sector boundary. Dynamic disks: 1 = sector holds data,
 * 0 = reads as zeros. Differencing disks: 1 = sector is in this file, 0 = read it from the parent.
 */
export type SectorBitmap = Uint8Array;

/** Bytes of the on-disk bitmap of a block of `blockSize` bytes (padded to 512). */
export function bitmapByteSize(blockSize: number): number {
  return roundUp(Math.ceil(blockSize / SECTOR_SIZE / 8), SECTOR_SIZE);
}

/** True when sector `i` of the block is marked. */
export function isSectorSet(bitmap: SectorBitmap, i: number): boolean {
  return (bitmap[i >>> 3]! & (0x80 >>> (i & 7))) !== 0;
}

/** Marks sectors `[first, first + count)`. Returns true when any bit changed. */
export function setSectors(bitmap: SectorBitmap, first: number, count: number): boolean {
  let changed = false;
  for (let i = first; i < first + count; i++) {
    const mask = 0x80 >>> (i & 7);
    const byte = bitmap[i >>> 3]!;
    if ((byte & mask) === 0) {
      bitmap[i >>> 3] = byte | mask;
      changed = true;
    }
  }
  return changed;
}

/** A run of sectors with the same bit value. */
export interface SectorRun {
  first: number;
  count: number;
  set: boolean;
}

/**
 * Splits sectors `[first, first + count)` into maximal runs of equal bits.
 *
 * @example sectorRuns(Uint8Array.of(0b01100000), 0, 4) // [{first:0,count:1,set:false},{first:1,count:2,set:true},{first:3,count:1,set:false}]
 */
export function sectorRuns(bitmap: SectorBitmap, first: number, count: number): SectorRun[] {
  const runs: SectorRun[] = [];
  const end = first + count;
  let i = first;
  while (i < end) {
    const set = isSectorSet(bitmap, i);
    let j = i + 1;
    while (j < end) {
      // Skip whole bytes quickly when they are uniform and match.
      if ((j & 7) === 0 && j + 8 <= end) {
        const byte = bitmap[j >>> 3]!;
        if (byte === (set ? 0xff : 0x00)) {
          j += 8;
          continue;
        }
      }
      if (isSectorSet(bitmap, j) !== set) break;
      j++;
    }
    runs.push({ first: i, count: j - i, set });
    i = j;
  }
  return runs;
}
