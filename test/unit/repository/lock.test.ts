import { existsSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, acquireSharedLock, readLock } from "../../../src/repository/mod";
import { tempFolder } from "./_tmp";

describe("lock", () => {
  it("is exclusive, records progress and is released", () => {
    const f = path.join(tempFolder(), ".lock");
    const lock = acquireLock(f, "backup");
    expect(() => acquireLock(f, "prune")).toThrow(expect.objectContaining({ code: "LockHeld" }));
    lock.note({ a: 1 });
    lock.note({ b: 2 });
    expect(readLock(f)).toMatchObject({ pid: process.pid, operation: "backup", progress: { a: 1, b: 2 } });
    lock.release();
    expect(existsSync(f)).toBe(false);
  });
  it("reports a stale lock, and clears it only when asked", () => {
    const f = path.join(tempFolder(), ".lock");
    const dead = { pid: 2 ** 22 + 12345, host: hostname(), operation: "backup", started: "then", progress: { vmId: "x" } };
    writeFileSync(f, JSON.stringify(dead));
    expect(() => acquireLock(f, "backup")).toThrow(expect.objectContaining({ code: "LockStale" }));
    const lock = acquireLock(f, "backup", { clearStale: true });
    expect(lock.cleared).toEqual(dead);
    lock.release();
  });
  it("appears already filled, through a file of its own that goes at once; such a file left by a killed process is removed once it is old", () => {
    const dir = tempFolder();
    const f = path.join(dir, ".lock");
    const old = path.join(dir, ".lock.taking-999999-deadbeef");
    const fresh = path.join(dir, ".lock.taking-999998-cafebabe");
    writeFileSync(old, "{}");
    writeFileSync(fresh, "{}");
    const then = new Date(Date.now() - 120_000);
    utimesSync(old, then, then);
    const lock = acquireLock(f, "backup");
    expect(readLock(f)).toMatchObject({ pid: process.pid, operation: "backup" });
    // Our own file is gone; the old leftover was swept, a recent one (maybe another host's, being taken) is not.
    expect(readdirSync(dir).sort()).toEqual([".lock", ".lock.taking-999998-cafebabe"]);
    lock.release();
  });
  it("treats an unreadable lock file as stale", () => {
    const f = path.join(tempFolder(), ".lock");
    writeFileSync(f, "");
    expect(() => acquireLock(f, "backup")).toThrow(expect.objectContaining({ code: "LockStale" }));
    acquireLock(f, "backup", { clearStale: true }).release();
  });
});

describe("shared lock", () => {
  it("admits several readers, never with a writer, and whichever comes second backs off", () => {
    const f = path.join(tempFolder(), ".lock");
    const r1 = acquireSharedLock(f, "verify");
    const r2 = acquireSharedLock(f, "verify");
    expect(() => acquireLock(f, "prune")).toThrow(expect.objectContaining({ code: "LockHeld", message: expect.stringMatching(/verify/) }));
    expect(existsSync(f)).toBe(false); // the writer that backed off left nothing
    r1.release();
    r2.release();
    const w = acquireLock(f, "prune");
    expect(() => acquireSharedLock(f, "verify")).toThrow(expect.objectContaining({ code: "LockHeld" }));
    w.release();
    acquireSharedLock(f, "verify").release();
  });
  it("ignores and removes a dead reader's registration", () => {
    const dir = tempFolder();
    const f = path.join(dir, ".lock");
    writeFileSync(`${f}.reader-1-dead`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), operation: "verify", started: "then" }));
    acquireLock(f, "prune").release();
    expect(existsSync(`${f}.reader-1-dead`)).toBe(false);
  });
  it("reports a stale exclusive lock to a reader", () => {
    const f = path.join(tempFolder(), ".lock");
    writeFileSync(f, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), operation: "prune", started: "then" }));
    expect(() => acquireSharedLock(f, "verify")).toThrow(expect.objectContaining({ code: "LockStale" }));
  });
});
