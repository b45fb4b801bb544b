/** Bytes of data buffers all pipelines of the process may hold at once. */
export const BUFFER_BUDGET = 64 * 1024 * 1024;
/** Bytes one read aims for: several 2 MiB units per read and per job. */
export const TARGET_READ = 8 * 1024 * 1024;

/** One data buffer and its result words (see worker_source.ts). */
export interface Slot {
  data: SharedArrayBuffer;
  result: SharedArrayBuffer;
}

/** Room for the error message in a result buffer. */
export const MESSAGE_MAX = 1024;

/** Where the error message starts in a result buffer of `unitsPerSlot` units. */
export function messageOffset(unitsPerSlot: number): number {
  return 8 + unitsPerSlot * 33;
}

let held = 0;
const idle: Slot[] = [];

/**
 * Takes up to `want` slots of `bytes` each within the process-wide budget, reusing idle ones.
 * With `atLeastOne` (a pipeline that blocks its thread and so cannot wait for another to give
 * buffers back) it gives one even past the budget; without it (the async pipelines of parallel
 * VMs) it may give none, and the caller waits with {@link whenGivenBack}. A buffer larger than
 * the whole budget is always given: a unit must still be read. Memory stays bounded by the
 * budget whatever the disk size or the number of pipelines, since a pipeline never holds more
 * than it took here.
 */
export function takeSlots(bytes: number, unitsPerSlot: number, want: number, atLeastOne = true): Slot[] {
  // Whole Int32 words: the status words are read through an Int32Array over the buffer.
  const resultBytes = Math.ceil((messageOffset(unitsPerSlot) + MESSAGE_MAX) / 4) * 4;
  const out: Slot[] = [];
  while (out.length < want) {
    const i = idle.findIndex((s) => s.data.byteLength === bytes && s.result.byteLength === resultBytes);
    if (i >= 0) {
      out.push(idle.splice(i, 1)[0]!);
      continue;
    }
    if ((out.length > 0 || (!atLeastOne && bytes <= BUFFER_BUDGET)) && held + bytes > BUFFER_BUDGET) {
      // Drop idle buffers of other sizes before giving up on more.
      const other = idle.pop();
      if (!other) break;
      held -= other.data.byteLength;
      continue;
    }
    while (held + bytes > BUFFER_BUDGET && idle.length > 0) held -= idle.pop()!.data.byteLength;
    out.push({ data: new SharedArrayBuffer(bytes), result: new SharedArrayBuffer(resultBytes) });
    held += bytes;
  }
  return out;
}

/** Returns slots for reuse (kept while within the budget), and wakes pipelines waiting for them. */
export function giveBack(slots: readonly Slot[]): void {
  idle.push(...slots);
  if (slots.length > 0) wake();
}

/** Drops a slot a dead worker may still write to: never reused, no longer counted. */
export function forget(slot: Slot): void {
  held -= slot.data.byteLength;
  wake();
}

let waiters: Array<() => void> = [];

/** Resolves the next time buffers are given back or dropped (then try {@link takeSlots} again). */
export function whenGivenBack(): Promise<void> {
  return new Promise((resolve) => waiters.push(resolve));
}

function wake(): void {
  const now = waiters;
  waiters = [];
  for (const w of now) w();
}

/** Bytes of data buffers held (in use or idle), for tests. */
export function heldBytes(): number {
  return held;
}
