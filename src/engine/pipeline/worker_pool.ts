import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { WORKER_SOURCE } from "./worker_source";

/** Workers at most, whatever the machine: hashing is bounded by memory bandwidth beyond that. */
const MAX_WORKERS = 8;

/** One worker thread and what it has been given. */
export interface PoolWorker {
  readonly index: number;
  /** Jobs posted and not yet collected. */
  inFlight: number;
  /** Replaced after it died: its jobs will never complete. */
  retired: boolean;
  readonly thread: Worker;
}

/** What a worker is asked to do (see worker_source.ts for the layout of `result`). */
export interface WorkerJob {
  /** Write the runs' bytes out of `data` (to `fd` at `fileOffset`) instead of reading them in. */
  write?: boolean;
  data: SharedArrayBuffer;
  length: number;
  /** Flat [bufferOffset, length, fd (-1: zeros), fileOffset] quadruples. */
  runs: number[];
  /** File path of each run, for messages. */
  paths: string[];
  /** Flat [bufferOffset, length] pairs: the units to check and hash. */
  units: number[];
  result: SharedArrayBuffer;
  messageAt: number;
  messageMax: number;
}

/**
 * A small pool of worker threads (one per core, at most 8) shared by every pipeline of the
 * process, so `--parallel` adds copies, not threads. Completion is signalled through shared
 * control words: word 0 counts completions (and deaths), word 1+i is worker i's dead flag.
 * That lets the main thread wait with Atomics.wait (the disk code stays synchronous while
 * reading and hashing run on other cores) or, when copies must overlap, Atomics.waitAsync.
 */
export class WorkerPool {
  readonly control: Int32Array;
  readonly #workers: PoolWorker[] = [];

  constructor(readonly size: number) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (1 + size)));
    for (let i = 0; i < size; i++) this.#workers.push(this.#spawn(i));
  }

  #spawn(index: number): PoolWorker {
    Atomics.store(this.control, 1 + index, 0);
    const thread = new Worker(WORKER_SOURCE, { eval: true, workerData: { control: this.control.buffer, deadFlag: 1 + index } });
    // Death is seen through the dead flag; an 'error' event without a listener would kill the process.
    thread.on("error", () => undefined);
    // Idle workers must not keep a finished command alive.
    thread.unref();
    return { index, inFlight: 0, retired: false, thread };
  }

  /** Completions so far: read it before checking job statuses, then {@link wait} on it. */
  completions(): number {
    return Atomics.load(this.control, 0);
  }

  /** Blocks until a job completes or a worker dies after `seen` was read, or `ms` pass. */
  wait(seen: number, ms: number): void {
    Atomics.wait(this.control, 0, seen, ms);
  }

  /** {@link wait} without blocking the thread (Atomics.waitAsync): other work of the run goes on. */
  async waitAsync(seen: number, ms: number): Promise<void> {
    const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.control, 0, seen, ms);
    if (!w.async) return;
    // A pending waitAsync does not keep node's event loop alive (and the workers are unref'd),
    // and its own timeout runs as a V8 platform task that does not either. A keep-alive timer
    // of a fixed length could fire first on a loaded machine, leaving the loop with nothing
    // to wait for: node then exited in the middle of the copy (the VM left on its checkpoint).
    // So this timer, not the waitAsync's timeout, ends the wait: the loop stays alive until
    // one of the two settles, and the caller looks at the statuses again either way.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    try {
      await Promise.race([w.value, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether `w` died (its jobs will never complete). */
  isDead(w: PoolWorker): boolean {
    return w.retired || Atomics.load(this.control, 1 + w.index) === 1;
  }

  /** Posts a job to the least busy live worker (dead ones are replaced first) and returns it. */
  post(job: WorkerJob): PoolWorker {
    for (const w of this.#workers) {
      if (!w.retired && Atomics.load(this.control, 1 + w.index) === 1) {
        w.retired = true;
        void w.thread.terminate();
        this.#workers[w.index] = this.#spawn(w.index);
      }
    }
    let best = this.#workers[0]!;
    for (const w of this.#workers) if (w.inFlight < best.inFlight) best = w;
    best.inFlight++;
    best.thread.postMessage(job);
    return best;
  }

  /** Marks one job of `w` collected. */
  collected(w: PoolWorker): void {
    w.inFlight--;
  }

  /** @internal Makes worker `index` die of an uncaught error, as a bug in it would. */
  crashOneForTests(index: number): void {
    this.#workers[index]!.thread.postMessage({ crash: "worker crash (test)" });
  }

  /** Stops every worker (tests; a command simply exits). */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.thread.terminate()));
  }
}

/** Atomics.waitAsync (node 16+; in TypeScript's ES2024 library, newer than the one this project targets). */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

let shared: WorkerPool | undefined;

/** The process's pool, started on first use. */
export function sharedPool(): WorkerPool {
  shared ??= new WorkerPool(Math.max(1, Math.min(MAX_WORKERS, availableParallelism())));
  return shared;
}

/**
 * Starts the process's pool now, at the start of a command that will copy, restore or deep
 * verify, instead of when its first unit is read. Each worker boots a node environment of its
 * own (about 0.1 s of CPU, perf, on the bench machine) on its own thread, so started here that
 * boot overlaps the command's fixed work (host calls, catalog and manifest checks, VHDX
 * structure checks) instead of delaying the first read. Nothing else changes: the workers
 * wait, unref'd, for jobs, and a command that ends before copying exits as before.
 */
export function startSharedPool(): void {
  sharedPool();
}
