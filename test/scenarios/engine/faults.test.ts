/**
 * Failure injection at every WMI method the engine calls (issue 4, "Tests"): the lab's
 * `lab fail` makes the next call(s) of a method return an error code, or start a job that fails
 * at some percent. After each run: one clear message and exit 1, or success with the warning the
 * design calls for; no recovery checkpoint left; the catalog and every earlier point byte-for-byte
 * unchanged; no half VM registered; and the next run succeeds and restores bit-exact.
 */
import { describe, expect, it, vi } from "vitest";
import {
  backupAsync,
  diskHash,
  events,
  guestViewAsync,
  guestWriteAsync,
  hvbAsync,
  injectFault,
  labVmsAsync,
  newWorldAsync,
  okAsync,
  plannedSystems,
  recoveryCheckpoints,
  referencePoints,
  restoreSideBySideAsync,
  treeHashes,
  vmFolder,
} from "../../support/engine_harness";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";

// Each case mostly waits on child processes: run more of them at once than the default 5.
vi.setConfig({ maxConcurrency: 8 });

const MiB = 1024 * 1024;
type World = Awaited<ReturnType<typeof newWorldAsync>>;

/** A VM "v" with two disks and two points (full, incremental), then more guest writes. */
async function chain(name: string, vmArgs: string[] = []): Promise<{ w: World; points: Array<{ id: string; view: string[] }> }> {
  const w = await newWorldAsync(name);
  await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB", "--guest", "windows", ...vmArgs]);
  const points: Array<{ id: string; view: string[] }> = [];
  for (let round = 0; round < 2; round++) {
    await guestWriteAsync(w.lab, "v", 0, round * 3 * MiB + 4096, 3 * MiB, 10 + round);
    await guestWriteAsync(w.lab, "v", 1, (7 - round) * MiB, 100_000, 20 + round);
    const view = await guestViewAsync(w.lab, "v");
    points.push({ id: (await backupAsync(w, "v")).id, view });
  }
  await guestWriteAsync(w.lab, "v", 0, 9 * MiB + 512, 70_000, 30);
  await guestWriteAsync(w.lab, "v", 1, 0, 4096, 31);
  return { w, points };
}

/** Files of the given points' folders (and nothing else) with their hashes. */
function pointFiles(tree: Record<string, string>, ids: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).filter(([k]) => ids.some((id) => k.startsWith(`points/${id}/`))));
}

/**
 * The points made since the fault (`from` on) restore to what the guest saw; deep verify passes
 * (earlier points were proven byte-for-byte unchanged, and restore bit-exact in backup_restore).
 */
async function expectAllRestore(w: World, points: Array<{ id: string; view: string[] }>, tag: string, from = 2): Promise<void> {
  for (const [i, p] of points.entries()) if (i >= from) expect(await restoreSideBySideAsync(w, "v", p.id, `${tag}${i}`)).toEqual(p.view);
  const v = await hvbAsync(["verify", "--repo", w.repo, "--deep"]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
}

/** The one error line of a failed human-mode run. */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("hvbackup:"));
}

interface BackupFault {
  title: string;
  faults: Array<{ method: string; code: number; times?: number; atPercent?: number }>;
  extra?: string[];
  vmArgs?: string[];
  /** "fail": exit 1 naming `message`; "warn": exit 0 with warning `code`. */
  outcome: { fail: RegExp } | { warn: string; methods?: string[] };
}

const backupFaults: BackupFault[] = [
  // A refused call is not the guest failing: no crash-consistent retry (issue 13 A7).
  { title: "CreateSnapshot refused: no fallback to crash consistency", faults: [{ method: "CreateSnapshot", code: 32775 }], outcome: { fail: /CreateSnapshot failed on VM 'v': 32775/ } },
  { title: "CreateSnapshot jobs failing at 40%", faults: [{ method: "CreateSnapshot", code: 32768, times: 2, atPercent: 40 }], outcome: { fail: /CreateSnapshot failed on VM 'v'.*Injected failure/ } },
  { title: "CreateSnapshot refused with --consistency crash (no fallback to try)", faults: [{ method: "CreateSnapshot", code: 32768 }], extra: ["--consistency", "crash"], outcome: { fail: /CreateSnapshot failed on VM 'v'/ } },
  { title: "CreateSnapshot job failing once (the guest): falls back to crash consistency", faults: [{ method: "CreateSnapshot", code: 32768, atPercent: 40 }], outcome: { warn: "ConsistencyFallback" } },
  { title: "ExportSystemDefinition refused", faults: [{ method: "ExportSystemDefinition", code: 32768 }], outcome: { fail: /ExportSystemDefinition failed on checkpoint/ } },
  { title: "ExportSystemDefinition job failing at 50%", faults: [{ method: "ExportSystemDefinition", code: 32768, atPercent: 50 }], outcome: { fail: /ExportSystemDefinition failed on checkpoint.*Injected failure/ } },
  {
    title: "ExportSystemDefinition refused, then DestroySnapshot refused once while cleaning up",
    faults: [{ method: "ExportSystemDefinition", code: 32768 }, { method: "DestroySnapshot", code: 32775 }],
    outcome: { fail: /ExportSystemDefinition failed on checkpoint/ },
  },
  { title: "GetVirtualDiskChanges refused: changes found by hashing", faults: [{ method: "GetVirtualDiskChanges", code: 32775 }], outcome: { warn: "RctIdInvalid", methods: ["hash", "rct"] } },
  { title: "GetVirtualDiskChanges job failing at 50%: changes found by hashing", faults: [{ method: "GetVirtualDiskChanges", code: 32768, atPercent: 50 }], outcome: { warn: "RctIdInvalid", methods: ["hash", "rct"] } },
  { title: "ConvertToReferencePoint refused after publish", faults: [{ method: "ConvertToReferencePoint", code: 32768 }], outcome: { warn: "ReferencePointFailed", methods: ["rct", "rct"] } },
  { title: "ConvertToReferencePoint job failing at 50%", faults: [{ method: "ConvertToReferencePoint", code: 32768, atPercent: 50 }], outcome: { warn: "ReferencePointFailed", methods: ["rct", "rct"] } },
  { title: "DestroyReferencePoint of the previous reference point refused", faults: [{ method: "DestroyReferencePoint", code: 32775 }], outcome: { warn: "ReferencePointNotRemoved", methods: ["rct", "rct"] } },
  { title: "DestroyReferencePoint job failing at 30%", faults: [{ method: "DestroyReferencePoint", code: 32768, atPercent: 30 }], outcome: { warn: "ReferencePointNotRemoved", methods: ["rct", "rct"] } },
  {
    title: "DestroySnapshot refused once on a VM without RCT (5.0): retried",
    vmArgs: ["--config-version", "5.0"],
    faults: [{ method: "DestroySnapshot", code: 32775 }],
    outcome: { warn: "RctUnavailable", methods: ["hash", "hash"] },
  },
];

describe.concurrent("WMI failures during backup", () => {
  for (const f of backupFaults) {
    it(f.title, async () => {
      const { w, points } = await chain(`fb`, f.vmArgs);
      try {
        const folder = vmFolder(w.repo, "v");
        const before = treeHashes(folder);
        const view = await guestViewAsync(w.lab, "v");
        for (const x of f.faults) await injectFault(w.lab, x.method, x.code, x);
        const args = ["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--hash-changes", ...(f.extra ?? [])];
        if ("fail" in f.outcome) {
          const r = await hvbAsync(args);
          expect(r.code, r.stderr).toBe(1);
          expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
          expect(errorLines(r.stderr)[0]).toMatch(f.outcome.fail);
          // Catalog and every earlier point byte-for-byte as they were; no staging left.
          expect(treeHashes(folder)).toEqual(before);
        } else {
          const r = await hvbAsync([...args, "--json"]);
          expect(r.code, r.stdout + r.stderr).toBe(0);
          const ev = events(r.stdout);
          expect(ev.filter((e) => e.type === "warning").map((e) => e.code)).toContain(f.outcome.warn);
          const result = ev.find((e) => e.type === "result")!.data as { id: string; kind: string; disks: Array<{ method: string }> };
          expect(result.kind).toBe("incremental");
          if (f.outcome.methods) expect(result.disks.map((d) => d.method)).toEqual(f.outcome.methods);
          points.push({ id: result.id, view });
          // Earlier points untouched (the catalog gained the new point).
          expect(pointFiles(treeHashes(folder), points.slice(0, -1).map((p) => p.id))).toEqual(pointFiles(before, points.slice(0, -1).map((p) => p.id)));
        }
        expect(await recoveryCheckpoints(w.lab)).toEqual([]);
        expect(existsSync(path.join(folder, ".lock"))).toBe(false);
        // The guest saw nothing of it.
        expect(await guestViewAsync(w.lab, "v")).toEqual(view);

        // The next run succeeds, and every point restores bit-exact.
        await guestWriteAsync(w.lab, "v", 0, 12 * MiB, 8192, 40);
        const next = await guestViewAsync(w.lab, "v");
        const p = await backupAsync(w, "v", ["--hash-changes"]);
        expect(p.kind).toBe("incremental");
        points.push({ id: p.id, view: next });
        expect(await recoveryCheckpoints(w.lab)).toEqual([]);
        if (!f.vmArgs) {
          // Exactly one reference point of ours: the newest point's.
          expect(await referencePoints(w.lab)).toHaveLength(1);
          const again = await backupAsync(w, "v");
          expect(again.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
          points.push({ id: again.id, view: next });
        }
        await expectAllRestore(w, points, "r");
      } finally {
        w.cleanup();
      }
    });
  }

  it("a checkpoint that cannot be removed is reported, warned about by the next backup, and removed by cleanup", async () => {
    const { w, points } = await chain("fbleft");
    try {
      const folder = vmFolder(w.repo, "v");
      const before = treeHashes(folder);
      await injectFault(w.lab, "ExportSystemDefinition", 32768);
      await injectFault(w.lab, "DestroySnapshot", 32775, { times: 3 });
      const r = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab]);
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/Could not remove the recovery checkpoint of 'v'.*run 'hvbackup cleanup --vm v'/);
      expect(treeHashes(folder)).toEqual(before);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(1);

      const view = await guestViewAsync(w.lab, "v");
      const b = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(b.code).toBe(0);
      expect(events(b.stdout).filter((e) => e.type === "warning").map((e) => e.code)).toContain("CheckpointLingering");
      points.push({ id: (events(b.stdout).find((e) => e.type === "result")!.data as { id: string }).id, view });

      const c = await okAsync(["cleanup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
      const res = events(c.stdout).find((e) => e.type === "result")!.data as { removedCheckpoints: string[]; keptReferencePoints: unknown[] };
      expect(res.removedCheckpoints).toHaveLength(1);
      expect(res.keptReferencePoints).toHaveLength(1);
      expect(await recoveryCheckpoints(w.lab)).toEqual([]);
      expect(await guestViewAsync(w.lab, "v")).toEqual(view);
      const p = await backupAsync(w, "v");
      expect(p.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
      points.push({ id: p.id, view });
      await expectAllRestore(w, points, "r");
    } finally {
      w.cleanup();
    }
  });

  it("a checkpoint of a VM without RCT that cannot be removed after publish is a warning, not a failed backup", async () => {
    const { w, points } = await chain("fb50", ["--config-version", "5.0"]);
    try {
      const view = await guestViewAsync(w.lab, "v");
      await injectFault(w.lab, "DestroySnapshot", 32775, { times: 3 });
      const r = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(r.code, r.stdout).toBe(0);
      expect(events(r.stdout).filter((e) => e.type === "warning").map((e) => e.code)).toContain("CheckpointLeft");
      points.push({ id: (events(r.stdout).find((e) => e.type === "result")!.data as { id: string }).id, view });
      await okAsync(["cleanup", "--vm", "v", "--lab", w.lab]);
      expect(await recoveryCheckpoints(w.lab)).toEqual([]);
      await expectAllRestore(w, points, "r");
    } finally {
      w.cleanup();
    }
  });
});

interface RestoreFault {
  method: string;
  code: number;
  atPercent?: number;
}

const restoreFaults: RestoreFault[] = [
  { method: "RequestStateChange", code: 32775 },
  { method: "ExportSystemDefinition", code: 32768 },
  { method: "DestroySystem", code: 32775 },
  { method: "ImportSystemDefinition", code: 32768 },
  { method: "ImportSystemDefinition", code: 32768, atPercent: 50 },
  { method: "ModifyResourceSettings", code: 32768 },
  { method: "ModifySystemSettings", code: 32768 },
  { method: "ValidatePlannedSystem", code: 32768, atPercent: 50 },
  { method: "RealizePlannedSystem", code: 32768 },
  { method: "RealizePlannedSystem", code: 32768, atPercent: 60 },
];

describe.concurrent("WMI failures during restore (replacing the running VM with --force)", () => {
  for (const f of restoreFaults) {
    it(`${f.method}${f.atPercent !== undefined ? ` job failing at ${f.atPercent}%` : ` refused with ${f.code}`}`, async () => {
      const { w, points } = await chain("fr");
      try {
        const folder = vmFolder(w.repo, "v");
        const before = treeHashes(folder);
        const vmsBefore = (await labVmsAsync(w.lab)).map((v) => ({ name: v.name, id: v.id, state: v.state, disks: v.disks }));
        const production = await guestViewAsync(w.lab, "v");
        const dest = path.join(w.dir, "dest");
        await injectFault(w.lab, f.method, f.code, f);
        const args = ["restore", "--repo", w.repo, "--vm", "v", "--point", points[0]!.id, "--force", "--name", "v-restored", "--dest", dest, "--lab", w.lab];
        const r = await hvbAsync(args);
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
        expect(errorLines(r.stderr)[0]).toContain(`${f.method} failed`);
        // No half VM: the VM is registered as it was (running again), with its own disks and data.
        const vmsAfter = (await labVmsAsync(w.lab)).map((v) => ({ name: v.name, id: v.id, state: v.state, disks: v.disks }));
        expect(vmsAfter).toEqual(vmsBefore);
        expect(await guestViewAsync(w.lab, "v")).toEqual(production);
        expect(await plannedSystems(w.lab)).toEqual([]);
        expect(await recoveryCheckpoints(w.lab)).toEqual([]);
        expect(treeHashes(folder)).toEqual(before);
        // Nothing restored is left in the destination (an export of the replaced VM may be).
        const left = existsSync(dest) ? readdirRecursive(dest).filter((f2) => !f2.startsWith("replaced-")) : [];
        expect(left.filter((f2) => /\.(a?vhdx|vmcx)$/i.test(f2))).toEqual([]);

        // The rerun succeeds: the restored VM has the point's data, the replaced one's files are kept.
        const again = await hvbAsync(args);
        expect(again.code, again.stderr).toBe(0);
        const vms = await labVmsAsync(w.lab);
        expect(vms.map((v) => v.name).sort()).toEqual(["v-restored"]);
        expect(vms[0]!.id).toBe(vmsBefore.find((v) => v.name === "v")!.id);
        expect(vms[0]!.disks.map((d) => diskHash(d.path))).toEqual(points[0]!.view);
        const aside = readdirSync(dest).filter((n) => n.startsWith("replaced-"));
        const moved = aside.flatMap((a) => readdirSync(path.join(dest, a)).filter((n) => /\.vhdx$/.test(n)).map((n) => path.join(dest, a, n)));
        expect(moved.map((m) => diskHash(m)).sort()).toEqual([...production].sort());
        // And the other points still restore.
        expect(await restoreSideBySideAsync(w, "v", points[1]!.id, "later")).toEqual(points[1]!.view);
      } finally {
        w.cleanup();
      }
    });
  }

  it("a side-by-side restore (--new-id) whose RealizePlannedSystem fails leaves nothing registered", async () => {
    const { w, points } = await chain("frnew");
    try {
      const vmsBefore = await labVmsAsync(w.lab);
      await injectFault(w.lab, "RealizePlannedSystem", 32768);
      const dest = path.join(w.dir, "side");
      const r = await hvbAsync(["restore", "--repo", w.repo, "--vm", "v", "--point", points[1]!.id, "--new-id", "--name", "copy", "--dest", dest, "--lab", w.lab]);
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)[0]).toMatch(/RealizePlannedSystem failed/);
      expect(await labVmsAsync(w.lab)).toEqual(vmsBefore);
      expect(await plannedSystems(w.lab)).toEqual([]);
      expect(readdirRecursive(dest).filter((f2) => /\.(a?vhdx|vmcx)$/i.test(f2))).toEqual([]);
      expect(await restoreSideBySideAsync(w, "v", points[1]!.id, "side")).toEqual(points[1]!.view);
    } finally {
      w.cleanup();
    }
  });
});

function readdirRecursive(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map((x) => x.replace(/\\/g, "/"));
}
