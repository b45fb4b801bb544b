/**
 * One storage snapshot per backup set (issue 12, `--storage-snapshot`): every VM's checkpoint
 * exists at one instant (the lab's record), one shadow copy per volume is taken and removed, the
 * points restore to what the guests had at the checkpoint, and without VSS the run says so and
 * backs up each VM from its own checkpoint.
 */
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { events, guestViewAsync, guestWriteAsync, hvbAsync, newWorldAsync, okAsync, recoveryCheckpoints, restoreSideBySideAsync } from "../../support/engine_harness";

const MiB = 1024 * 1024;

interface SetResult {
  results: Array<{ vm: string; ok: boolean; checkpointSeconds: number; seconds: number; point: { id: string; kind: string } }>;
  summary: { succeeded: number; storageSnapshot: boolean };
}

function resultOf<T>(stdout: string): T {
  return events(stdout).find((e) => e.type === "result")!.data as T;
}

async function shadowCopies(lab: string): Promise<unknown[]> {
  return JSON.parse((await okAsync(["lab", "cim", "query", "--lab", lab, "--namespace", "root\\cimv2", "SELECT * FROM Win32_ShadowCopy"])).stdout) as unknown[];
}

async function newSet(name: string): Promise<Awaited<ReturnType<typeof newWorldAsync>>> {
  const w = await newWorldAsync(name, ["--job-ms", "0"]);
  for (let i = 1; i <= 4; i++) {
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", `vm${i}`, "--disk", "4MiB", "--volume", i % 2 ? "V1" : "V2"]);
    await guestWriteAsync(w.lab, `vm${i}`, 0, 0, MiB, i);
  }
  return w;
}

describe("backup --storage-snapshot", () => {
  it("checkpoints every VM at one instant, copies from one shadow copy per volume, and restores what the guests had", async () => {
    const w = await newSet("snap");
    try {
      const r1 = await hvbAsync(["backup", "--all", "--storage-snapshot", "--repo", w.repo, "--lab", w.lab, "--parallel", "2", "--json"]);
      expect(r1.code, r1.stderr).toBe(0);
      const s1 = resultOf<SetResult>(r1.stdout);
      expect(s1.summary).toMatchObject({ succeeded: 4, storageSnapshot: true });
      expect(events(r1.stdout).filter((e) => e.type === "info" && /^Shadow copy /.test(e.message ?? ""))).toHaveLength(2);
      // Measured by the host: both VMs of each volume had their checkpoint at the same time.
      const ls = JSON.parse((await okAsync(["lab", "ls", "--lab", w.lab, "--json"])).stdout) as { volumes: Array<{ name: string; peakCheckpoints: number }> };
      expect(ls.volumes.filter((v) => v.name !== "LAB").map((v) => v.peakCheckpoints)).toEqual([2, 2]);
      // Nothing left: no shadow copy, no checkpoint, no frozen files.
      expect(await shadowCopies(w.lab)).toHaveLength(0);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect(readdirSync(path.join(w.lab, "shadows"))).toEqual([]);

      await guestWriteAsync(w.lab, "vm2", 0, 2 * MiB, 64 * 1024, 9);
      const want = await guestViewAsync(w.lab, "vm2");
      const r2 = await hvbAsync(["backup", "--all", "--storage-snapshot", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(r2.code, r2.stderr).toBe(0);
      const s2 = resultOf<SetResult>(r2.stdout);
      expect(s2.results.every((r) => r.point.kind === "incremental")).toBe(true);
      expect(await restoreSideBySideAsync(w, "vm2", s2.results.find((r) => r.vm === "vm2")!.point.id, "snap")).toEqual(want);

      // A VM whose early export fails goes on from its own checkpoint; nothing is left behind.
      await okAsync(["lab", "fail", "--lab", w.lab, "--method", "ExportSystemDefinition", "--code", "32768"]);
      const r3 = await hvbAsync(["backup", "--vm", "vm1", "--vm", "vm3", "--storage-snapshot", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(r3.code, r3.stderr).toBe(0);
      expect(resultOf<SetResult>(r3.stdout).summary.succeeded).toBe(2);
      expect(events(r3.stdout).filter((e) => e.code === "StorageSnapshotFallback")).toHaveLength(1);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect(await shadowCopies(w.lab)).toHaveLength(0);
    } finally {
      w.cleanup();
    }
  });

  it("copies what the shadow copy froze although the conversion merged later guest writes into the base disk and the guest wrote again", async () => {
    const w = await newSet("cow");
    try {
      const want = await guestViewAsync(w.lab, "vm1");
      // Right after the shadow copy of vm1's volume: a write onto its checkpoint's differencing
      // disk, which the conversion then merges into the base disk the backup copies (frozen).
      await okAsync(["lab", "write", "--lab", w.lab, "--vm", "vm1", "--disk", "0", "--offset", String(MiB / 2), "--length", String(MiB), "--seed", "cow-1", "--after", "Create"]);
      // Right after the conversion: the guest writes to the base disk itself while it is copied.
      await okAsync(["lab", "write", "--lab", w.lab, "--vm", "vm1", "--disk", "0", "--offset", "0", "--length", String(MiB / 4), "--seed", "cow-2", "--after", "ConvertToReferencePoint"]);
      const r1 = await hvbAsync(["backup", "--all", "--storage-snapshot", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(r1.code, r1.stderr).toBe(0);
      const s1 = resultOf<SetResult>(r1.stdout);
      expect(s1.summary).toMatchObject({ succeeded: 4, storageSnapshot: true });
      const after = await guestViewAsync(w.lab, "vm1");
      expect(after).not.toEqual(want); // both writes happened, during the backup
      expect(await restoreSideBySideAsync(w, "vm1", s1.results.find((r) => r.vm === "vm1")!.point.id, "cow1")).toEqual(want);
      expect(readdirSync(path.join(w.lab, "shadows"))).toEqual([]);

      // The writes after the instant belong to the next point: change tracking hands them on.
      const r2 = await hvbAsync(["backup", "--all", "--storage-snapshot", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(r2.code, r2.stderr).toBe(0);
      const p2 = resultOf<SetResult>(r2.stdout).results.find((r) => r.vm === "vm1")!.point;
      expect(p2.kind).toBe("incremental");
      expect(await restoreSideBySideAsync(w, "vm1", p2.id, "cow2")).toEqual(after);
    } finally {
      w.cleanup();
    }
  });

  it("without VSS says so and backs up each VM from its own checkpoint", async () => {
    const w = await newSet("novss");
    try {
      // Provider not registered (Win32_ShadowCopy.Create 11) on every volume.
      await okAsync(["lab", "fail", "--lab", w.lab, "--method", "Create", "--code", "11", "--times", "2"]);
      const want = await guestViewAsync(w.lab, "vm3");
      const r = await hvbAsync(["backup", "--all", "--storage-snapshot", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const s = resultOf<SetResult>(r.stdout);
      expect(s.summary.succeeded).toBe(4);
      const ev = events(r.stdout);
      expect(ev.filter((e) => e.code === "StorageSnapshotUnavailable").map((e) => e.message)).toEqual([expect.stringMatching(/not registered \(no VSS\)/), expect.stringMatching(/not registered \(no VSS\)/)]);
      expect(ev.filter((e) => e.code === "StorageSnapshotFallback")).toHaveLength(4);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect(await restoreSideBySideAsync(w, "vm3", s.results.find((x) => x.vm === "vm3")!.point.id, "novss")).toEqual(want);
    } finally {
      w.cleanup();
    }
  });
});
