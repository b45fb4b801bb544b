import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, MiB, SECTORS_PER_BITMAP_BLOCK } from "./_layout";

/**
 * BAT geometry (MS-VHDX 2.5): payload block entries interleaved with one sector-bitmap entry
 * after every `chunkRatio` payload entries.
 */
export interface BatGeometry {
  blockSize: number;
  logicalSectorSize: number;
  virtualSize: number;
  /** Payload blocks per sector bitmap block: 2^23 * LogicalSectorSize / BlockSize. */
  chunkRatio: number;
  dataBlocks: number;
  bitmapBlocks: number;
  /** Number of 8-byte entries the BAT must hold. */
  totalEntries: number;
}

/** Computes the BAT geometry for a disk. */
export function batGeometry(virtualSize: number, blockSize: number, logicalSectorSize: number, hasParent: boolean): BatGeometry {
  const chunkRatio = (SECTORS_PER_BITMAP_BLOCK * logicalSectorSize) / blockSize;
  const dataBlocks = Math.ceil(virtualSize / blockSize);
  const bitmapBlocks = Math.ceil(dataBlocks / chunkRatio);
  const totalEntries = hasParent
    ? bitmapBlocks * (chunkRatio + 1)
    : dataBlocks + Math.floor(Math.max(dataBlocks - 1, 0) / chunkRatio);
  return { blockSize, logicalSectorSize, virtualSize, chunkRatio, dataBlocks, bitmapBlocks, totalEntries };
}

/** BAT index of payload block `b`. */
export function payloadIndex(g: BatGeometry, block: number): number {
  return block + Math.floor(block / g.chunkRatio);
}

/** BAT index of the sector bitmap block of chunk `c`. */
export function bitmapIndex(g: BatGeometry, chunk: number): number {
  return chunk * (g.chunkRatio + 1) + g.chunkRatio;
}

/** State field (bits 0-2) of a BAT entry. */
export function entryState(entry: bigint): number {
  return Number(entry & 7n);
}

/** File offset (bits 20-63, in MiB) of a BAT entry, in bytes. */
export function entryOffset(entry: bigint): number {
  return Number(entry >> 20n) * MiB;
}

/** Builds a BAT entry from a state and a 1 MiB-aligned file offset. */
export function makeEntry(state: number, fileOffset: number): bigint {
  return (BigInt(fileOffset / MiB) << 20n) | BigInt(state);
}

/** True when `n` is a valid VHDX block size (power of two, 1..256 MiB). */
export function isValidBlockSize(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_BLOCK_SIZE && n <= MAX_BLOCK_SIZE && (n & (n - 1)) === 0;
}
