/**
 * Issue 9: a FIFO where a disk file should be — given directly, or as the parent a differencing
 * file's locator names — is refused at once with exit 1 and a message naming it: `vhdx info`,
 * `check` and `convert` never wait for a writer that will not come.
 */
import { execFileSync } from "node:child_process";
import { renameSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createVhdx } from "../../../src/vhdx/mod";
import { MiB, cleanupTempDirs, cli, tempDir } from "../../support/vhdx";

afterAll(cleanupTempDirs);

describe("a FIFO instead of a disk file", () => {
  const dir = tempDir();
  const fifo = path.join(dir, "pipe.vhdx");
  execFileSync("mkfifo", [fifo]);
  // A differencing file whose parent is then replaced by a FIFO.
  const parent = path.join(dir, "parent.vhdx");
  const child = path.join(dir, "child.avhdx");
  createVhdx(parent, { virtualSize: 8 * MiB }).close();
  createVhdx(child, { parentPath: parent }).close();
  renameSync(parent, path.join(dir, "parent.old"));
  execFileSync("mkfifo", [parent]);

  it.each([
    ["info", ["vhdx", "info", fifo]],
    ["check", ["vhdx", "check", fifo]],
    ["convert", ["vhdx", "convert", fifo, path.join(dir, "out.vhdx")]],
    ["info of a child whose parent is a FIFO", ["vhdx", "info", child]],
    ["convert of a child whose parent is a FIFO", ["vhdx", "convert", child, path.join(dir, "out2.vhdx")]],
  ])("%s: exit 1 at once, naming the file", (_name, args) => {
    const r = cli(args, { timeoutMs: 30_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/FIFO|not a regular file/);
    expect(r.stderr).toMatch(/pipe\.vhdx|parent\.vhdx/);
  });
});
