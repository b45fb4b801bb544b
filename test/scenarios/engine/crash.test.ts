/**
 * Crash safety (issue 4, "Tests"): the process is killed with SIGKILL at every named crash point
 * of backup, prune and restore (HVBACKUP_CRASH_AT, see src/base/crash_point.ts), including the
 * VHDX log's, and at random moments (seeded). Afterwards: the stale lock is reported with the way
 * out (--clear-stale-lock), one rerun with that flag completes and removes what the killed run
 * left on the host (recovery checkpoint, unrecorded reference point, planned VM, files), every
 * catalogued point restores bit-exact and `verify --deep` passes.
 */
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  backupAsync,
  diskHash,
  events,
  exited,
  guestViewAsync,
  guestWriteAsync,
  hvbAsync,
  labVmsAsync,
  newWorldAsync,
  okAsync,
  plannedSystems,
  readCatalogOf,
  recoveryCheckpoints,
  referencePoints,
  restoreSideBySideAsync,
  rng,
  spawnCli,
  vmFolder,
} from "../../support/engine_harness";

// Each case mostly waits on child processes: run more of them at once than the default 5.
vi.setConfig({ maxConcurrency: 8 });

const MiB = 1024 * 1024;
type World = Awaited<ReturnType<typeof newWorldAsync>>;
type Views = Map<string, string[]>;

/** A VM "v" (two 16 MiB disks) with `n` points; returns the guest view of each point by id. */
async function chain(name: string, n: number, seed = 1): Promise<{ w: World; views: Views }> {
  const w = await newWorldAsync(name);
  await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB", "--guest", "windows"]);
  const views: Views = new Map();
  for (let i = 0; i < n; i++) await writeAndBackup(w, views, seed * 100 + i);
  return { w, views };
}

/** Random-ish guest writes on both disks (seeded). */
async function writes(w: World, seed: number): Promise<void> {
  const r = rng(seed);
  for (let k = 0; k < 3; k++) {
    const length = 512 * (1 + r(3000));
    await guestWriteAsync(w.lab, "v", k % 2, 512 * r((16 * MiB - length) / 512), length, seed * 10 + k);
  }
}

async function writeAndBackup(w: World, views: Views, seed: number): Promise<string> {
  await writes(w, seed);
  const view = await guestViewAsync(w.lab, "v");
  const p = await backupAsync(w, "v", ["--hash-changes"]);
  views.set(p.id, view);
  return p.id;
}

/** Runs the CLI with a crash point armed; it must die by SIGKILL there. */
async function crashAt(point: string, args: string[]): Promise<void> {
  const r = await hvbAsync(args, { env: { HVBACKUP_CRASH_AT: point } });
  expect(r.signal, `crash point ${point} not reached: exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe("SIGKILL");
}

/** The same command without the flag is refused with the way out; with it, it completes. */
async function rerunAfterCrash(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const refused = await hvbAsync(args);
  expect(refused.code).toBe(1);
  expect(refused.stderr + refused.stdout).toMatch(/no longer running: a previous \w+ was interrupted/);
  expect(refused.stderr + refused.stdout).toMatch(/run the command again with --clear-stale-lock/);
  return okAsync([...args, "--clear-stale-lock"]);
}

/** Every catalogued point restores to what the guest saw at its backup; deep verify passes. */
async function expectRepositoryWhole(w: World, views: Views, tag: string): Promise<void> {
  const cat = readCatalogOf(w.repo, "v");
  expect(cat.pendingMerge ?? null).toBeNull();
  for (const [i, p] of cat.points.entries()) {
    const view = views.get(p.id);
    expect(view, `point ${p.id} was never made by a completed backup`).toBeDefined();
    expect(await restoreSideBySideAsync(w, "v", p.id, `${tag}${i}`), `point ${p.id}`).toEqual(view);
  }
  const v = await hvbAsync(["verify", "--repo", w.repo, "--deep"]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
  expect(await plannedSystems(w.lab)).toEqual([]);
}

const backupPoints: Array<{ at: string; published: boolean }> = [
  { at: "backup-checkpoint-created", published: false },
  { at: "backup-staging-created", published: false },
  { at: "backup-disk-copied", published: false },
  { at: "backup-disk-copied#2", published: false },
  { at: "backup-config-exported", published: false },
  { at: "backup-before-publish", published: false },
  { at: "backup-published", published: true },
  { at: "backup-reference-point-recorded", published: true },
  { at: "vhdx-data-synced", published: false },
  { at: "vhdx-log-written", published: false },
  { at: "vhdx-log-applied#2", published: false },
];

describe.concurrent("killed during backup", () => {
  for (const c of backupPoints) {
    it(`at ${c.at}`, async () => {
      const { w, views } = await chain("cb", 1);
      try {
        await writes(w, 7);
        const view3 = await guestViewAsync(w.lab, "v");
        const args = ["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json", "--hash-changes"];
        const before = readCatalogOf(w.repo, "v").points.map((p) => p.id);
        await crashAt(c.at, args);
        const cat = readCatalogOf(w.repo, "v").points.map((p) => p.id);
        expect(cat.length).toBe(before.length + (c.published ? 1 : 0));
        expect(cat.slice(0, before.length)).toEqual(before);
        if (c.published) views.set(cat[cat.length - 1]!, view3);

        await writes(w, 8);
        const view4 = await guestViewAsync(w.lab, "v");
        const r = await rerunAfterCrash(args);
        const p4 = events(r.stdout).find((e) => e.type === "result")!.data as { id: string; kind: string };
        expect(p4.kind).toBe("incremental");
        views.set(p4.id, view4);
        // Nothing of the killed run is left on the host: no checkpoint, only our newest reference point.
        expect(await recoveryCheckpoints(w.lab)).toEqual([]);
        const rps = await referencePoints(w.lab);
        expect(rps.map((x) => x["InstanceID"])).toEqual([readCatalogOf(w.repo, "v").points.at(-1)!.referencePoint!.instanceId]);
        expect(await guestViewAsync(w.lab, "v")).toEqual(view4);
        // And the chain goes on with RCT.
        await writes(w, 9);
        const view5 = await guestViewAsync(w.lab, "v");
        const p5 = await backupAsync(w, "v", ["--hash-changes"]);
        expect(p5.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
        expect(p5.warnings).toEqual([]);
        views.set(p5.id, view5);
        await expectRepositoryWhole(w, views, "r");
      } finally {
        w.cleanup();
      }
    });
  }
});

const prunePoints = [
  "prune-marked",
  "prune-merged",
  "prune-merged#2",
  "prune-moved",
  "prune-relinked",
  "prune-relinked#3",
  "prune-manifest-written",
  "prune-manifest-written#2",
  // After the catalog's commit, before the older point's folder goes (before, the folder went
  // first: a kill in between left a catalog the rerun refused, "folder ... is missing").
  "prune-committed",
  "prune-committed#2",
  "vhdx-data-synced",
  "vhdx-log-written#2",
  "vhdx-log-applied#3",
];

describe.concurrent("killed during prune", () => {
  for (const at of prunePoints) {
    it(`at ${at}`, async () => {
      const { w, views } = await chain("cp", 4);
      try {
        const args = ["prune", "--repo", w.repo, "--vm", "v", "--keep", "2", "--json"];
        const all = readCatalogOf(w.repo, "v").points.map((p) => p.id);
        await crashAt(at, args);
        await rerunAfterCrash(args);
        const cat = readCatalogOf(w.repo, "v");
        expect(cat.points.map((p) => p.id)).toEqual(all.slice(2));
        expect(cat.points[0]!.kind).toBe("full");
        expect(cat.points[0]!.parentId).toBeNull();
        expect(cat.points[1]!.parentId).toBe(cat.points[0]!.id);
        // Only the kept points' folders remain.
        const dirs = readdirSync(path.join(vmFolder(w.repo, "v"), "points")).sort();
        expect(dirs).toEqual(all.slice(2));
        // Backups continue incrementally from the pruned chain.
        const id = await writeAndBackup(w, views, 50);
        expect(readCatalogOf(w.repo, "v").points.at(-1)!.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
        expect(readCatalogOf(w.repo, "v").points.at(-1)!.id).toBe(id);
        await expectRepositoryWhole(w, views, "r");
      } finally {
        w.cleanup();
      }
    });
  }
});

// Removing a middle point (prune --point of an increment between two others): the next point's
// increments are rebuilt beside it, swapped in, and the point after it relinked.
const middlePrunePoints = [
  "prune-marked",
  "vhdx-data-synced",
  "prune-middle-built",
  "prune-middle-swapped",
  "prune-middle-swapped#2",
  "prune-middle-relinked",
  "prune-manifest-written",
  "prune-committed",
];

describe.concurrent("killed during prune of a middle point", () => {
  for (const at of middlePrunePoints) {
    it(`at ${at}`, async () => {
      const { w, views } = await chain("cpm", 4, 3);
      try {
        const all = readCatalogOf(w.repo, "v").points.map((p) => p.id);
        const args = ["prune", "--repo", w.repo, "--vm", "v", "--point", all[1]!, "--json"];
        await crashAt(at, args);
        await rerunAfterCrash(args);
        const cat = readCatalogOf(w.repo, "v");
        expect(cat.points.map((p) => p.id)).toEqual([all[0], all[2], all[3]]);
        expect(cat.points[1]!.parentId).toBe(all[0]);
        expect(readdirSync(path.join(vmFolder(w.repo, "v"), "points")).sort()).toEqual([all[0], all[2], all[3]]);
        const id = await writeAndBackup(w, views, 70);
        expect(readCatalogOf(w.repo, "v").points.at(-1)!.id).toBe(id);
        await expectRepositoryWhole(w, views, "r");
      } finally {
        w.cleanup();
      }
    });
  }
});

const restorePoints = ["restore-disk-written", "restore-disk-written#2", "vhdx-log-written", "restore-replaced", "restore-validated"];

describe.concurrent("killed during restore", () => {
  for (const at of restorePoints) {
    it(`at ${at} (replacing the running VM with --force)`, async () => {
      const { w, views } = await chain("cr", 2);
      try {
        const [p1] = [...views.keys()];
        const vmId = (await labVmsAsync(w.lab)).find((v) => v.name === "v")!.id;
        const dest = path.join(w.dir, "dest");
        const args = ["restore", "--repo", w.repo, "--vm", "v", "--point", p1!, "--force", "--dest", dest, "--lab", w.lab];
        await crashAt(at, args);
        await rerunAfterCrash(args);
        const vms = await labVmsAsync(w.lab);
        expect(vms.map((v) => [v.name, v.id])).toEqual([["v", vmId]]);
        expect(vms[0]!.disks.map((d) => diskHash(d.path))).toEqual(views.get(p1!));
        expect(vms[0]!.disks.every((d) => d.path.startsWith(dest))).toBe(true);
        expect(await plannedSystems(w.lab)).toEqual([]);
        // Only the restored disks are in the destination's disk folder (no leftovers of the killed run).
        expect(readdirSync(path.join(dest, "Virtual Hard Disks")).sort()).toEqual(vms[0]!.disks.map((d) => path.basename(d.path)).sort());
        await expectRepositoryWhole(w, views, "r");
      } finally {
        w.cleanup();
      }
    });
  }

  it("at restore-validated (side by side, --new-id): the planned VM is removed by the rerun", async () => {
    const { w, views } = await chain("crn", 2);
    try {
      const p2 = [...views.keys()][1]!;
      const dest = path.join(w.dir, "side");
      const args = ["restore", "--repo", w.repo, "--vm", "v", "--point", p2, "--new-id", "--name", "copy", "--dest", dest, "--lab", w.lab];
      await crashAt("restore-validated", args);
      expect(await plannedSystems(w.lab)).toHaveLength(1);
      await rerunAfterCrash(args);
      expect(await plannedSystems(w.lab)).toEqual([]);
      const copies = (await labVmsAsync(w.lab)).filter((v) => v.name === "copy");
      expect(copies).toHaveLength(1);
      expect(copies[0]!.disks.map((d) => diskHash(d.path))).toEqual(views.get(p2));
    } finally {
      w.cleanup();
    }
  });
});

describe.concurrent("killed while a host job runs", () => {
  it("while ImportSystemDefinition runs: the rerun removes the planned VM it had not yet learned of", async () => {
    const w = await newWorldAsync("crimport", ["--job-ms", "1500"]);
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
      await guestWriteAsync(w.lab, "v", 0, 0, MiB, 1);
      const view = await guestViewAsync(w.lab, "v");
      const p = await backupAsync(w, "v", ["--hash-changes"]);
      const dest = path.join(w.dir, "side");
      const args = ["restore", "--repo", w.repo, "--vm", "v", "--point", p.id, "--new-id", "--name", "copy", "--dest", dest, "--lab", w.lab];
      const child = spawnCli(args);
      // Kill it as soon as the host has the planned VM, while the import job still runs.
      while ((await plannedSystems(w.lab)).length === 0) {
        expect(child.exitCode, "the restore ended before the import started").toBeNull();
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill("SIGKILL");
      expect((await exited(child)).signal).toBe("SIGKILL");
      await rerunAfterCrash(args);
      expect(await plannedSystems(w.lab)).toEqual([]);
      const copies = (await labVmsAsync(w.lab)).filter((v) => v.name === "copy");
      expect(copies).toHaveLength(1);
      expect(copies[0]!.disks.map((d) => diskHash(d.path))).toEqual(view);
    } finally {
      w.cleanup();
    }
  });

  it("while CreateSnapshot runs: the rerun removes the checkpoint it had not yet learned of", async () => {
    const w = await newWorldAsync("crsnap", ["--job-ms", "1500"]);
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
      await guestWriteAsync(w.lab, "v", 0, 0, MiB, 1);
      const views: Views = new Map();
      views.set((await backupAsync(w, "v", ["--hash-changes"])).id, await guestViewAsync(w.lab, "v"));
      const args = ["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json", "--hash-changes"];
      const child = spawnCli(args);
      while ((await recoveryCheckpoints(w.lab)).length === 0) {
        expect(child.exitCode, "the backup ended before its checkpoint was made").toBeNull();
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill("SIGKILL");
      expect((await exited(child)).signal).toBe("SIGKILL");
      await guestWriteAsync(w.lab, "v", 0, 5 * MiB, 4096, 2);
      const view = await guestViewAsync(w.lab, "v");
      const r = await rerunAfterCrash(args);
      views.set((events(r.stdout).find((e) => e.type === "result")!.data as { id: string }).id, view);
      expect(await recoveryCheckpoints(w.lab)).toEqual([]);
      expect(await referencePoints(w.lab)).toHaveLength(1);
      for (const [id, v] of views) expect(await restoreSideBySideAsync(w, "v", id, id.slice(-6))).toEqual(v);
    } finally {
      w.cleanup();
    }
  });
});

describe("killed at random moments (seeded)", () => {
  it("backup, prune and restore killed at random delays: every remaining point restores and the reruns complete", async () => {
    const seed = Number(process.env["HVBACKUP_CRASH_SEED"] ?? 20261123);
    const r = rng(seed);
    const { w, views } = await chain("crand", 2, 3);
    try {
      const killed: Record<string, number> = { backup: 0, prune: 0, restore: 0 };
      for (let i = 0; i < 12; i++) {
        // Each operation in turn; the moment it is killed is what is random.
        const op = ["backup", "prune", "restore", "backup"][i % 4]!;
        const delay = 30 + r(600);
        const dest = path.join(w.dir, `rand-${i}`);
        let args: string[];
        let view: string[] | undefined;
        if (op === "backup") {
          await writes(w, 1000 + i);
          view = await guestViewAsync(w.lab, "v");
          args = ["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json", "--hash-changes"];
        } else if (op === "prune") {
          args = ["prune", "--repo", w.repo, "--vm", "v", "--keep", String(Math.max(2, readCatalogOf(w.repo, "v").points.length - 1)), "--json"];
        } else {
          const ids = readCatalogOf(w.repo, "v").points.map((p) => p.id);
          args = ["restore", "--repo", w.repo, "--vm", "v", "--point", ids[r(ids.length)]!, "--new-id", "--name", `rand-${i}`, "--dest", dest, "--lab", w.lab, "--json"];
        }
        const before = readCatalogOf(w.repo, "v").points.map((p) => p.id);
        const child = spawnCli(args);
        const timer = setTimeout(() => child.kill("SIGKILL"), delay);
        const end = await exited(child);
        clearTimeout(timer);
        const wasKilled = end.signal === "SIGKILL";
        if (!wasKilled) expect(end.code, `${op} ${args.join(" ")}`).toBe(0);
        killed[op]! += wasKilled ? 1 : 0;
        if (op === "backup") {
          // A point published by the killed run holds what the guest had when it started.
          for (const id of readCatalogOf(w.repo, "v").points.map((p) => p.id)) if (!before.includes(id)) views.set(id, view!);
        }
        if (wasKilled) {
          // Recovery: the same command with --clear-stale-lock (restore: into a fresh folder).
          if (op === "restore") {
            // A VM the killed restore managed to register must be whole.
            const done = (await labVmsAsync(w.lab)).find((v) => v.name === `rand-${i}`);
            const pid = args[args.indexOf("--point") + 1]!;
            if (done) expect(done.disks.map((d) => diskHash(d.path))).toEqual(views.get(pid));
            const again = await hvbAsync(args.map((a) => (a === dest ? `${dest}-again` : a === `rand-${i}` ? `rand-${i}-again` : a)).concat("--clear-stale-lock"));
            expect(again.code, again.stdout + again.stderr).toBe(0);
            if (!done && existsSync(path.join(dest, "Virtual Hard Disks"))) expect(readdirSync(path.join(dest, "Virtual Hard Disks"))).toEqual([]);
          } else {
            const again = await hvbAsync([...args, "--clear-stale-lock"]);
            expect(again.code, again.stdout + again.stderr).toBe(0);
            if (op === "backup") {
              const res = events(again.stdout).find((e) => e.type === "result")!.data as { id: string };
              views.set(res.id, view!);
            }
          }
        }
        expect(await recoveryCheckpoints(w.lab)).toEqual([]);
        expect(await plannedSystems(w.lab)).toEqual([]);
        const cat = readCatalogOf(w.repo, "v");
        expect(cat.pendingMerge ?? null).toBeNull();
        expect(await referencePoints(w.lab)).toHaveLength(1);
      }
      // The seed gives a mix: each operation was killed at least once.
      expect(killed.backup, JSON.stringify(killed)).toBeGreaterThan(0);
      expect(killed.prune, JSON.stringify(killed)).toBeGreaterThan(0);
      expect(killed.restore, JSON.stringify(killed)).toBeGreaterThan(0);
      await expectRepositoryWhole(w, views, "end");
    } finally {
      w.cleanup();
    }
  }, 600_000); // 12 kill-and-rerun rounds of whole CLI runs: well past the 2-minute default on a loaded 2-core machine
});
