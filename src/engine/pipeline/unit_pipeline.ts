import { HvbError } from "../../base/mod";
import type { VirtualDisk } from "../../disk/mod";
import { VhdxImage } from "../../vhdx/mod";
import { MESSAGE_MAX, messageOffset, type Slot, TARGET_READ, forget, giveBack, takeSlots, whenGivenBack } from "./buffers";
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
 * `data` is lent: it is reused once the call returns, unless the consumer returns where the
 * bytes are to be written ({@link WriteBehind}): then a worker writes them there, and the
 * pipeline returns only after every such write ended. Throwing stops the pipeline.
 */
export type UnitConsumer = (unit: number, data: Buffer, result: UnitResult) => WriteBehind | void;

/** Where a worker is to write a unit's bytes (see VhdxImage.placeBlock): the writes leave this thread. */
export interface WriteBehind {
  fd: number;
  fileOffset: number;
  /** The file, for messages. */
  path: string;
}

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

/** A buffer whose units a worker is writing out; free again when that job ends. */
interface Writing {
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
 *
 * This form blocks the thread while the workers read and hash (Atomics.wait): for commands
 * that copy one thing at a time. {@link forEachUnitAsync} is the same loop for copies that
 * must overlap others (parallel VMs).
 */
export function forEachUnit(options: UnitPipelineOptions): void {
  const run = new PipelineRun(options);
  try {
    for (let seen = run.pump(); seen !== undefined; seen = run.pump()) run.pool.wait(seen, 1000);
  } finally {
    run.end();
  }
  run.rethrow();
}

/**
 * {@link forEachUnit} that yields to the event loop while the workers read and hash
 * (Atomics.waitAsync): several VMs' copies of one run share the worker pool and the buffer
 * budget, and while one waits for its next unit another writes, plans or talks to the host.
 */
export async function forEachUnitAsync(options: UnitPipelineOptions): Promise<void> {
  const run = new PipelineRun(options, false);
  try {
    // Every buffer of the budget is in other pipelines' hands: wait for one (memory stays
    // bounded whatever --parallel). Those pipelines hold buffers only while they run, so one
    // comes back.
    while (!run.takeBuffers()) await whenGivenBack();
    for (let seen = run.pump(); seen !== undefined; seen = run.pump()) await run.pool.waitAsync(seen, 1000);
  } finally {
    run.end();
  }
  run.rethrow();
}

/**
 * One pipeline's state: what is posted, what is free, the first failure. {@link pump} does all
 * the work that can be done now and says what to wait for; the two drivers above differ only
 * in how they wait.
 */
class PipelineRun {
  readonly pool: WorkerPool;
  readonly #source: VirtualDisk;
  readonly #unitSize: number;
  readonly #consume: UnitConsumer;
  readonly #unitsPerSlot: number;
  readonly #batches: Batch[];
  readonly #free: Slot[];
  readonly #inFlight: InFlight[] = [];
  #writing: Writing[] = [];
  readonly #mapped: VhdxImage | undefined;
  #next = 0;
  #failure: { error: unknown } | undefined;

  readonly #want: number;
  readonly #slotBytes: number;

  /** `atLeastOne`: see {@link takeSlots}; a run constructed without it calls {@link takeBuffers} until it has some. */
  constructor(options: UnitPipelineOptions, atLeastOne = true) {
    const { source, unitSize, units } = options;
    this.pool = options.pool ?? sharedPool();
    this.#source = source;
    this.#unitSize = unitSize;
    this.#consume = options.consume;
    this.#unitsPerSlot = Math.max(1, Math.floor(TARGET_READ / unitSize));
    this.#batches = units.length === 0 ? [] : batchesOf(units, unitSize, this.#unitsPerSlot, source.virtualSize);
    this.#want = Math.min(this.#batches.length, options.maxBuffers ?? this.pool.size + 2);
    this.#slotBytes = unitSize * this.#unitsPerSlot;
    this.#free = this.#want === 0 ? [] : takeSlots(this.#slotBytes, this.#unitsPerSlot, this.#want, atLeastOne);
    this.#mapped = source instanceof VhdxImage ? source : undefined;
  }

  /**
   * Posts what the free buffers allow and hands over, in order, every finished batch at the
   * head. Returns the completion count to wait on, or undefined when nothing is left in flight
   * and nothing more will be posted (finished, or failed).
   */
  pump(): number | undefined {
    const { pool } = this;
    for (;;) {
      while (!this.#failure && this.#free.length > 0 && this.#next < this.#batches.length) {
        const slot = this.#free.pop()!;
        const batch = this.#batches[this.#next++]!;
        try {
          this.#inFlight.push({ batch, slot, worker: pool.post(jobFor(batch, slot, this.#unitSize, this.#unitsPerSlot, this.#source, this.#mapped)) });
        } catch (e) {
          this.#free.push(slot);
          this.#failure = { error: e };
        }
      }
      // Read before looking at statuses, so a completion in between ends the wait at once.
      const seen = pool.completions();
      let handed = false;
      while (this.#inFlight.length > 0) {
        const head = this.#inFlight[0]!;
        const result = new Int32Array(head.slot.result);
        const status = Atomics.load(result, 0);
        if (status === PENDING) {
          if (!pool.isDead(head.worker)) break;
          this.#failure ??= { error: new Error("A hashing worker thread stopped unexpectedly; nothing was published (run the command again)") };
        } else if (status === FAILED) {
          const at = messageOffset(this.#unitsPerSlot);
          const text = Buffer.from(head.slot.result).subarray(at, at + result[1]!).toString();
          this.#failure ??= { error: new HvbError("IoError", `Reading '${this.#source.path}' at ${head.batch.offset} (${head.batch.length} bytes) failed: ${text}`, { category: "ReadError", target: this.#source.path }) };
        } else if (!this.#failure) {
          try {
            const writes = handOver(head, this.#unitSize, this.#consume);
            if (writes.runs.length > 0) {
              // Posted before the head leaves the queue: a post that throws must leave the
              // queue as it was, so the path below frees this slot and no other.
              const writer = pool.post(writeJob(head.slot, writes, this.#unitsPerSlot));
              this.#inFlight.shift();
              pool.collected(head.worker);
              handed = true;
              this.#writing.push({ slot: head.slot, worker: writer });
              continue;
            }
          } catch (e) {
            this.#failure = { error: e };
          }
        }
        this.#inFlight.shift();
        pool.collected(head.worker);
        handed = true;
        // A dead worker's buffer may still be written by it, in theory: do not reuse it.
        if (status === PENDING) forget(head.slot);
        else this.#free.push(head.slot);
      }
      if (this.#collectWrites()) handed = true;
      if (this.#inFlight.length === 0 && this.#writing.length === 0 && (this.#failure || this.#next >= this.#batches.length)) return undefined;
      // Freed buffers can take new jobs at once; otherwise wait for the head.
      if (!handed) return seen;
    }
  }

  /** Frees the buffers whose writes ended (a failed or lost write fails the run); true if any. */
  #collectWrites(): boolean {
    const pool = this.pool;
    const left: Writing[] = [];
    for (const w of this.#writing) {
      const result = new Int32Array(w.slot.result);
      const status = Atomics.load(result, 0);
      if (status === PENDING && !pool.isDead(w.worker)) {
        left.push(w);
        continue;
      }
      pool.collected(w.worker);
      if (status === PENDING) {
        this.#failure ??= { error: new Error("A worker thread stopped unexpectedly while writing; nothing was published (run the command again)") };
        forget(w.slot);
        continue;
      }
      if (status === FAILED) {
        const at = messageOffset(this.#unitsPerSlot);
        const text = Buffer.from(w.slot.result).subarray(at, at + result[1]!).toString();
        this.#failure ??= { error: new HvbError("IoError", `Writing failed: ${text}`, { category: "WriteError" }) };
      }
      this.#free.push(w.slot);
    }
    const freed = left.length < this.#writing.length;
    this.#writing = left;
    return freed;
  }

  /** Whether the run has buffers to work with (or needs none), taking them if it had none. */
  takeBuffers(): boolean {
    if (this.#want === 0 || this.#free.length > 0 || this.#inFlight.length > 0 || this.#writing.length > 0) return true;
    this.#free.push(...takeSlots(this.#slotBytes, this.#unitsPerSlot, this.#want, false));
    return this.#free.length > 0;
  }

  /**
   * Returns the free buffers to the process's budget (every path out). Buffers still in a
   * worker's hands (only when something threw out of the loop before they ended) are dropped
   * from the budget instead: never reused, since that worker may still write to them, and no
   * longer counted, so a pipeline waiting in {@link whenGivenBack} is not left waiting for them.
   */
  end(): void {
    giveBack(this.#free);
    this.#free.length = 0;
    for (const left of [...this.#inFlight, ...this.#writing]) forget(left.slot);
    this.#inFlight.length = 0;
    this.#writing = [];
  }

  rethrow(): void {
    if (this.#failure) throw this.#failure.error;
  }
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

/** Hands a batch's units to `consume`; returns the writes it left to a worker. */
function handOver(done: InFlight, unitSize: number, consume: UnitConsumer): { runs: number[]; paths: string[] } {
  const { batch, slot } = done;
  const bytes = new Uint8Array(slot.result);
  const writes = { runs: [] as number[], paths: [] as string[] };
  for (let i = 0; i < batch.count; i++) {
    const at = 8 + i * 33;
    const zero = bytes[at] === 1;
    const start = i * unitSize;
    const data = Buffer.from(slot.data, start, Math.min(unitSize, batch.length - start));
    const behind = consume(batch.first + i, data, { zero, sha256: zero ? undefined : Buffer.from(slot.result, at + 1, 32).toString("hex") });
    if (behind) {
      writes.runs.push(start, data.length, behind.fd, behind.fileOffset);
      writes.paths.push(behind.path);
    }
  }
  return writes;
}

function writeJob(slot: Slot, writes: { runs: number[]; paths: string[] }, unitsPerSlot: number): Parameters<WorkerPool["post"]>[0] {
  Atomics.store(new Int32Array(slot.result), 0, PENDING);
  return { write: true, data: slot.data, length: 0, runs: writes.runs, paths: writes.paths, units: [], result: slot.result, messageAt: messageOffset(unitsPerSlot), messageMax: MESSAGE_MAX };
}
