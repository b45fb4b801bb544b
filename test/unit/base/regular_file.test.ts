import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openRegularFile, readRegularFile } from "../../../src/base/mod";

const dir = mkdtempSync(path.join(tmpdir(), "hvb-regular-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("openRegularFile", () => {
  it("refuses a FIFO without waiting for a writer (it would block a read forever)", () => {
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    expect(() => openRegularFile(fifo, "r", "disk file")).toThrow(expect.objectContaining({ code: "NotARegularFile", message: expect.stringMatching(/disk file '.*fifo' is a FIFO/) }));
    expect(() => readRegularFile(fifo, 100)).toThrow(expect.objectContaining({ code: "NotARegularFile" }));
  });
  it("refuses a folder, with the caller's own error when given", () => {
    const d = path.join(dir, "d");
    mkdirSync(d);
    expect(() => openRegularFile(d, "r")).toThrow(expect.objectContaining({ code: "NotARegularFile" }));
    expect(() =>
      openRegularFile(d, "r", "x", (kind) => {
        throw new Error(`mine: ${kind}`);
      }),
    ).toThrow("mine: a folder");
  });
  it("reads a regular file, refusing one over the bound before reading it", () => {
    const f = path.join(dir, "f");
    writeFileSync(f, "hello");
    expect(readRegularFile(f, 5).toString()).toBe("hello");
    expect(() => readRegularFile(f, 4, "catalog")).toThrow(expect.objectContaining({ code: "FileTooLarge" }));
  });
});
