/**
 * Where the lab keeps its jobs (Msvm_ConcreteJob, jobs.ts): one file per job,
 * DIR/jobs/<InstanceID>.json, outside lab.json. A host keeps every job for TimeBeforeRemoval
 * (5 minutes); backing up 50 VMs makes about 450, and kept in lab.json they were two thirds of
 * it, read and rewritten by every call (bench/README.md, issue 12). Now a call that touches no
 * job reads and writes none; a call that starts or changes a job writes that job's file; a
 * GetInstance of a job reads its one file; only enumerations (a query of the class,
 * Msvm_AffectedJobElement about something that is not a job, the purge) list the folder.
 *
 * Committed as one with lab.json (state_store.ts's invariants hold for both):
 * - lab.json's `jobFiles.generation` G is the generation of the last commit that wrote job files.
 *   A call that adds or changes jobs writes their files with generation G+1, each by rename of a
 *   fully written temp file, before it writes lab.json; lab.json's rename, carrying G+1, is the
 *   commit point of both. All of it under lab.lock.
 * - A job file holds the job as that call left it and its generation, and, when the call changed
 *   a job committed before, that committed version too (`before`). A reader takes the file's job
 *   when its generation is at most the G of the lab.json it read, `before` otherwise (written by
 *   a call that has not committed yet, or never will): it sees the jobs of its lab.json. (A reader
 *   that two commits changing the same job overtake between its two reads sees the newer
 *   committed version: a host's GetInstance is live, too.)
 * - A process killed between its job files and lab.json leaves files of generation G+1 that
 *   lab.json never committed, and the next call to write jobs would commit them with its own
 *   G+1. So before writing any job file a call records what it is about to write
 *   (DIR/jobs/.uncommitted: the generation and the ids) and removes the record after its commit.
 *   A call about to write jobs that finds a record above G first rolls those files back (to
 *   `before`, which keeps the version committed before it, so a reader of an older lab.json
 *   finds the same version after the rollback as before the dead call; or removes a new job's
 *   file); a record at or below G was committed and just goes. A
 *   record that cannot be read (never so after a kill: it is written by rename) makes the call
 *   roll back every file above G instead.
 *   A call that fails (throws) rolls its own files back at once.
 * - A host crash (`lab crash`) drops every job: lab.json records the generation it dropped
 *   through (`clearedThrough`), so they vanish with its commit; their files go after it.
 * - Jobs that may not have ended (running, stalled, shutting down) are listed in lab.json
 *   (`unfinished`: id and end), so a call asking which jobs still run reads only theirs. An
 *   entry goes at the first purge after its end; a job that ends as it starts (jobs of 0 ms)
 *   never gets one.
 * - Purge: the files of jobs past their removal time are deleted after the commit of the first
 *   call, at or after lab.json's `purgeAfter`, that sweeps the folder, so calls before then never
 *   list it. A job past its removal time is invisible whether its file is there yet or not
 *   (jobs.ts `jobExpired`), so when the sweep runs changes no answer.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HvbError, crashPoint, stagingPathFor } from "../../base/mod";
import { jobEndsAt, jobFinished } from "./jobs";
import type { JobRecord, LabState } from "./model";
import { removeDeadProcessFiles } from "./leftovers";

export const JOBS_FOLDER = "jobs";
const UNCOMMITTED = ".uncommitted.json";

/** Sweeps for purged jobs at most this often (the files of a purged job linger this long at most). */
const SWEEP_INTERVAL_MS = 30_000;

/** lab.json's record of the job files (see the header). */
export interface JobFileBook {
  generation: number;
  clearedThrough: number;
  /** When the next sweep for purged jobs is due (ms since the epoch); absent: no job can be purged. */
  purgeAfter?: number;
  /** Jobs that had not ended when written, with their end (null: stalled, no end); absent: none. */
  unfinished?: UnfinishedJob[];
}

export interface UnfinishedJob {
  id: string;
  endsAt: number | null;
}

/** One version of a job and the generation of the commit that wrote it. */
interface Version {
  gen: number;
  job: JobRecord;
}

/**
 * A job file: the version last written and, when that changed a committed job, the committed one
 * with the version committed before that (what the file held: a rollback puts it back whole, so a
 * reader of an older lab.json still finds the version it sees).
 */
interface JobFile extends Version {
  before?: Version & { before?: Version };
}

/** What a call is about to write (DIR/jobs/.uncommitted). */
interface Uncommitted {
  gen: number;
  ids: string[];
}

/** Job ids are the GUIDs the lab makes (model.ts newGuid); anything else names no file. */
const JOB_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

export function newJobFileBook(): JobFileBook {
  return { generation: 0, clearedThrough: 0 };
}

/**
 * The jobs of one state, read from DIR/jobs/ as they are asked for. A locked call changes them
 * through {@link LabJobs.save} and {@link LabJobs.clear}; state_store.ts's mutateLab writes the
 * changes with the state (stage, then committed or abandon). Part of the state object, never of
 * lab.json (toJSON).
 */
export class LabJobs {
  readonly #folder: string;
  readonly #state: LabState;
  /** Files read so far by id (null: no file). */
  readonly #files = new Map<string, JobFile | null>();
  /** Jobs this call added or changed, by id. */
  readonly #changed = new Map<string, JobRecord>();
  #listed = false;
  /** Files to delete after the commit. */
  readonly #drop = new Set<string>();
  #sweepCleared = false;
  /** What stage() wrote and with which generation, until committed() or abandon(). */
  #staged: { gen: number; previous: number; written: { id: string; before: JobFile["before"] }[] } | undefined;

  constructor(labDir: string, state: LabState) {
    this.#folder = path.join(labDir, JOBS_FOLDER);
    this.#state = state;
  }

  /** Never stored in lab.json: the jobs live in their own files. */
  toJSON(): undefined {
    return undefined;
  }

  get #book(): JobFileBook {
    return this.#state.jobFiles;
  }

  /** The job with this InstanceID as this state sees it (its file only), or undefined. */
  get(id: string): JobRecord | undefined {
    if (!JOB_ID.test(id)) return undefined;
    const key = id.toUpperCase();
    return this.#changed.get(key) ?? this.#visible(this.#file(key));
  }

  /** Every job this state sees (lists the folder), oldest first. Purged ones may still be among them (jobs.ts jobExpired). */
  list(): JobRecord[] {
    if (!this.#listed) {
      for (const name of this.#names()) this.#file(name.slice(0, -".json".length));
      this.#listed = true;
    }
    const out = new Map<string, JobRecord>();
    for (const [id, file] of this.#files) {
      const job = this.#visible(file);
      if (job) out.set(id, job);
    }
    for (const [id, job] of this.#changed) out.set(id, job);
    return [...out.values()].sort((a, b) => a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Jobs that had not reached their final state at `now` (reads only their files). */
  unfinished(now: number): JobRecord[] {
    const out: JobRecord[] = [];
    for (const e of this.#book.unfinished ?? []) {
      if (e.endsAt !== null && e.endsAt <= now) continue;
      const job = this.get(e.id);
      if (job && !jobFinished(job, now)) out.push(job);
    }
    return out;
  }

  /** Records a new or changed job (written at the commit). */
  save(job: JobRecord): void {
    const id = job.id.toUpperCase();
    if (!JOB_ID.test(id)) throw new Error(`lab: job id '${job.id}' is not a GUID`);
    this.#changed.set(id, job);
    const due = this.#expiresAt(job);
    if (Number.isFinite(due)) this.#book.purgeAfter = Math.min(this.#book.purgeAfter ?? Number.POSITIVE_INFINITY, due);
    const end = jobEndsAt(job);
    const others = (this.#book.unfinished ?? []).filter((e) => e.id !== id);
    const entries = end > job.submittedAt ? [...others, { id, endsAt: Number.isFinite(end) ? end : null }] : others;
    if (entries.length > 0) this.#book.unfinished = entries;
    else delete this.#book.unfinished;
  }

  /** A host crash: every job is gone with this commit (their files after it). */
  clear(): void {
    this.#changed.clear();
    this.#book.clearedThrough = this.#book.generation;
    delete this.#book.purgeAfter;
    delete this.#book.unfinished;
    this.#sweepCleared = true;
  }

  /**
   * Forgets jobs that ended from `unfinished`, and drops jobs past their removal time when a
   * sweep is due (lab.json's `purgeAfter`): their files go after the commit, and the next sweep
   * is set by the earliest removal time left.
   */
  purge(now: number): void {
    const ended = (this.#book.unfinished ?? []).filter((e) => e.endsAt !== null && e.endsAt <= now);
    if (ended.length > 0) {
      const left = this.#book.unfinished!.filter((e) => !ended.includes(e));
      if (left.length > 0) this.#book.unfinished = left;
      else delete this.#book.unfinished;
    }
    const due = this.#book.purgeAfter;
    if (due === undefined || now < due) return;
    // Temp files of job writes whose process was killed before its rename.
    removeDeadProcessFiles(this.#folder);
    let next = Number.POSITIVE_INFINITY;
    this.list();
    for (const [id, file] of this.#files) {
      const job = this.#changed.get(id) ?? this.#visible(file);
      const at = job ? this.#expiresAt(job) : Number.NEGATIVE_INFINITY;
      if (now > at) {
        // Gone (or a file no commit shows: a cleared job's, a dead call's new one).
        if (!this.#changed.has(id)) this.#drop.add(id);
      } else next = Math.min(next, at);
    }
    for (const job of this.#changed.values()) next = Math.min(next, this.#expiresAt(job));
    if (Number.isFinite(next)) this.#book.purgeAfter = Math.max(next, now + SWEEP_INTERVAL_MS);
    else delete this.#book.purgeAfter;
  }

  /**
   * Before lab.json is written: writes the files of the jobs this call added or changed with the
   * next generation and puts that generation in the state (so lab.json commits them). Settles
   * what a dead call left uncommitted first. Writes nothing when no job changed.
   */
  stage(): void {
    if (this.#changed.size === 0) return;
    const previous = this.#book.generation;
    const gen = previous + 1;
    fs.mkdirSync(this.#folder, { recursive: true });
    this.#settleUncommitted(previous);
    const ids = [...this.#changed.keys()];
    writeAtomic(path.join(this.#folder, UNCOMMITTED), JSON.stringify({ gen, ids } satisfies Uncommitted));
    this.#staged = { gen, previous, written: [] };
    try {
      for (const id of ids) {
        // Read afresh: a caller may have changed in place the object get() gave it.
        this.#files.delete(id);
        const file = this.#file(id);
        const committed = file ? (file.gen <= previous ? file : file.before) : undefined;
        // Kept with the version before it (one level: a reader uses no more), so a rollback loses nothing a reader sees.
        const before = committed && committed.gen > this.#book.clearedThrough ? { gen: committed.gen, job: committed.job, ...(committed.before ? { before: { gen: committed.before.gen, job: committed.before.job } } : {}) } : undefined;
        writeAtomic(this.#path(id), JSON.stringify({ gen, job: this.#changed.get(id)!, ...(before ? { before } : {}) } satisfies JobFile));
        this.#staged.written.push({ id, before });
        crashPoint("lab.job-written");
      }
    } catch (e) {
      this.abandon();
      throw e;
    }
    this.#book.generation = gen;
  }

  /** After lab.json's commit: the record of what was uncommitted goes, then the files of purged or dropped jobs. */
  committed(): void {
    if (this.#staged) fs.rmSync(path.join(this.#folder, UNCOMMITTED), { force: true });
    this.#staged = undefined;
    if (this.#sweepCleared) for (const name of this.#names()) this.#drop.add(name.slice(0, -".json".length));
    for (const id of this.#drop) if (!this.#changed.has(id)) fs.rmSync(this.#path(id), { force: true });
    this.#drop.clear();
    this.#sweepCleared = false;
  }

  /** The commit failed (or stage() did): puts back what stage() wrote. */
  abandon(): void {
    const staged = this.#staged;
    if (!staged) return;
    for (const { id, before } of staged.written) this.#restore(id, before);
    fs.rmSync(path.join(this.#folder, UNCOMMITTED), { force: true });
    this.#book.generation = staged.previous;
    this.#staged = undefined;
  }

  /** A record left by a call that died (see the header): rolls its files back unless its commit happened. */
  #settleUncommitted(committedGen: number): void {
    const file = path.join(this.#folder, UNCOMMITTED);
    let record: Uncommitted | undefined;
    try {
      record = JSON.parse(fs.readFileSync(file, "utf8")) as Uncommitted;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      record = undefined;
    }
    if (record && Number.isInteger(record.gen) && Array.isArray(record.ids) && record.ids.every((id) => typeof id === "string")) {
      if (record.gen > committedGen) {
        for (const id of record.ids) {
          if (!JOB_ID.test(id)) continue;
          this.#files.delete(id);
          const left = this.#file(id);
          if (left && left.gen === record.gen) this.#restore(id, left.before);
        }
      }
    } else {
      // Written by rename, so never half-written by a kill; damaged otherwise, it cannot say which
      // files are a dead call's: every file above the committed generation is (one writer at a time).
      for (const name of this.#names()) {
        const id = name.slice(0, -".json".length);
        this.#files.delete(id);
        const left = this.#file(id);
        if (left && left.gen > committedGen) this.#restore(id, left.before);
      }
    }
    fs.rmSync(file, { force: true });
  }

  /** Puts a job's file back as it was committed (its version and the one before), or removes it when there was none. */
  #restore(id: string, before: JobFile["before"]): void {
    if (before) writeAtomic(this.#path(id), JSON.stringify(before satisfies JobFile));
    else fs.rmSync(this.#path(id), { force: true });
    this.#files.set(id, before ?? null);
  }

  /** The version this state sees: the file's own up to lab.json's generation, the committed one before it otherwise. */
  #visible(file: JobFile | null | undefined): JobRecord | undefined {
    if (!file) return undefined;
    const v = file.gen <= this.#book.generation ? file : file.before;
    return v && v.gen > this.#book.clearedThrough ? v.job : undefined;
  }

  #expiresAt(job: JobRecord): number {
    return jobEndsAt(job) + this.#state.config.jobRetentionMs;
  }

  #path(id: string): string {
    return path.join(this.#folder, `${id}.json`);
  }

  /** Job file names in the folder (temp files and the record of uncommitted writes start with a dot). */
  #names(): string[] {
    try {
      return fs.readdirSync(this.#folder).filter((n) => n.endsWith(".json") && JOB_ID.test(n.slice(0, -".json".length)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }

  #file(id: string): JobFile | null {
    const cached = this.#files.get(id);
    if (cached !== undefined) return cached;
    let text: string;
    try {
      text = fs.readFileSync(this.#path(id), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      this.#files.set(id, null);
      return null;
    }
    const bad = (what: string): never => {
      throw new HvbError("LabStateCorrupt", `Cannot read lab job '${this.#path(id)}': ${what}; expected {"gen": <generation>, "job": <the job, its id '${id}'>, "before"?: <the same, committed>} as the lab writes it`, {
        category: "InvalidData",
        target: this.#path(id),
      });
    };
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch (e) {
      bad(`not JSON (${(e as Error).message})`);
    }
    const problem = versionProblem(file, id, "", 2);
    if (problem) bad(problem);
    this.#files.set(id, file as JobFile);
    return file as JobFile;
  }
}

/** What is wrong with one version in a job file (`depth`: how many `before` levels it may hold), or undefined. */
function versionProblem(v: unknown, id: string, at: string, depth: number): string | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return `${at || "the file"} is not an object`;
  const { gen, job, before } = v as Partial<JobFile>;
  if (!Number.isInteger(gen) || (gen as number) < 0) return `'${at}gen' is not a generation (a whole number)`;
  if (typeof job !== "object" || job === null || typeof job.id !== "string") return `'${at}job' is not a job with an id`;
  if (job.id.toUpperCase() !== id.toUpperCase()) return `'${at}job' has the id '${job.id}', not the file's`;
  if (before === undefined) return undefined;
  if (depth === 0) return `'${at}before' is one level too deep`;
  return versionProblem(before, id, `${at}before.`, depth - 1);
}

/** Temp file and rename (state_store.ts's rules: atomic for every reader and any process's death; not synced). */
function writeAtomic(file: string, text: string): void {
  const temp = stagingPathFor(file);
  try {
    fs.writeFileSync(temp, text, { mode: 0o644 });
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}
