import { HvbError } from "../../base/mod";
import type { VirtualDisk } from "../../disk/mod";
import { VhdxImage } from "../../vhdx/mod";
import { MESSAGE_MAX, messageOffset, type Slot, TARGET_READ, forget, giveBack, takeSlots } from "./buffers";
import { type PoolWorker, type WorkerPool, sharedPool } from "./worker_pool";

/** What the pipeline learned about one unit. */
export interface UnitResult {
  /** Every byte is zero (then no hash was computed). */
  zero: boolean;
  /** SHA-256 in hex of the unit's bytes, when not zero. */
  sha256: string | undefined;
}

/**
 * Called on the calling thread for each unit, in the order of `units`, with the unit's bytes.
 * `data` is lent: it is reused once the call returns. Throwing stops the pipeline.
 */
export type UnitConsumer = (unit: number, data: Buffer, result: UnitResult) => void;

/** What {@link forEachUnit} reads and whom it hands the units to. */
export interface UnitPipelineOptions {
  source: VirtualDisk;
  unitSize: number;
  /** Unit indexes to read, ascending and unique. */
  units: readonly number[];
  consume: UnitConsumer;
  /** The pool to use (tests); the process's shared pool by default. */
  pool?: WorkerPool;
  /** Buffers in flight at most (tests); by default one per worker plus two (one being written, one being read). */
  maxBuffers?: number;
}

/** Consecutive units read and hashed as one job. */
interface Batch {
  first: number;
  count: number;
  offset: number;
  length: number;
}

interface InFlight {
  batch: Batch;
  slot: Slot;
  worker: PoolWorker;
}

const PENDING = 0;
const FAILED = 2;

/**
 * Reads the given units of `source`, checks each for zeros and hashes it (SHA-256) on the
 * worker pool, and hands them to `consume` in order on this thread: the one copy, restore and
 * verify loop. Reading is ahead into a bounded set of shared buffers, hashing runs on other
 * cores, and `consume` (the writes) overlaps both. VHDX sources are read by the workers from
 * the chain's block map ({@link VhdxImage.locate}: each byte once, from the newest file that
 * holds it, zeros never read); other formats are read here and hashed there.
 *
 * On any failure (a read, a hash worker dying, `consume` throwing) it stops handing out work,
 * waits for the jobs in flight (no worker touches a buffer or descriptor after it returns) and
 * throws the first error; what `consume` wrote is the caller's to discard.
 */
export function forEachUnit(options: UnitPipelineOptions): void {
  const { source, unitSize, units, consume } = options;
  if (units.length === 0) return;
  const pool = options.pool ?? sharedPool();
  const unitsPerSlot = Math.max(1, Math.floor(TARGET_READ / unitSize));
  const batches = batchesOf(units, unitSize, unitsPerSlot, source.virtualSize);
  const want = Math.min(batches.length, options.maxBuffers ?? pool.size + 2);
  const slots = takeSlots(unitSize * unitsPerSlot, unitsPerSlot, want);
  const free = [...slots];
  const inFlight: InFlight[] = [];
  const mapped = source instanceof VhdxImage ? source : undefined;
  let next = 0;
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      while (!failure && free.length > 0 && next < batches.length) {
        const slot = free.pop()!;
        const batch = batches[next++]!;
        try {
          inFlight.push({ batch, slot, worker: pool.post(jobFor(batch, slot, unitSize, unitsPerSlot, source, mapped)) });
        } catch (e) {
          free.push(slot);
          failure = { error: e };
        }
      }
      // Read before looking at statuses, so a completion in between ends the wait at once.
      const seen = pool.completions();
      while (inFlight.length > 0) {
        const head = inFlight[0]!;
        const result = new Int32Array(head.slot.result);
        const status = Atomics.load(result, 0);
        if (status === PENDING) {
          if (!pool.isDead(head.worker)) break;
          failure ??= { error: new Error("A hashing worker thread stopped unexpectedly; nothing was published (run the command again)") };
        } else if (status === FAILED) {
          const text = Buffer.from(head.slot.result).subarray(messageOffset(unitsPerSlot), messageOffset(unitsPerSlot) + result[1]!).toString();
          failure ??= { error: new HvbError("IoError", `Reading '${source.path}' at ${head.batch.offset} (${head.batch.length} bytes) failed: ${text}`, { category: "ReadError", target: source.path }) };
        } else if (!failure) {
          try {
            handOver(head, unitSize, consume);
          } catch (e) {
            failure = { error: e };
          }
        }
        inFlight.shift();
        pool.collected(head.worker);
        // A dead worker's buffer may still be written by it, in theory: do not reuse it.
        if (status === PENDING) forget(head.slot);
        else free.push(head.slot);
      }
      if (inFlight.length === 0 && (failure || next >= batches.length)) break;
      if (inFlight.length > 0) pool.wait(seen, 1000);
    }
  } finally {
    giveBack(free);
  }
  if (failure) throw failure.error;
}

/** Units grouped into runs of consecutive indexes, at most `perSlot` each. */
function batchesOf(units: readonly number[], unitSize: number, perSlot: number, virtualSize: number): Batch[] {
  const out: Batch[] = [];
  for (const u of units) {
    const last = out[out.length - 1];
    if (last && last.first + last.count === u && last.count < perSlot) last.count++;
    else out.push({ first: u, count: 1, offset: u * unitSize, length: 0 });
  }
  for (const b of out) b.length = Math.min(b.count * unitSize, virtualSize - b.offset);
  return out;
}

function jobFor(batch: Batch, slot: Slot, unitSize: number, unitsPerSlot: number, source: VirtualDisk, mapped: VhdxImage | undefined): Parameters<WorkerPool["post"]>[0] {
  const runs: number[] = [];
  const paths: string[] = [];
  if (mapped) {
    for (const r of mapped.locate(batch.offset, batch.length)) {
      runs.push(r.offset - batch.offset, r.length, r.fd, r.fileOffset);
      paths.push(r.path);
    }
  } else {
    source.read(new Uint8Array(slot.data, 0, batch.length), batch.offset);
  }
  const unitBytes: number[] = [];
  for (let i = 0; i < batch.count; i++) unitBytes.push(i * unitSize, Math.min(unitSize, batch.length - i * unitSize));
  Atomics.store(new Int32Array(slot.result), 0, PENDING);
  return { data: slot.data, length: batch.length, runs, paths, units: unitBytes, result: slot.result, messageAt: messageOffset(unitsPerSlot), messageMax: MESSAGE_MAX };
}

function handOver(done: InFlight, unitSize: number, consume: UnitConsumer): void {
  const { batch, slot } = done;
  const bytes = new Uint8Array(slot.result);
  for (let i = 0; i < batch.count; i++) {
    const at = 8 + i * 33;
    const zero = bytes[at] === 1;
    const start = i * unitSize;
    const data = Buffer.from(slot.data, start, Math.min(unitSize, batch.length - start));
    consume(batch.first + i, data, { zero, sha256: zero ? undefined : Buffer.from(slot.result, at + 1, 32).toString("hex") });
  }
}
