import { createHash } from "node:crypto";

/** Smallest hash unit and VHDX block size of stored disks. */
const MIN_UNIT = 2 * 1024 * 1024;
/** Largest: the VHDX maximum block size. */
const MAX_UNIT = 256 * 1024 * 1024;
/** Units per disk at most, so manifests stay bounded (64 Ki units = a few MiB of JSON). */
const MAX_UNITS = 65536;

/**
 * The hash unit of a disk chain, fixed when its full is taken: 2 MiB, or larger powers of two
 * for disks over 128 GiB so a manifest never lists more than 64 Ki units. It is also the block
 * size of the VHDX files the repository stores, so a unit is a block.
 *
 * @example
 * unitSizeFor(64 * 2 ** 30); // 2097152
 */
export function unitSizeFor(virtualSize: number): number {
  let unit = MIN_UNIT;
  while (unit < MAX_UNIT && Math.ceil(virtualSize / unit) > MAX_UNITS) unit *= 2;
  return unit;
}

/** SHA-256 of a buffer in hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Unit indexes touched by byte ranges, sorted and unique. */
export function unitsOf(ranges: ReadonlyArray<{ offset: number; length: number }>, unitSize: number, virtualSize: number): number[] {
  const out: number[] = [];
  let last = -1;
  const sorted = [...ranges].sort((a, b) => a.offset - b.offset);
  for (const r of sorted) {
    if (r.length <= 0) continue;
    const first = Math.floor(r.offset / unitSize);
    const end = Math.min(Math.ceil((r.offset + r.length) / unitSize), Math.ceil(virtualSize / unitSize));
    for (let u = Math.max(first, last + 1); u < end; u++) {
      out.push(u);
      last = u;
    }
  }
  return out;
}

/**
 * The units to look at when comparing a disk with what a manifest or an earlier point says:
 * every unit that holds data anywhere in the disk's chain, plus every unit `known` names (it
 * may read as zero now, which is a change or damage too), sorted and unique.
 */
export function chainUnitsAnd(source: { dataRanges(scope: "chain"): ReadonlyArray<{ offset: number; length: number }>; virtualSize: number }, unitSize: number, known: Iterable<number>): number[] {
  const units = new Set(unitsOf(source.dataRanges("chain"), unitSize, source.virtualSize));
  for (const u of known) units.add(u);
  return [...units].sort((a, b) => a - b);
}
