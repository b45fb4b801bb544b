/**
 * The other operations of issue 4 and the host events a backup must survive: export-disk (a
 * standalone VHDX equal to the guest's disk at that point, accepted by qemu-img), readiness
 * (says why there is no RCT, warns about a missing SCSI controller), cleanup (removes a leftover
 * recovery checkpoint, keeps the reference point the next incremental needs), a live migration
 * while the backup runs, several VMs in one run with one failing, and a reference point destroyed
 * behind the product's back.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  backupAsync,
  cimQuery,
  diskHash,
  events,
  exited,
  guestViewAsync,
  guestWriteAsync,
  hvbAsync,
  newWorldAsync,
  okAsync,
  readCatalogOf,
  recoveryCheckpoints,
  referencePoints,
  restoreSideBySideAsync,
  spawnCli,
} from "../../support/engine_harness";


// Each case mostly waits on child processes: run more of them at once than the default 5.
vi.setConfig({ maxConcurrency: 8 });

const MiB = 1024 * 1024;

function resultOf<T>(stdout: string): T {
  return events(stdout).find((e) => e.type === "result")!.data as T;
}

describe.concurrent("operations", () => {
  it("export-disk writes one disk of one point as a VHDX equal to what the guest saw", async () => {
    const w = await newWorldAsync("export");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "32MiB"]);
      await guestWriteAsync(w.lab, "v", 1, 20 * MiB + 512, 3 * MiB, 1);
      const v1 = await guestViewAsync(w.lab, "v");
      const p1 = await backupAsync(w, "v");
      await guestWriteAsync(w.lab, "v", 1, 0, 70_000, 2);
      await guestWriteAsync(w.lab, "v", 1, 31 * MiB, MiB, 3);
      const v2 = await guestViewAsync(w.lab, "v");
      const p2 = await backupAsync(w, "v");
      for (const [p, view] of [[p1, v1], [p2, v2]] as const) {
        const out = path.join(w.dir, `${p.id}.vhdx`);
        await okAsync(["export-disk", "--repo", w.repo, "--vm", "v", "--point", p.id, "--disk", "1", "--out", out]);
        expect(diskHash(out)).toBe(view[1]);
        // An independent reader: qemu-img checks it and reads the same bytes.
        const check = spawnSync("qemu-img", ["check", "-f", "vhdx", out], { encoding: "utf8" });
        expect(check.status, check.stdout + check.stderr).toBe(0);
        const raw = path.join(w.dir, `${p.id}.raw`);
        const conv = spawnSync("qemu-img", ["convert", "-f", "vhdx", "-O", "raw", out, raw], { encoding: "utf8" });
        expect(conv.status, conv.stderr).toBe(0);
        expect(createHash("sha256").update(readFileSync(raw)).digest("hex")).toBe(view[1]);
      }
      // Never over an existing file; an unknown disk is named.
      const again = await hvbAsync(["export-disk", "--repo", w.repo, "--vm", "v", "--point", p2.id, "--disk", "1", "--out", path.join(w.dir, `${p2.id}.vhdx`)]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/exists/);
      const bad = await hvbAsync(["export-disk", "--repo", w.repo, "--vm", "v", "--point", p2.id, "--disk", "7", "--out", path.join(w.dir, "x.vhdx")]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/no disk 7/);
    } finally {
      w.cleanup();
    }
  });

  it("readiness says why a 5.0 VM has no RCT and warns about a VM without SCSI", async () => {
    const w = await newWorldAsync("ready");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "old", "--disk", "16MiB", "--config-version", "5.0"]);
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "g1", "--disk", "16MiB", "--generation", "1", "--no-scsi", "--guest", "windows"]);
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "new", "--disk", "16MiB"]);
      type Report = { nextBackup: string; rct: boolean; rctReason?: string; expectedConsistency: string; disks: Array<{ method: string; reason?: string }>; warnings: string[] };
      const ready = async (vm: string, repo = false): Promise<Report> =>
        resultOf<Report>((await okAsync(["readiness", "--vm", vm, "--lab", w.lab, "--json", ...(repo ? ["--repo", w.repo] : [])])).stdout);

      const old = await ready("old");
      expect(old.nextBackup).toBe("full");
      expect(old.rct).toBe(false);
      expect(old.rctReason).toMatch(/configuration version 5\.0 has no RCT/);
      expect(old.warnings.join("\n")).toMatch(/configuration version 5\.0 has no RCT/);
      const human = await okAsync(["readiness", "--vm", "old", "--lab", w.lab]);
      expect(human.stdout).toMatch(/5\.0 has no RCT/);
      await backupAsync(w, "old");
      // Without RCT the next backup is a full copy, unless hash change detection is asked for.
      const oldAfter = await ready("old", true);
      expect(oldAfter.nextBackup).toBe("full");
      expect(oldAfter.disks.map((d) => d.method)).toEqual(["full"]);
      expect(oldAfter.disks[0]!.reason).toMatch(/5\.0 has no RCT/);
      const oldHashing = resultOf<Report>((await okAsync(["readiness", "--vm", "old", "--lab", w.lab, "--json", "--repo", w.repo, "--hash-changes"])).stdout);
      expect(oldHashing.nextBackup).toBe("incremental");
      expect(oldHashing.disks.map((d) => d.method)).toEqual(["hash"]);

      const g1 = await ready("g1");
      expect(g1.warnings.join("\n")).toMatch(/no SCSI controller/);

      const fresh = await ready("new");
      expect(fresh.rct).toBe(true);
      expect(fresh.warnings).toEqual([]);
      await backupAsync(w, "new");
      const next = await ready("new", true);
      expect(next.nextBackup).toBe("incremental");
      expect(next.disks.map((d) => d.method)).toEqual(["rct"]);
    } finally {
      w.cleanup();
    }
  });

  it("cleanup removes a leftover recovery checkpoint and keeps the reference point the next incremental needs", async () => {
    const w = await newWorldAsync("cleanup");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
      await guestWriteAsync(w.lab, "v", 0, 0, 3 * MiB, 1);
      const v1 = await guestViewAsync(w.lab, "v");
      const p1 = await backupAsync(w, "v");
      // A backup killed right after its checkpoint was made leaves it behind.
      const killed = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab], { env: { HVBACKUP_CRASH_AT: "backup-checkpoint-created" } });
      expect(killed.signal).toBe("SIGKILL");
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(1);
      await guestWriteAsync(w.lab, "v", 0, 5 * MiB, 100_000, 2);
      const v2 = await guestViewAsync(w.lab, "v");

      // --what-if only says what it would do.
      const dry = resultOf<{ removedCheckpoints: string[] }>((await okAsync(["cleanup", "--vm", "v", "--lab", w.lab, "--repo", w.repo, "--what-if", "--clear-stale-lock", "--json"])).stdout);
      expect(dry.removedCheckpoints).toHaveLength(1);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(1);
      const res = resultOf<{ removedCheckpoints: string[]; keptReferencePoints: Array<{ instanceId: string; reason: string }> }>(
        (await okAsync(["cleanup", "--vm", "v", "--lab", w.lab, "--repo", w.repo, "--json"])).stdout,
      );
      expect(res.removedCheckpoints).toHaveLength(1);
      expect(res.keptReferencePoints.map((k) => k.instanceId)).toEqual([readCatalogOf(w.repo, "v").points[0]!.referencePoint!.instanceId]);
      expect(res.keptReferencePoints[0]!.reason).toMatch(/next incremental/);
      expect(await recoveryCheckpoints(w.lab)).toEqual([]);
      expect(await referencePoints(w.lab)).toHaveLength(1);
      expect(await guestViewAsync(w.lab, "v")).toEqual(v2);

      const p2 = await backupAsync(w, "v");
      expect(p2.disks.map((d) => d.method)).toEqual(["rct"]);
      expect(await restoreSideBySideAsync(w, "v", p1.id, "a")).toEqual(v1);
      expect(await restoreSideBySideAsync(w, "v", p2.id, "b")).toEqual(v2);
    } finally {
      w.cleanup();
    }
  });

  it("a VM live-migrated while its backup runs ends with no checkpoint and a point that restores bit-exact", async () => {
    const w = await newWorldAsync("migrate", ["--job-ms", "1500"]);
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
      await guestWriteAsync(w.lab, "v", 0, MiB, 2 * MiB, 1);
      await backupAsync(w, "v");
      await guestWriteAsync(w.lab, "v", 1, 3 * MiB, 300_000, 2);
      const view = await guestViewAsync(w.lab, "v");
      for (const when of [300, 2200]) {
        const child = spawnCli(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
        let stdout = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        await new Promise((r) => setTimeout(r, when));
        await okAsync(["lab", "migrate", "--lab", w.lab, "--vm", "v"]);
        const end = await exited(child);
        expect(end.code, stdout).toBe(0);
        const p = resultOf<{ id: string; kind: string }>(stdout);
        expect(p.kind).toBe("incremental");
        expect(await recoveryCheckpoints(w.lab)).toEqual([]);
        expect(await guestViewAsync(w.lab, "v")).toEqual(view);
        expect(await restoreSideBySideAsync(w, "v", p.id, `m${when}`)).toEqual(view);
      }
      expect(await referencePoints(w.lab)).toHaveLength(1);
    } finally {
      w.cleanup();
    }
  });

  it("backs up several VMs in one run: one VM's failure does not stop the others", async () => {
    const w = await newWorldAsync("multi");
    try {
      for (const vm of ["a", "b", "c"]) {
        await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", vm, "--disk", "16MiB", "--guest", "windows"]);
        await guestWriteAsync(w.lab, vm, 0, MiB, 500_000, vm.charCodeAt(0));
      }
      await okAsync(["lab", "guest", "--lab", w.lab, "--vm", "b", "--integration", "failing"]);
      const views = { a: await guestViewAsync(w.lab, "a"), c: await guestViewAsync(w.lab, "c") };
      const r = await hvbAsync(["backup", "--vm", "a", "--vm", "b", "--vm", "c", "--parallel", "2", "--no-crash-fallback", "--repo", w.repo, "--lab", w.lab]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^a: full backup/m);
      expect(r.stdout).toMatch(/^c: full backup/m);
      expect(r.stdout).toMatch(/^b: FAILED: CreateSnapshot failed on VM 'b'/m);
      expect(r.stderr).toMatch(/Backup of 'b' failed/);
      expect(await recoveryCheckpoints(w.lab)).toEqual([]);
      const list = JSON.parse((await okAsync(["list", "--repo", w.repo, "--json"])).stdout) as Array<{ vmName: string; id: string }>;
      expect(list.map((p) => p.vmName).sort()).toEqual(["a", "c"]);
      // The same in JSON: a result per VM.
      const j = await hvbAsync(["backup", "--vm", "a", "--vm", "b", "--vm", "c", "--parallel", "2", "--no-crash-fallback", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(j.code).toBe(1);
      const res = resultOf<{ results: Array<{ vm: string; ok: boolean; error?: string }> }>(j.stdout);
      expect(res.results.map((x) => [x.vm, x.ok]).sort()).toEqual([["a", true], ["b", false], ["c", true]]);
      for (const vm of ["a", "c"] as const) {
        const first = list.find((p) => p.vmName === vm)!;
        expect(await restoreSideBySideAsync(w, vm, first.id, `r${vm}`)).toEqual(views[vm]);
      }
    } finally {
      w.cleanup();
    }
  });

  it("a reference point destroyed behind our back: the next backup warns and takes a full copy, or with --hash-changes finds changes by hashing", async () => {
    const w = await newWorldAsync("rpgone");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
      await guestWriteAsync(w.lab, "v", 0, 0, 3 * MiB, 1);
      const v1 = await guestViewAsync(w.lab, "v");
      const p1 = await backupAsync(w, "v");
      const rps = await referencePoints(w.lab);
      expect(rps).toHaveLength(1);
      const service = (await cimQuery(w.lab, "SELECT * FROM Msvm_VirtualSystemReferencePointService"))[0]!.__PATH;
      const inv = JSON.parse((await okAsync(["lab", "cim", "invoke", "--lab", w.lab, "--path", service, "--method", "DestroyReferencePoint", "--wait", "--args", JSON.stringify({ AffectedReferencePoint: rps[0]!.__PATH })])).stdout) as { ReturnValue: number };
      expect([0, 4096]).toContain(inv.ReturnValue);
      expect(await referencePoints(w.lab)).toEqual([]);

      // By default a lost reference point means a full copy, with a warning saying why.
      await guestWriteAsync(w.lab, "v", 0, 5 * MiB, 4096, 9);
      const vFull = await guestViewAsync(w.lab, "v");
      const dflt = await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
      const pFull = resultOf<{ id: string; kind: string; disks: Array<{ method: string }> }>(dflt.stdout);
      expect(pFull.kind).toBe("full");
      expect(events(dflt.stdout).filter((e) => e.type === "warning").map((x) => x.code)).toContain("RctReferencePointGone");
      expect(events(dflt.stdout).filter((e) => e.type === "warning").map((x) => x.message).join("\n")).toMatch(/no longer exists on the host\); taking a full copy/);

      // With --hash-changes only what changed is stored, found by hashing.
      const rps2 = await referencePoints(w.lab);
      expect(rps2).toHaveLength(1);
      await okAsync(["lab", "cim", "invoke", "--lab", w.lab, "--path", service, "--method", "DestroyReferencePoint", "--wait", "--args", JSON.stringify({ AffectedReferencePoint: rps2[0]!.__PATH })]);
      await guestWriteAsync(w.lab, "v", 1, 9 * MiB, 8192, 2);
      const v2 = await guestViewAsync(w.lab, "v");
      const r = await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json", "--hash-changes"]);
      const warnings = events(r.stdout).filter((e) => e.type === "warning");
      expect(warnings.map((x) => x.code)).toContain("RctReferencePointGone");
      expect(warnings.map((x) => x.message).join("\n")).toMatch(/no longer exists on the host/);
      const p2 = resultOf<{ id: string; kind: string; disks: Array<{ method: string }> }>(r.stdout);
      expect(p2.kind).toBe("incremental");
      expect(p2.disks.map((d) => d.method)).toEqual(["hash", "hash"]);
      // Only the changed unit was stored.
      expect(readCatalogOf(w.repo, "v").points[2]!.disks.map((d) => (d as unknown as { storedBytes: number }).storedBytes)).toEqual([0, 2 * MiB]);
      await guestWriteAsync(w.lab, "v", 0, 3 * MiB, 8192, 3);
      const v3 = await guestViewAsync(w.lab, "v");
      const p3 = await backupAsync(w, "v");
      expect(p3.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
      expect(await restoreSideBySideAsync(w, "v", p1.id, "a")).toEqual(v1);
      expect(await restoreSideBySideAsync(w, "v", pFull.id, "f")).toEqual(vFull);
      expect(await restoreSideBySideAsync(w, "v", p2.id, "b")).toEqual(v2);
      expect(await restoreSideBySideAsync(w, "v", p3.id, "c")).toEqual(v3);
      expect((await hvbAsync(["verify", "--repo", w.repo, "--deep"])).code).toBe(0);
    } finally {
      w.cleanup();
    }
  });
});
