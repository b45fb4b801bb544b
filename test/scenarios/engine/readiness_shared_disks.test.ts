/**
 * Readiness knows what the backup refuses (issue 11 items 3 and 4): a VM with a VHD Set backed
 * up alone, or with a shared VHDX, is reported not ready with the backup's own error code and
 * reason; a VHD Set member is ready only as part of its group, which readiness names. A VM
 * without shared disks stays ready.
 */
import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { createVhdx } from "../../../src/vhdx/mod";
import { events, hvbAsync, newWorldAsync, okAsync } from "../../support/engine_harness";

const MiB = 1024 * 1024;

interface Report { ready: boolean; notReady?: { code: string; message: string }; nextBackup: string }

async function readinessOf(lab: string, vm: string): Promise<{ report: Report; text: string }> {
  const json = await okAsync(["readiness", "--vm", vm, "--lab", lab, "--json"]);
  const text = await okAsync(["readiness", "--vm", vm, "--lab", lab]);
  return { report: events(json.stdout).find((e) => e.type === "result")!.data as Report, text: text.stdout };
}

describe("readiness of VMs with shared disks", () => {
  it("says not ready, with the backup's code and reason, for a VHD Set alone or a shared VHDX; names the group to back up", async () => {
    const w = await newWorldAsync("ready-shared");
    try {
      const vhds = path.join(w.dir, "lab", "ClusterStorage", "Quorum.vhds");
      await okAsync(["lab", "vhdset", "new", "--lab", w.lab, "--path", vhds, "--size", "16MiB"]);
      for (const n of ["n1", "n2"]) await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", n, "--disk", "8MiB", "--shared-disk", vhds]);
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "lone", "--disk", "8MiB", "--shared-disk", vhds]);
      await okAsync(["lab", "group", "new", "--lab", w.lab, "--name", "gc", "--vm", "n1", "--vm", "n2"]);
      const sharedVhdx = path.join(w.dir, "lab", "Shared.vhdx");
      createVhdx(sharedVhdx, { virtualSize: 8 * MiB }).close();
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "old1", "--disk", "8MiB", "--shared-disk", sharedVhdx]);
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "plain", "--disk", "8MiB"]);

      for (const vm of ["n1", "lone", "old1"]) {
        const { report, text } = await readinessOf(w.lab, vm);
        const backup = await hvbAsync(["backup", "--vm", vm, "--repo", w.repo, "--lab", w.lab, "--json"]);
        expect(backup.code, vm).not.toBe(0);
        const refusal = events(backup.stdout).find((e) => e.type === "error")!;
        expect(refusal.code, vm).toBe("SharedDiskNotSupported");
        expect(report.ready, vm).toBe(false);
        expect(report.notReady?.code, vm).toBe(refusal.code);
        // The backup's own reason, word for word, at the start of readiness's.
        expect(report.notReady!.message.startsWith(refusal.message!), vm).toBe(true);
        expect(text, vm).toMatch(/Not ready: SharedDiskNotSupported: /);
        expect(text, vm).toMatch(/Next backup: none/);
      }
      expect((await readinessOf(w.lab, "n1")).report.notReady!.message).toMatch(/shares the VHD Set .*Quorum\.vhds.*ready only as part of its group: 'hvbackup backup --group gc'/);
      expect((await readinessOf(w.lab, "lone")).report.notReady!.message).toMatch(/shares the VHD Set .*in no VM group yet/);
      expect((await readinessOf(w.lab, "old1")).report.notReady!.message).toMatch(/shared VHDX .*Shared\.vhdx.*Convert-VHD/);
      const plain = await readinessOf(w.lab, "plain");
      expect(plain.report.ready).toBe(true);
      expect(plain.report.notReady).toBeUndefined();
      expect(plain.text).not.toMatch(/Not ready/);
    } finally {
      w.cleanup();
    }
  }, 120_000);
});
