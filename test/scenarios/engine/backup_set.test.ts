/**
 * Many VMs in one run (issue 12): `--all` and name patterns, limits per run and per volume
 * honoured as the lab measured them (recovery checkpoints that existed at once per volume),
 * one VM's failure not stopping the others, the summary per VM, and a point of the set restorable.
 */
import { describe, expect, it } from "vitest";
import { diskHash, events, guestViewAsync, guestWriteAsync, hvbAsync, labVmAsync, newWorldAsync, okAsync, restoreSideBySideAsync } from "../../support/engine_harness";

const MiB = 1024 * 1024;
/** VMs in the scale case: 12 in the suite; HVB_SCALE_VMS=50 for the full count (slower). */
const COUNT = Math.max(4, Math.min(99, Number(process.env["HVB_SCALE_VMS"] ?? 12) || 12));
const names = Array.from({ length: COUNT }, (_, i) => `vm${String(i).padStart(2, "0")}`);

interface SetEntry {
  vm: string;
  ok: boolean;
  node: string | null;
  volumes: string[];
  bytes: number;
  seconds: number;
  checkpointSeconds: number;
  point?: { id: string; kind: string };
  code?: string;
}
interface SetResult {
  results: SetEntry[];
  summary: { total: number; succeeded: number; failed: number; bytes: number; limits: { parallel: number; perVolume: number | null }; peaks: { total: number; perResource: Record<string, number> } };
}
interface LabListing {
  volumes: Array<{ name: string; root: string; peakCheckpoints: number }>;
  peakCheckpoints: number;
}

function resultOf<T>(stdout: string): T {
  return events(stdout).find((e) => e.type === "result")!.data as T;
}

async function listing(lab: string): Promise<LabListing> {
  return JSON.parse((await okAsync(["lab", "ls", "--lab", lab, "--json"])).stdout) as LabListing;
}

describe("backup of a set of VMs", () => {
  it(`backs up ${COUNT} VMs over 2 volumes with the limits observed by the host, then incrementally, and a point restores`, async () => {
    const w = await newWorldAsync("set", ["--job-ms", "0"]);
    try {
      for (let i = 0; i < COUNT; i++) await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", names[i]!, "--disk", "4MiB", "--volume", i % 2 ? "V1" : "V2"]);
      await guestWriteAsync(w.lab, "vm03", 0, 0, MiB, 1);

      const first = await hvbAsync(["backup", "--all", "--repo", w.repo, "--lab", w.lab, "--parallel", "4", "--per-volume", "1", "--json"]);
      expect(first.code, first.stderr).toBe(0);
      const r1 = resultOf<SetResult>(first.stdout);
      expect(r1.summary).toMatchObject({ total: COUNT, succeeded: COUNT, failed: 0 });
      expect(r1.results.map((r) => r.vm)).toEqual(names);
      for (const r of r1.results) {
        expect(r.point!.kind).toBe("full");
        expect(r.volumes).toHaveLength(1);
        expect(r.bytes).toBeGreaterThan(0);
        expect(r.checkpointSeconds).toBeGreaterThan(0);
        expect(r.checkpointSeconds).toBeLessThanOrEqual(r.seconds);
      }
      // The scheduler filled its limits (one per volume, two volumes) ...
      expect(r1.summary.peaks.total).toBe(2);
      const volumePeaks = Object.entries(r1.summary.peaks.perResource).filter(([k]) => k.startsWith("volume:"));
      expect(volumePeaks.map(([, n]) => n)).toEqual([1, 1]);
      // ... and the host never carried two recovery checkpoints on one volume at once.
      const l1 = await listing(w.lab);
      const v1 = l1.volumes.find((v) => v.name === "V1")!;
      const v2 = l1.volumes.find((v) => v.name === "V2")!;
      expect([v1.peakCheckpoints, v2.peakCheckpoints]).toEqual([1, 1]);
      expect(l1.peakCheckpoints).toBeLessThanOrEqual(2);

      await guestWriteAsync(w.lab, "vm03", 0, 2 * MiB, 64 * 1024, 2);
      const want = await guestViewAsync(w.lab, "vm03");
      const second = await hvbAsync(["backup", "--vm", "vm0*", "--vm", "vm[1-9]?", "--repo", w.repo, "--lab", w.lab, "--parallel", "3", "--per-volume", "2", "--json"]);
      expect(second.code, second.stderr).toBe(0);
      const r2 = resultOf<SetResult>(second.stdout);
      expect(r2.summary.succeeded).toBe(COUNT);
      expect(r2.results.every((r) => r.point!.kind === "incremental")).toBe(true);
      const l2 = await listing(w.lab);
      for (const v of l2.volumes) expect(v.peakCheckpoints).toBeLessThanOrEqual(2);
      expect(l2.peakCheckpoints).toBeLessThanOrEqual(3);

      const point = r2.results.find((r) => r.vm === "vm03")!.point!.id;
      expect(await restoreSideBySideAsync(w, "vm03", point, "set")).toEqual(want);
      expect(diskHash((await labVmAsync(w.lab, "vm03")).disks[0]!.path)).toBe(want[0]);
    } finally {
      w.cleanup();
    }
  });

  it("a failed VM never stops the others, and the exit code says not all succeeded", async () => {
    const w = await newWorldAsync("setfail", ["--job-ms", "0"]);
    try {
      for (const n of ["web1", "web2", "web3", "db1"]) await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", n, "--disk", "4MiB"]);
      await okAsync(["lab", "fail", "--lab", w.lab, "--method", "CreateSnapshot", "--code", "32768"]);
      const r = await hvbAsync(["backup", "--vm", "web*", "--vm", "nosuchvm", "--repo", w.repo, "--lab", w.lab, "--no-crash-fallback", "--json"]);
      expect(r.code).toBe(1);
      const set = resultOf<SetResult>(r.stdout);
      expect(set.summary).toMatchObject({ total: 4, succeeded: 2, failed: 2 });
      expect(set.results.find((x) => x.vm === "nosuchvm")).toMatchObject({ ok: false, code: "VmNotFound" });
      expect(set.results.map((x) => x.vm).sort()).toEqual(["nosuchvm", "web1", "web2", "web3"]);
      expect(events(r.stdout).filter((e) => e.code === "BackupFailed")).toHaveLength(1);

      const none = await hvbAsync(["backup", "--vm", "zz*", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(none.code).toBe(1);
      expect(events(none.stdout).find((e) => e.type === "error")).toMatchObject({ code: "NoVmSelected" });
    } finally {
      w.cleanup();
    }
  });
});
