/**
 * The scenario harness's own promises: treeHashes never opens a FIFO (it would block) or follows
 * a link, and exited() resolves only once the child's output is read to the end.
 */
import { describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { exited, treeHashes } from "../../support/engine_harness";

describe("engine harness", () => {
  it.skipIf(process.platform === "win32")("treeHashes records a FIFO and a link without opening them", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hvb-tree-"));
    try {
      mkdirSync(path.join(dir, "a"));
      writeFileSync(path.join(dir, "a", "f"), "x");
      execFileSync("mkfifo", [path.join(dir, "a", "pipe")]);
      symlinkSync("/nonexistent/target", path.join(dir, "link"));
      const h = treeHashes(dir);
      expect(Object.keys(h).sort()).toEqual(["a/f", "a/pipe", "link"]);
      expect(h["a/pipe"]).toBe("not a regular file");
      expect(h["link"]).toBe("symlink -> /nonexistent/target");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exited resolves after the child's output has ended", async () => {
    const child = spawn(process.execPath, ["-e", "process.stdout.write('x'.repeat(1 << 20)); process.exitCode = 3"], { stdio: ["ignore", "pipe", "pipe"] });
    let got = 0;
    let ended = false;
    child.stdout!.on("data", (b: Buffer) => (got += b.length));
    child.stdout!.on("end", () => (ended = true));
    const end = await exited(child);
    expect(end.code).toBe(3);
    expect(ended).toBe(true);
    expect(got).toBe(1 << 20);
  });
});
