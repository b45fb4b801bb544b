/**
 * Resilient Change Tracking as the lab models it.
 *
 * Every guest write is remembered per disk with the global sequence number it got. An RCT id
 * (`rctX:<tracking guid>:<n>`) marks a sequence number; the changes "since id" are the writes
 * with a larger sequence number up to the cut of the file asked about (a checkpoint's frozen
 * file stops at the checkpoint, the live file at now).
 *
 * Precision follows what survived: writes are exact (the in-memory bitmap) until an event
 * degrades them. A live migration keeps only the persisted .rct granularity; a host crash
 * keeps only the coarser .mrt granularity. Degraded writes are reported rounded outwards to
 * their grain, so the answer is always a superset of what changed, never a subset.
 */
import { newGuid, type DiskRecord, type LabConfig, type RctRecord, type TrackedWrite } from "./model";

/** A fresh tracking record; disabled for VHD disks and configuration versions without RCT. */
export function newRct(enabled: boolean): RctRecord {
  return { enabled, trackingId: newGuid().toLowerCase(), next: 1, ids: [], writes: [] };
}

/** Remembers a guest write of `length` bytes at `offset` (rounded out to whole sectors). */
export function trackWrite(rct: RctRecord, seq: number, offset: number, length: number, sectorSize: number): void {
  if (!rct.enabled || length === 0) return;
  const start = Math.floor(offset / sectorSize) * sectorSize;
  const end = Math.ceil((offset + length) / sectorSize) * sectorSize;
  rct.writes.push({ seq, offset: start, length: end - start, grain: 1 });
}

/** Issues a new RCT id that marks sequence number `seq`. */
export function issueRctId(rct: RctRecord, seq: number): string {
  if (!rct.enabled) return "";
  const id = `rctX:${rct.trackingId}:${rct.next++}`;
  rct.ids.push({ id, seq });
  return id;
}

/** Forgets an id (its reference point was destroyed); drops writes no remaining id needs. */
export function forgetRctId(rct: RctRecord, id: string): void {
  rct.ids = rct.ids.filter((x) => x.id !== id);
  compact(rct);
}

/** Drops every id and all history: ids issued before are unknown from now on. */
export function resetRct(rct: RctRecord): void {
  rct.trackingId = newGuid().toLowerCase();
  rct.next = 1;
  rct.ids = [];
  rct.writes = [];
}

/** Writes older than every id can never be asked about again. */
function compact(rct: RctRecord): void {
  if (rct.ids.length === 0) {
    rct.writes = [];
    return;
  }
  const min = Math.min(...rct.ids.map((x) => x.seq));
  rct.writes = rct.writes.filter((w) => w.seq > min);
}

/** Coarsens every remembered write of `disks` to at least `grain` (migration, crash). */
export function degrade(disks: readonly DiskRecord[], grain: number): void {
  for (const d of disks) for (const w of d.rct.writes) w.grain = Math.max(w.grain, grain);
}

/** The outcome of a changes query. */
export type ChangesResult =
  | { ok: true; processed: number; offsets: number[]; lengths: number[] }
  | { ok: false; code: number; reason: string };

/** Family-B codes the lab answers with (see docs/lab-fidelity.md). */
export const RCT_INVALID_PARAMETER = 32773;
export const RCT_NOT_SUPPORTED = 32770;

/**
 * The changed ranges of `[offset, offset+length)` since `limitId`, up to sequence `upTo`.
 * Processes at most `config.rctMaxProcessed` bytes; ranges are clipped to what was processed
 * and to the disk, merged when they touch, sorted.
 */
export function changesSince(
  rct: RctRecord,
  limitId: string,
  upTo: number,
  offset: number,
  length: number,
  virtualSize: number,
  config: Pick<LabConfig, "rctMaxProcessed">,
): ChangesResult {
  if (!rct.enabled) return { ok: false, code: RCT_NOT_SUPPORTED, reason: "change tracking is not enabled for this disk" };
  const mark = rct.ids.find((x) => x.id === limitId);
  if (!mark) {
    const why = limitId.startsWith(`rctX:${rct.trackingId}:`) ? "was destroyed" : "is unknown or was reset";
    return { ok: false, code: RCT_INVALID_PARAMETER, reason: `RCT id '${limitId}' ${why}` };
  }
  if (offset + length > virtualSize) {
    return { ok: false, code: RCT_INVALID_PARAMETER, reason: `region ${offset}+${length} ends after the disk (${virtualSize} bytes)` };
  }
  const processed = Math.min(length, config.rctMaxProcessed);
  const lo = offset;
  const hi = offset + processed;
  const raw: [number, number][] = [];
  for (const w of rct.writes as TrackedWrite[]) {
    if (w.seq <= mark.seq || w.seq > upTo) continue;
    let s = Math.floor(w.offset / w.grain) * w.grain;
    let e = Math.ceil((w.offset + w.length) / w.grain) * w.grain;
    e = Math.min(e, virtualSize);
    s = Math.max(s, lo);
    e = Math.min(e, hi);
    if (s < e) raw.push([s, e]);
  }
  raw.sort((a, b) => a[0] - b[0]);
  const offsets: number[] = [];
  const lengths: number[] = [];
  let cur: [number, number] | undefined;
  for (const r of raw) {
    if (cur && r[0] <= cur[1]) cur[1] = Math.max(cur[1], r[1]);
    else {
      if (cur) {
        offsets.push(cur[0]);
        lengths.push(cur[1] - cur[0]);
      }
      cur = [r[0], r[1]];
    }
  }
  if (cur) {
    offsets.push(cur[0]);
    lengths.push(cur[1] - cur[0]);
  }
  return { ok: true, processed, offsets, lengths };
}
