import { closeSync, existsSync, linkSync, openSync, readdirSync, rmSync, statSync, writeSync, fsyncSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import * as path from "node:path";
import * as v from "valibot";
import { HvbError } from "../base/mod";
import { processAlive } from "../base/mod";
import { readRegularFile, writeFileAtomic } from "../base/mod";

/** What a lock file records about its owner. */
export interface LockInfo {
  pid: number;
  host: string;
  operation: string;
  started: string;
  /**
   * What the owner is doing on the host, noted as it goes (see {@link Lock.note}): after a crash
   * the stale lock says what the interrupted run left behind (e.g. the recovery checkpoint it
   * made), so the run that clears the lock can remove exactly that.
   */
  progress?: Record<string, unknown>;
}

/** A held exclusive lock; release it in a `finally`. */
export interface Lock {
  readonly file: string;
  /** The owner recorded in a stale lock this acquisition cleared (with `clearStale`), if any. */
  readonly cleared: LockInfo | undefined;
  /** Records (merges) progress into the lock file, atomically, while the lock is held. */
  note(progress: Record<string, unknown>): void;
  release(): void;
}

/**
 * Takes the exclusive lock `file` (created with O_EXCL, so two processes can never both hold
 * it). A lock left by a process that no longer runs on this host is reported as stale, never
 * broken silently: the message says how to clear it. `force` clears a stale lock (never a live one).
 */
export function acquireLock(file: string, operation: string, options: { clearStale?: boolean } = {}): Lock {
  const info: LockInfo = { pid: process.pid, host: hostname(), operation, started: new Date().toISOString() };
  let cleared: LockInfo | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!createFilled(file, JSON.stringify(info))) {
      const holder = readLock(file);
      // An unreadable lock file was damaged, or left by an older version killed between creating and filling it.
      const stale = holder === undefined || (holder.host === hostname() && !processAlive(holder.pid));
      if (stale && options.clearStale && attempt === 0) {
        cleared = holder ?? { pid: 0, host: "", operation: "unknown", started: "" };
        rmSync(file, { force: true });
        continue;
      }
      const who = holder ? `process ${holder.pid} on ${holder.host} (${holder.operation}, since ${holder.started})` : "an unknown process (unreadable lock file)";
      if (stale) {
        throw new HvbError("LockStale", `'${file}' is locked by ${who}, which is no longer running: a previous ${holder?.operation ?? "run"} was interrupted. Make sure no other HyperVBackup command is working on this VM, then run the command again with --clear-stale-lock (-ClearStaleLock in PowerShell): it clears the lock and removes or finishes what the interrupted run left`, { category: "ResourceBusy", target: file });
      }
      throw new HvbError("LockHeld", `'${file}' is locked by ${who}: another operation on this VM is running`, { category: "ResourceBusy", target: file });
    }
    // Readers (verify) register before they look for this file, and this looks for them after
    // creating it: of a reader and a writer starting together, at least one sees the other.
    const reader = liveReaders(file)[0];
    if (reader) {
      rmSync(file, { force: true });
      throw new HvbError("LockHeld", `'${file}' is in use by process ${reader.pid} on ${reader.host} (${reader.operation}, since ${reader.started}): wait for it to finish`, { category: "ResourceBusy", target: file });
    }
    let released = false;
    return {
      file,
      cleared,
      note(progress) {
        if (released) return;
        info.progress = { ...info.progress, ...progress };
        // Replaced by rename: the lock file never disappears nor is ever half written.
        writeFileAtomic(file, JSON.stringify(info));
      },
      release() {
        if (released) return;
        released = true;
        const now = readLock(file);
        if (now && now.pid === info.pid && now.host === info.host) rmSync(file, { force: true });
      },
    };
  }
  throw new HvbError("LockHeld", `Cannot lock '${file}'`, { category: "ResourceBusy", target: file });
}

/**
 * Creates `file` holding `text`, or returns false when it exists. The file appears already
 * filled: `text` is written and synced to a file of this process's own, which is then linked to
 * `file` (the link fails if `file` exists). Created empty and filled after, a lock could be
 * seen empty by another process (and taken for one left by a dead process) or left empty by a
 * kill in between. Where the file system has no hard links, it is created exclusively and
 * filled, as before.
 */
function createFilled(file: string, text: string): boolean {
  const mine = `${file}.taking-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = openSync(mine, "wx");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(mine, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
  } finally {
    rmSync(mine, { force: true });
  }
  let fd2: number;
  try {
    fd2 = openSync(file, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    writeSync(fd2, text);
    fsyncSync(fd2);
  } finally {
    closeSync(fd2);
  }
  return true;
}

/** What a lock file must hold to be read as a lock (anything else is an unreadable, stale lock). */
const LockInfoSchema = v.object({
  pid: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  host: v.pipe(v.string(), v.maxLength(1024)),
  operation: v.pipe(v.string(), v.maxLength(64)),
  started: v.pipe(v.string(), v.maxLength(64)),
  progress: v.optional(v.record(v.string(), v.unknown())),
});

/** The owner recorded in a lock file, or undefined when it is missing or unreadable. */
export function readLock(file: string): LockInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = v.safeParse(LockInfoSchema, JSON.parse(readRegularFile(file, 1024 * 1024, "lock file").toString("utf8")));
    return r.success ? (r.output as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

/** A held shared lock; release it in a `finally`. */
export interface SharedLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes a shared (read) lock beside the exclusive lock `file`: any number of readers at once,
 * never together with an exclusive holder. A reader registers a file of its own
 * (`<file>.reader-<pid>-<random>`) and then checks that no exclusive lock is held; an exclusive
 * holder creates its lock and then checks for registered readers (see {@link acquireLock}), so
 * whichever comes second backs off. A reader's file left by a process that died is ignored and
 * removed by the next exclusive acquisition.
 */
export function acquireSharedLock(file: string, operation: string): SharedLock {
  const info: LockInfo = { pid: process.pid, host: hostname(), operation, started: new Date().toISOString() };
  const mine = `${file}.reader-${process.pid}-${randomBytes(4).toString("hex")}`;
  const fd = openSync(mine, "wx");
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  const release = (): void => rmSync(mine, { force: true });
  if (existsSync(file)) {
    const holder = readLock(file);
    release();
    const stale = holder === undefined || (holder.host === hostname() && !processAlive(holder.pid));
    const who = holder ? `process ${holder.pid} on ${holder.host} (${holder.operation}, since ${holder.started})` : "an unknown process (unreadable lock file)";
    if (stale) {
      throw new HvbError("LockStale", `'${file}' is locked by ${who}, which is no longer running: a previous ${holder?.operation ?? "run"} was interrupted. Run that command again with --clear-stale-lock to finish or undo it, then ${operation}`, { category: "ResourceBusy", target: file });
    }
    throw new HvbError("LockHeld", `'${file}' is locked by ${who}: another operation on this VM is running; ${operation} again when it is done`, { category: "ResourceBusy", target: file });
  }
  return { file: mine, release };
}

/** Readers registered beside `file` that still run; the files of dead ones are removed. */
function liveReaders(file: string): LockInfo[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.reader-`;
  const taking = `${path.basename(file)}.taking-`;
  const live: LockInfo[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(taking)) {
      // The own file of a process taking the lock (createFilled) lives for microseconds; an old
      // one was left by a process killed before removing it (its pid may be another host's).
      const p = path.join(dir, name);
      try {
        if (Date.now() - statSync(p).mtimeMs > 60_000) rmSync(p, { force: true });
      } catch {
        /* removed meanwhile */
      }
      continue;
    }
    if (!name.startsWith(prefix)) continue;
    const p = path.join(dir, name);
    const r = readLock(p);
    // A reader file is written right after its O_EXCL create: an empty one is being born.
    if (r === undefined) {
      // ... or was left by a reader killed in between: after a while it counts for nothing.
      if (Date.now() - statSync(p).mtimeMs > 10_000) rmSync(p, { force: true });
      else live.push({ pid: 0, host: "?", operation: "a reader starting", started: "now" });
      continue;
    }
    if (r.host === hostname() && !processAlive(r.pid)) rmSync(p, { force: true });
    else live.push(r);
  }
  return live;
}
