/**
 * Node ends a process whose event loop has nothing left to do with exit code 0, even while the
 * command still awaits something that can no longer happen. A backup cut off that way must not
 * look like a success: the CLI turns it into one error and exit code 1 (src/cli/main.ts,
 * failIfExitingUnfinished). The lost wake-up is made real by a preload whose timers never fire
 * (test/support/never_firing_timers.cjs): the copy's wait is then the last thing the process has.
 */
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { guestWriteAsync, hvbAsync, newWorldAsync, okAsync } from "../../support/engine_harness";

const PRELOAD = path.resolve(__dirname, "../../support/never_firing_timers.cjs");

describe("a command the event loop runs out under", () => {
  it("is an error with exit code 1, never a silent exit 0, and the next backup still succeeds", async () => {
    const w = await newWorldAsync("unfinished-exit");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "256MiB"]);
      await guestWriteAsync(w.lab, "v", 0, 0, 200 * 1024 * 1024, 3);
      const cut = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab], { env: { NODE_OPTIONS: `--require ${PRELOAD}` } });
      expect(cut.code, cut.stdout + cut.stderr).toBe(1);
      expect(cut.stderr).toMatch(/the command stopped before it finished/);
      expect(cut.stdout).not.toMatch(/full backup .* added/);
      // Nothing was published; the next run (with working timers) takes the full backup.
      expect(JSON.parse((await okAsync(["list", "--repo", w.repo, "--json"])).stdout)).toEqual([]);
      const next = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--clear-stale-lock"]);
      expect(next.code, next.stdout + next.stderr).toBe(0);
      expect(next.stdout).toMatch(/full backup/);
    } finally {
      w.cleanup();
    }
  }, 180_000);
});
