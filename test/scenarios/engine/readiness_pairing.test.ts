/**
 * Readiness pairs disks as the backup does (issue 13 A1, readiness): by where each disk is
 * attached, never by its position in the host's listing. A disk moved to another slot after the
 * last backup is announced as a full copy, and the backup that follows does exactly that.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mutateLab } from "../../../src/lab/mod";
import { backupAsync, events, guestWriteAsync, newWorldAsync, okAsync } from "../../support/engine_harness";

let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});

interface Report { nextBackup: string; disks: Array<{ index: number; method: string; reason?: string }>; warnings: string[] }

describe("readiness pairs disks by location", () => {
  it("says 'full' for a disk that moved to another slot, as the next backup does", async () => {
    const w = await newWorldAsync("ready-pair", ["--seed", "77", "--job-ms", "0"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "mv", "--disk", "8MiB@scsi:0:1", "--disk", "8MiB@scsi:0:2"]);
    await guestWriteAsync(w.lab, "mv", 0, 0, 4096, 1);
    await backupAsync(w, "mv");
    // The disk at LUN 1 is moved to LUN 0 (its file stays): still disk 0 by position, but no
    // longer where the point found it.
    mutateLab(w.lab, (s) => {
      const d = s.vms.find((v) => v.name === "mv")!.disks.find((x) => x.address === 1)!;
      d.address = 0;
      d.deviceKey = d.deviceKey.replace(/\\1$/, "\\0");
    });
    const ready = await okAsync(["readiness", "--vm", "mv", "--lab", w.lab, "--repo", w.repo, "--json"]);
    const report = events(ready.stdout).find((e) => e.type === "result")!.data as Report;
    expect(report.disks.map((d) => d.method)).toEqual(["full", "rct"]);
    expect(report.disks[0]!.reason).toMatch(/not where the last backup found it/);
    expect(report.nextBackup).toBe("incremental");
    const next = await okAsync(["backup", "--vm", "mv", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(events(next.stdout).filter((e) => e.code === "DiskMoved").length).toBe(1);
  });
});
