import type { VirtualDisk } from "../disk/mod";
import { createVhdx } from "../vhdx/mod";
import type { VhdxImage } from "../vhdx/mod";
import { forEachUnitAsync, type UnitResult, type WriteBehind } from "./pipeline/unit_pipeline";
import { chainUnitsAnd, sha256Hex, unitsOf } from "./units";

/** What copying one disk into the repository produced. */
export interface DiskCopyResult {
  /** SHA-256 per unit index of every unit stored (see Manifest). */
  units: Record<string, string>;
  /** Payload bytes written. */
  storedBytes: number;
  /** Bytes read from the source. */
  readBytes: number;
}

/** Reports bytes done of a total. */
export type CopyProgress = (done: number, total: number) => void;

/**
 * Copies every unit of `source` that holds data into a new dynamic VHDX whose block size is the
 * unit size. Zero units are skipped: they stay unallocated and unlisted (a full's absent unit
 * is zero).
 */
export async function copyFull(source: VirtualDisk, destination: string, unitSize: number, progress?: CopyProgress): Promise<DiskCopyResult> {
  const units = unitsOf(source.dataRanges("chain"), unitSize, source.virtualSize);
  const dest = createVhdx(destination, {
    virtualSize: source.virtualSize,
    blockSize: unitSize,
    logicalSectorSize: source.logicalSectorSize as 512 | 4096,
  });
  return await eachUnit(source, dest, unitSize, units, progress, (part, start, hash, result) => {
    if (hash.zero) return undefined;
    result.units[String(start / unitSize)] = hash.sha256!;
    result.storedBytes += part.length;
    // A whole new block is written by a worker (the main thread only places it in the BAT).
    const place = dest.placeBlock(start, part.length);
    if (place) return { ...place, path: destination };
    dest.write(part, start);
    return undefined;
  });
}

/**
 * Writes the given units of `source` into a new differencing VHDX on `parentFile` (the previous
 * point's file). With `changed` (RCT's ranges), only those bytes of each unit are stored, so an
 * increment costs what changed, not whole units; the manifest still hashes the whole unit as
 * the guest sees it. Units that became zero are stored as zeros, which hide the parent.
 */
export async function copyUnits(source: VirtualDisk, destination: string, parentFile: string, unitSize: number, units: readonly number[], progress?: CopyProgress, changed?: ReadonlyArray<{ offset: number; length: number }>): Promise<DiskCopyResult> {
  const sortedChanged = changed ? [...changed].sort((a, b) => a.offset - b.offset) : undefined;
  let cursor = 0;
  const zeroHash = new Map<number, string>();
  const dest = createVhdx(destination, { parentPath: parentFile, blockSize: unitSize });
  return await eachUnit(source, dest, unitSize, units, progress, (part, start, hash, result) => {
    const end = start + part.length;
    if (hash.zero) dest.writeZeroes(start, part.length);
    else if (!sortedChanged) {
      dest.write(part, start);
      result.storedBytes += part.length;
    } else {
      while (cursor < sortedChanged.length && sortedChanged[cursor]!.offset + sortedChanged[cursor]!.length <= start) cursor++;
      for (let k = cursor; k < sortedChanged.length && sortedChanged[k]!.offset < end; k++) {
        const from = Math.max(start, sortedChanged[k]!.offset);
        const to = Math.min(end, sortedChanged[k]!.offset + sortedChanged[k]!.length);
        if (from >= to) continue;
        dest.write(part.subarray(from - start, to - start), from);
        result.storedBytes += to - from;
      }
    }
    result.units[String(start / unitSize)] = hash.zero ? zeroHashOf(part.length, zeroHash) : hash.sha256!;
    return undefined;
  });
}

/**
 * Runs the units of `source` through the pipeline (read ahead, zero check and SHA-256 on the
 * worker threads) and hands each, in order, to `store`, then closes `dest`: the loop both
 * copies share. Memory stays the pipeline's bounded buffers, whatever the disk size. It waits
 * for the workers without blocking the thread, so the copies of parallel VMs overlap.
 */
async function eachUnit(
  source: VirtualDisk,
  dest: VhdxImage,
  unitSize: number,
  units: readonly number[],
  progress: CopyProgress | undefined,
  store: (part: Buffer, start: number, hash: UnitResult, result: DiskCopyResult) => WriteBehind | undefined,
): Promise<DiskCopyResult> {
  const result: DiskCopyResult = { units: {}, storedBytes: 0, readBytes: 0 };
  try {
    let done = 0;
    await forEachUnitAsync({
      source,
      unitSize,
      units,
      consume: (u, part, hash) => {
        result.readBytes += part.length;
        const behind = store(part, u * unitSize, hash, result);
        progress?.(++done, units.length);
        return behind;
      },
    });
  } finally {
    dest.close();
  }
  return result;
}

/**
 * Finds the units whose content differs from `previous` (unit -> hash at the previous point;
 * absent means zero) by reading and hashing every unit that holds data now or did before.
 * Used when RCT cannot say what changed (VHD disks, configuration version 5.0, lost ids).
 */
export async function changedUnitsByHash(source: VirtualDisk, unitSize: number, previous: ReadonlyMap<number, string>, progress?: CopyProgress): Promise<number[]> {
  const sorted = chainUnitsAnd(source, unitSize, previous.keys());
  const zeroHash = new Map<number, string>();
  const changed: number[] = [];
  let done = 0;
  await forEachUnitAsync({
    source,
    unitSize,
    units: sorted,
    consume: (u, part, hash) => {
      const before = previous.get(u);
      const beforeIsZero = before === undefined || before === zeroHashOf(part.length, zeroHash);
      if (hash.zero ? !beforeIsZero : hash.sha256 !== before) changed.push(u);
      progress?.(++done, sorted.length);
    },
  });
  return changed;
}

/** SHA-256 of `length` zero bytes, memoised. */
export function zeroHashOf(length: number, cache: Map<number, string>): string {
  let h = cache.get(length);
  if (!h) {
    h = sha256Hex(new Uint8Array(length));
    cache.set(length, h);
  }
  return h;
}
