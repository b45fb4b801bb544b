import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock, readLock } from "../../../src/repository/mod";
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
  it("treats an unreadable lock file as stale", () => {
    const f = path.join(tempFolder(), ".lock");
    writeFileSync(f, "");
    expect(() => acquireLock(f, "backup")).toThrow(expect.objectContaining({ code: "LockStale" }));
    acquireLock(f, "backup", { clearStale: true }).release();
  });
});
