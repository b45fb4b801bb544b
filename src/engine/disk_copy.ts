import type { VirtualDisk } from "../disk/mod";
import { isAllZero } from "../disks/mod";
import { createVhdx } from "../vhdx/mod";
import type { VhdxImage } from "../vhdx/mod";
import { sha256Hex, unitsOf } from "./units";

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
export function copyFull(source: VirtualDisk, destination: string, unitSize: number, progress?: CopyProgress): DiskCopyResult {
  const units = unitsOf(source.dataRanges("chain"), unitSize, source.virtualSize);
  const dest = createVhdx(destination, {
    virtualSize: source.virtualSize,
    blockSize: unitSize,
    logicalSectorSize: source.logicalSectorSize as 512 | 4096,
  });
  return eachUnit(source, dest, unitSize, units, progress, (part, start, result) => {
    if (isAllZero(part)) return;
    dest.write(part, start);
    result.units[String(start / unitSize)] = sha256Hex(part);
    result.storedBytes += part.length;
  });
}

/**
 * Writes the given units of `source` into a new differencing VHDX on `parentFile` (the previous
 * point's file). With `changed` (RCT's ranges), only those bytes of each unit are stored, so an
 * increment costs what changed, not whole units; the manifest still hashes the whole unit as
 * the guest sees it. Units that became zero are stored as zeros, which hide the parent.
 */
export function copyUnits(source: VirtualDisk, destination: string, parentFile: string, unitSize: number, units: readonly number[], progress?: CopyProgress, changed?: ReadonlyArray<{ offset: number; length: number }>): DiskCopyResult {
  const sortedChanged = changed ? [...changed].sort((a, b) => a.offset - b.offset) : undefined;
  let cursor = 0;
  const dest = createVhdx(destination, { parentPath: parentFile, blockSize: unitSize });
  return eachUnit(source, dest, unitSize, units, progress, (part, start, result) => {
    const end = start + part.length;
    if (isAllZero(part)) dest.writeZeroes(start, part.length);
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
    result.units[String(start / unitSize)] = sha256Hex(part);
  });
}

/**
 * Reads each unit of `source` into one reused buffer and hands it to `store`, then closes
 * `dest`: the loop both copies share (memory stays one unit, whatever the disk size).
 */
function eachUnit(
  source: VirtualDisk,
  dest: VhdxImage,
  unitSize: number,
  units: readonly number[],
  progress: CopyProgress | undefined,
  store: (part: Buffer, start: number, result: DiskCopyResult) => void,
): DiskCopyResult {
  const result: DiskCopyResult = { units: {}, storedBytes: 0, readBytes: 0 };
  try {
    const buf = Buffer.alloc(unitSize);
    units.forEach((u, i) => {
      const part = unitBuffer(buf, u, unitSize, source.virtualSize);
      source.read(part, u * unitSize);
      result.readBytes += part.length;
      store(part, u * unitSize, result);
      progress?.(i + 1, units.length);
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
export function changedUnitsByHash(source: VirtualDisk, unitSize: number, previous: ReadonlyMap<number, string>, progress?: CopyProgress): number[] {
  const candidates = new Set(unitsOf(source.dataRanges("chain"), unitSize, source.virtualSize));
  for (const u of previous.keys()) candidates.add(u);
  const sorted = [...candidates].sort((a, b) => a - b);
  const zeroHash = new Map<number, string>();
  const changed: number[] = [];
  const buf = Buffer.alloc(unitSize);
  sorted.forEach((u, i) => {
    const part = unitBuffer(buf, u, unitSize, source.virtualSize);
    source.read(part, u * unitSize);
    const now = isAllZero(part) ? undefined : sha256Hex(part);
    const before = previous.get(u);
    const beforeIsZero = before === undefined || before === zeroHashOf(part.length, zeroHash);
    if (now === undefined ? !beforeIsZero : now !== before) changed.push(u);
    progress?.(i + 1, sorted.length);
  });
  return changed;
}

/** The slice of `buf` for unit `u` (the last unit of a disk may be short). */
export function unitBuffer(buf: Buffer, u: number, unitSize: number, virtualSize: number): Buffer {
  return buf.subarray(0, Math.min(unitSize, virtualSize - u * unitSize));
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
