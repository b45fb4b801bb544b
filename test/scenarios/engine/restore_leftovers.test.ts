/**
 * A restore killed before it finished leaves what its lock noted, and the next restore with
 * --clear-stale-lock removes all of it: with the host's default folders (no --dest) the disk
 * lies one folder down (`<DefaultVirtualHardDiskPath>/<name>/`), and that file goes too, with
 * the folders the restore made; nothing of a VM that was registered is touched.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { guestWriteAsync, hvbAsync, newWorldAsync, okAsync, plannedSystems } from "../../support/engine_harness";

function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? filesBelow(path.join(dir, n)).map((f) => path.join(n, f)) : [n]));
}

describe("leftovers of a killed restore", () => {
  for (const at of ["restore-disk-written", "restore-validated"]) {
    it(`killed at ${at} into the host's default folders: the rerun with --clear-stale-lock removes its disk and configuration, nested ones included`, async () => {
      const w = await newWorldAsync(`leftovers-${at}`);
      try {
        await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "4MiB"]);
        await guestWriteAsync(w.lab, "v", 0, 0, 65536, 5);
        await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab]);
        const killed = await hvbAsync(["restore", "--repo", w.repo, "--vm", "v", "--new-id", "--name", "gone", "--lab", w.lab], { env: { HVBACKUP_CRASH_AT: at } });
        expect(killed.signal).toBe("SIGKILL");
        const root = path.join(w.lab, "Hyper-V");
        const leftBefore = filesBelow(root).filter((f) => f.split(path.sep).includes("gone"));
        expect(leftBefore.some((f) => f.endsWith(".vhdx")), leftBefore.join(",")).toBe(true);
        const rerun = await okAsync(["restore", "--repo", w.repo, "--vm", "v", "--new-id", "--name", "back", "--lab", w.lab, "--clear-stale-lock"]);
        expect(rerun.stdout + rerun.stderr).toMatch(/Removed \d+ file\(s\) written by the interrupted restore/);
        expect(filesBelow(root).filter((f) => f.split(path.sep).includes("gone"))).toEqual([]);
        expect(existsSync(path.join(root, "Virtual Hard Disks", "gone"))).toBe(false);
        expect(existsSync(path.join(root, "gone"))).toBe(false);
        expect(await plannedSystems(w.lab)).toEqual([]);
        expect(filesBelow(path.join(root, "Virtual Hard Disks", "back")).length).toBe(1);
      } finally {
        w.cleanup();
      }
    }, 120_000);
  }
});
