import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync, fsyncSync } from "node:fs";
import { hostname } from "node:os";
import { HvbError } from "../base/mod";
import { processAlive } from "../base/mod";
import { writeFileAtomic } from "../base/mod";

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
    let fd: number;
    try {
      fd = openSync(file, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = readLock(file);
      // An unreadable lock file was left by a process killed between creating and filling it.
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
    try {
      writeSync(fd, JSON.stringify(info));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
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

/** The owner recorded in a lock file, or undefined when it is missing or unreadable. */
export function readLock(file: string): LockInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as LockInfo;
    return typeof v.pid === "number" && typeof v.host === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}
