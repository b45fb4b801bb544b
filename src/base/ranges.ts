/** Byte ranges: the one `ByteRange` type of the product and the operations every layer shares. */

/** A half-open byte range `[offset, offset + length)`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Sorts ranges and merges overlapping or touching ones, dropping empty ones; with `clip`, cuts
 * them to that region first (pure).
 *
 * @example
 * mergeRanges([{ offset: 10, length: 5 }, { offset: 0, length: 10 }, { offset: 20, length: 1 }]);
 * // [{ offset: 0, length: 15 }, { offset: 20, length: 1 }]
 */
export function mergeRanges(ranges: readonly ByteRange[], clip?: ByteRange): ByteRange[] {
  const lo = clip ? clip.offset : -Infinity;
  const hi = clip ? clip.offset + clip.length : Infinity;
  const cut = ranges
    .map((r) => ({ start: Math.max(r.offset, lo), end: Math.min(r.offset + r.length, hi) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  let cur: { start: number; end: number } | undefined;
  for (const r of cut) {
    if (cur && r.start <= cur.end) {
      cur.end = Math.max(cur.end, r.end);
    } else {
      if (cur) out.push({ offset: cur.start, length: cur.end - cur.start });
      cur = { ...r };
    }
  }
  if (cur) out.push({ offset: cur.start, length: cur.end - cur.start });
  return out;
}

/** Appends a range, merging it with the last one when they touch (input in ascending order). */
export function pushRange(out: ByteRange[], offset: number, length: number): void {
  if (length <= 0) return;
  const last = out[out.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else out.push({ offset, length });
}

/** The total length of `ranges`. */
export function totalLength(ranges: readonly ByteRange[]): number {
  return ranges.reduce((n, r) => n + r.length, 0);
}
