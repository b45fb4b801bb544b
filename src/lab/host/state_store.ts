/**
 * Where the lab host keeps its state: DIR/lab.json, replaced atomically, its jobs in DIR/jobs/
 * (job_store.ts), and DIR/lab.lock, an exclusive lock every mutating call holds.
 *
 * Invariants:
 * - lab.json (compact JSON) is only ever replaced by rename of a fully written temp file, so a reader (and a
 *   process that outlives a killed one) sees the old or the new state, never a mix. Job files are
 *   written the same way before it, and lab.json's generation says which of them it commits
 *   (job_store.ts), so they too are seen old or new with the lab.json they go with; the files of
 *   a call killed before its commit are rolled back by the next call that writes jobs.
 * - Every change (including disk-file changes that go with it) happens while holding
 *   lab.lock; the state write is the commit point. Files created before a commit that never
 *   happened are orphans the lab ignores; files are deleted only after the commit.
 * - lab.lock holds the owner's PID and host name. A lock whose PID is dead on this host is
 *   stale and is broken (under a short-lived break marker so two breakers cannot race).
 * - Files a process writes under its own PID (the lock's owner file, temp files of atomic writes)
 *   and leaves when killed are removed once that PID is dead (leftovers.ts): here with the next
 *   lock taken, in the jobs folder with its sweep.
 */
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { stagingPathFor } from "../../base/mod";
import { crashPoint } from "../../base/mod";
import { processAlive } from "../../base/mod";
import { initialVolumes, nodeNames } from "./volumes";
import { DEFAULT_CONFIG, DEFAULT_JOB_SHARE, LAB_FORMAT, LAB_FORMAT_VERSION, type LabConfig, type LabState } from "./model";
import { JOBS_FOLDER, LabJobs, newJobFileBook } from "./job_store";
import { DEFAULT_HOST_VERSION, defaultHostVersion } from "./host_versions";
import { removeDeadProcessFiles } from "./leftovers";

export const STATE_FILE = "lab.json";
export const LOCK_FILE = "lab.lock";
const BREAK_MARKER = "lab.lock.break";

/** How long a mutating call waits for the lock before giving up. */
const LOCK_TIMEOUT_MS = 60_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Creates a new, empty lab in `dir` (created if missing). Fails if `dir` already holds a lab. */
export function initLab(dir: string, config: Partial<LabConfig> = {}, hostName = "LABHOST", nodes = 0): LabState {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true });
  if (fs.existsSync(path.join(abs, STATE_FILE))) {
    throw new HvbError("LabExists", `Cannot create lab: '${abs}' already holds a lab`, { category: "InvalidOperation", target: abs });
  }
  fs.mkdirSync(path.join(abs, "vms"), { recursive: true });
  const state: LabState = {
    format: LAB_FORMAT,
    version: LAB_FORMAT_VERSION,
    hostName,
    createdAt: Date.now(),
    seq: 0,
    // Each lab gets its own seed, so the suite as a whole tries many orders.
    config: { ...DEFAULT_CONFIG, hostVersion: defaultHostVersion(), ...defaultFolders(abs), seed: randomInt(1, 2 ** 31), jobShare: DEFAULT_JOB_SHARE, ...config },
    vms: [],
    planned: [],
    snapshots: [],
    referencePoints: [],
    jobFiles: newJobFileBook(),
    faults: [],
    volumes: initialVolumes(abs, nodes > 0),
    ...(nodes > 0 ? { nodes: nodeNames(nodes) } : {}),
  } as Omit<LabState, "jobs"> as LabState;
  // The jobs' handle reads the generation it may see from the state it belongs to.
  state.jobs = new LabJobs(abs, state);
  withLabLock(abs, () => writeStateAtomic(abs, state));
  return state;
}

/** The host's default folders of a lab in `abs` (as Hyper-V's are under ProgramData and Public Documents). */
function defaultFolders(abs: string): { defaultExternalDataRoot: string; defaultVirtualHardDiskPath: string } {
  return { defaultExternalDataRoot: path.join(abs, "Hyper-V"), defaultVirtualHardDiskPath: path.join(abs, "Hyper-V", "Virtual Hard Disks") };
}

/** Reads the lab state without locking (readers never see a half-written file). */
export function readLabState(dir: string): LabState {
  return readLabStateWithText(dir).state;
}

/** The state and the text it was parsed from (a commit compares against it: lab.json is compact JSON). */
function readLabStateWithText(dir: string): { state: LabState; text: string } {
  const file = path.join(path.resolve(dir), STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new HvbError("LabNotFound", `Cannot open lab '${path.resolve(dir)}': no ${STATE_FILE} (run 'hvbackup lab init')`, {
        category: "ObjectNotFound",
        target: dir,
      });
    }
    throw e;
  }
  let state: LabState;
  try {
    state = JSON.parse(text) as LabState;
  } catch (e) {
    throw new HvbError("LabStateCorrupt", `Cannot parse lab state '${file}': ${(e as Error).message}`, {
      category: "InvalidData",
      target: file,
    });
  }
  if (state.format === LAB_FORMAT && state.version === 1) {
    // Version 1 kept the jobs in lab.json. Labs are made by tests and demos, not kept: refused, not migrated.
    throw new HvbError("LabStateVersion", `Cannot use lab state '${file}': made by an earlier version of the lab (format version 1, jobs inside lab.json); this one keeps jobs in ${path.join(path.dirname(file), JOBS_FOLDER)} (format version ${LAB_FORMAT_VERSION}): make the lab again with 'hvbackup lab init'`, {
      category: "InvalidData",
      target: file,
    });
  }
  if (state.format !== LAB_FORMAT || state.version !== LAB_FORMAT_VERSION) {
    throw new HvbError("LabStateVersion", `Cannot use lab state '${file}': format ${state.format} version ${state.version}`, {
      category: "InvalidData",
      target: file,
    });
  }
  // Labs made before host versions and default folders existed.
  state.config.hostVersion ??= DEFAULT_HOST_VERSION;
  if (!state.config.defaultExternalDataRoot) Object.assign(state.config, defaultFolders(path.resolve(dir)));
  state.jobs = new LabJobs(path.resolve(dir), state);
  return { state, text };
}

/**
 * Runs `fn` on the current state while holding the lab lock and commits what it leaves in
 * the state object. If `fn` throws, nothing is written.
 */
export function mutateLab<T>(dir: string, fn: (state: LabState) => T): T {
  const abs = path.resolve(dir);
  return withLabLock(abs, () => {
    const { state, text } = readLabStateWithText(abs);
    const result = fn(state);
    crashPoint("lab.before-commit");
    // The files of jobs the call started or changed go first; lab.json, naming their generation, commits them.
    state.jobs.stage();
    try {
      // Methods that only read (GetVirtualDiskChanges is called once per 8 MiB region) change
      // nothing: skip the write. The state is serialized once, and compared with the text read.
      const after = JSON.stringify(state);
      if (after !== text) writeStateText(abs, after);
    } catch (e) {
      state.jobs.abandon();
      throw e;
    }
    crashPoint("lab.after-commit");
    state.jobs.committed();
    return result;
  });
}

/**
 * Writes `state` as DIR/lab.json: temp file, then rename over the old one. Atomic for every
 * reader and against the death of any process at any point (the kernel has the written bytes
 * before the rename is visible); not synced to the disk: the lab stands for a host, and a power
 * cut of the machine running it is no case it emulates. Syncing made every host call wait for
 * two disk flushes (most of a call's time), one after another under the lock
 * (docs/lab-fidelity.md, "Host calls at once").
 */
export function writeStateAtomic(dir: string, state: LabState): void {
  writeStateText(dir, JSON.stringify(state));
}

/** Compact JSON: with a host of many VMs and their jobs the state is hundreds of kB, read and written on every call. */
function writeStateText(dir: string, text: string): void {
  const file = path.join(dir, STATE_FILE);
  const temp = stagingPathFor(file);
  try {
    fs.writeFileSync(temp, text, { mode: 0o644 });
    crashPoint("lab.before-rename");
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

interface LockOwner {
  pid: number;
  host: string;
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const [pid, host] = fs.readFileSync(lockPath, "utf8").split("\n");
    return { pid: Number(pid), host: host ?? "" };
  } catch {
    return undefined;
  }
}

/** Locks this process holds, by lab directory, with their nesting depth. */
const held = new Map<string, number>();

/** True while this process holds DIR/lab.lock (inside {@link withLabLock}). */
export function lockHeldHere(lab: string): boolean {
  return (held.get(path.resolve(lab)) ?? 0) > 0;
}

/** Holds DIR/lab.lock around `fn`. Re-entrant within one process. */
export function withLabLock<T>(lab: string, fn: () => T): T {
  const dir = path.resolve(lab);
  const depth = held.get(dir) ?? 0;
  if (depth > 0) {
    held.set(dir, depth + 1);
    try {
      return fn();
    } finally {
      held.set(dir, depth);
    }
  }
  const lockPath = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let wait = 2;
  for (;;) {
    if (tryLock(lockPath)) break;
    const owner = readOwner(lockPath);
    if (owner && owner.host === os.hostname() && !processAlive(owner.pid)) {
      breakStaleLock(dir, owner);
      continue;
    }
    if (Date.now() > deadline) {
      throw new HvbError(
        "LabLocked",
        `Cannot lock lab '${dir}': held by process ${owner?.pid ?? "?"} on '${owner?.host ?? "?"}' for more than ${LOCK_TIMEOUT_MS / 1000} s`,
        { category: "ResourceBusy", target: lockPath },
      );
    }
    sleepSync(wait);
    wait = Math.min(wait * 2, 50);
  }
  held.set(dir, 1);
  try {
    // What a killed process left mid-write here (its lock owner file, lab.json's temp file) goes
    // with the next lock taken: a few names to list. The jobs folder's go with its sweep.
    removeDeadProcessFiles(dir);
    return fn();
  } finally {
    held.delete(dir);
    fs.rmSync(lockPath, { force: true });
  }
}

/**
 * Takes DIR/lab.lock if it is free. The lock appears with its owner already in it: written to a
 * file of this process's own, then linked to the lock's name, which fails if the lock exists. (A
 * lock created empty and written after could be left empty by a process killed in between, and
 * a lock naming no owner can never be found stale: every later call waited for it, then failed.)
 * A process killed before it removes its own file leaves that file only, never a lock.
 */
function tryLock(lockPath: string): boolean {
  const mine = `${lockPath}.${process.pid}`;
  fs.writeFileSync(mine, `${process.pid}\n${os.hostname()}\n${new Date().toISOString()}\n`, { mode: 0o644 });
  crashPoint("lab.lock-taking");
  try {
    fs.linkSync(mine, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

/**
 * Removes a lock whose owner died. A break marker (mkdir is atomic) makes sure only one
 * process breaks it, and the owner is re-read under the marker so a fresh lock taken in
 * between is never removed. A marker older than 10 s was left by a breaker that died.
 */
function breakStaleLock(dir: string, owner: LockOwner): void {
  const marker = path.join(dir, BREAK_MARKER);
  try {
    fs.mkdirSync(marker);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    try {
      if (Date.now() - fs.statSync(marker).mtimeMs > 10_000) fs.rmdirSync(marker);
    } catch {
      /* someone else removed it */
    }
    sleepSync(5);
    return;
  }
  try {
    const again = readOwner(path.join(dir, LOCK_FILE));
    if (again && again.pid === owner.pid && again.host === owner.host) fs.rmSync(path.join(dir, LOCK_FILE), { force: true });
  } finally {
    fs.rmdirSync(marker);
  }
}
