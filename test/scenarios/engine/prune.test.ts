/**
 * Retention (issue 4; DESIGN.md "Retention"): `prune --keep K` over a chain of six points merges
 * the oldest increments into the full. The points kept restore bit-exact to what the guest saw
 * at their backups, deep verify passes, the oldest kept point is a full, every file passes
 * `vhdx check` (and qemu-img reads the full), the next child's parent locator points at the
 * merged file, and backups go on incrementally (RCT) from the pruned chain.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  backupAsync,
  guestViewAsync,
  guestWriteAsync,
  hvbAsync,
  newWorldAsync,
  okAsync,
  readCatalogOf,
  restoreSideBySideAsync,
  rng,
  vmFolder,
} from "../../support/engine_harness";

const MiB = 1024 * 1024;
type World = Awaited<ReturnType<typeof newWorldAsync>>;

async function writeAndBackup(w: World, views: Map<string, string[]>, seed: number): Promise<{ id: string; disks: Array<{ method: string }> }> {
  const r = rng(seed);
  for (let k = 0; k < 4; k++) {
    const length = 512 * (1 + r(4000));
    await guestWriteAsync(w.lab, "v", k % 2, 512 * r((16 * MiB - length) / 512), length, seed * 10 + k);
  }
  const view = await guestViewAsync(w.lab, "v");
  const p = await backupAsync(w, "v");
  views.set(p.id, view);
  return p;
}

/** Structural checks of every kept file, and the chain links between them. */
async function expectChainSound(w: World): Promise<void> {
  const cat = readCatalogOf(w.repo, "v");
  const folder = vmFolder(w.repo, "v");
  const file = (id: string, rel: string): string => path.join(folder, "points", id, ...rel.split("/"));
  expect(cat.points[0]!.kind).toBe("full");
  expect(cat.points[0]!.parentId).toBeNull();
  for (const d of cat.points[0]!.disks) {
    expect(d.file).toMatch(/\.vhdx$/);
    // An independent reader accepts the merged full.
    const q = spawnSync("qemu-img", ["check", "-f", "vhdx", file(cat.points[0]!.id, d.file)], { encoding: "utf8" });
    expect(q.status, q.stdout + q.stderr).toBe(0);
  }
  for (const [i, p] of cat.points.entries()) {
    if (i > 0) {
      expect(p.kind).toBe("incremental");
      expect(p.parentId).toBe(cat.points[i - 1]!.id);
    }
    for (const d of p.disks) {
      const f = file(p.id, d.file);
      const check = await hvbAsync(["vhdx", "check", f]);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      if (i === 0) continue;
      // The parent locator names the previous kept point's file (rewritten after a merge), and
      // parent_linkage matches that file's DataWriteGuid.
      const info = JSON.parse((await okAsync(["vhdx", "info", f, "--json"])).stdout) as { parentLocator: { parent_linkage: string; relative_path: string }; chain: Array<{ path: string; dataWriteGuid: string }> };
      const parentRec = cat.points[i - 1]!.disks.find((x) => x.index === d.index)!;
      const parentFile = file(cat.points[i - 1]!.id, parentRec.file);
      expect(path.resolve(path.dirname(f), ...info.parentLocator.relative_path.split("\\"))).toBe(parentFile);
      expect(info.chain[1]!.path).toBe(parentFile);
      expect(info.parentLocator.parent_linkage.replace(/[{}]/g, "").toLowerCase()).toBe(info.chain[1]!.dataWriteGuid.toLowerCase());
    }
  }
}

async function expectKeptRestore(w: World, views: Map<string, string[]>, tag: string): Promise<void> {
  for (const [i, p] of readCatalogOf(w.repo, "v").points.entries()) {
    expect(await restoreSideBySideAsync(w, "v", p.id, `${tag}${i}`), `point ${p.id}`).toEqual(views.get(p.id));
  }
  const v = await hvbAsync(["verify", "--repo", w.repo, "--deep"]);
  expect(v.code, v.stdout + v.stderr).toBe(0);
}

describe("prune", () => {
  it("keeps the newest K of six points, merged into a full, and backups go on incrementally", async () => {
    const w = await newWorldAsync("prune");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
      const views = new Map<string, string[]>();
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await writeAndBackup(w, views, i + 1)).id);

      const r = await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep", "3", "--json"]);
      const res = (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { data: { removed: string[]; kept: string[] } }).data;
      expect(res.removed).toEqual(ids.slice(0, 3));
      expect(res.kept).toEqual(ids.slice(3));
      expect(readCatalogOf(w.repo, "v").points.map((p) => p.id)).toEqual(ids.slice(3));
      await expectChainSound(w);
      await expectKeptRestore(w, views, "a");

      // Nothing more to do at the same K.
      const again = await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep", "3", "--json"]);
      expect((JSON.parse(again.stdout.trim().split("\n").at(-1)!) as { data: { removed: string[] } }).data.removed).toEqual([]);

      // Backups continue from the pruned chain with RCT.
      for (let i = 0; i < 2; i++) {
        const p = await writeAndBackup(w, views, 20 + i);
        expect(p.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
        expect(readCatalogOf(w.repo, "v").points.at(-1)!.parentId).toBe(readCatalogOf(w.repo, "v").points.at(-2)!.id);
      }
      // Down to one point: the newest becomes a standalone full.
      await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep", "1"]);
      const cat = readCatalogOf(w.repo, "v");
      expect(cat.points).toHaveLength(1);
      await expectChainSound(w);
      await expectKeptRestore(w, views, "b");
      const p = await writeAndBackup(w, views, 30);
      expect(p.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
      await expectChainSound(w);
      await expectKeptRestore(w, views, "c");
    } finally {
      w.cleanup();
    }
  });

  it("--keep-since keeps every point taken at or after a time, and with --keep the newest K too", async () => {
    const w = await newWorldAsync("pruneSince");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
      const views = new Map<string, string[]>();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await writeAndBackup(w, views, 40 + i)).id);
      const times = readCatalogOf(w.repo, "v").points.map((p) => (p as unknown as { time: string }).time);
      // Points 2.. are at or after times[2]: the two oldest are folded away.
      await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep-since", times[2]!]);
      expect(readCatalogOf(w.repo, "v").points.map((p) => p.id)).toEqual(ids.slice(2));
      await expectChainSound(w);
      await expectKeptRestore(w, views, "s");
      // Both: the newest 2 or anything at or after times[3] — here the newest 2 (times[3], times[4]).
      await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep", "2", "--keep-since", times[3]!]);
      expect(readCatalogOf(w.repo, "v").points.map((p) => p.id)).toEqual(ids.slice(3));
      // A far-future time with --keep 3 keeps the newest 3 only... there are 2: nothing changes.
      const none = await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep", "3", "--keep-since", "2100-01-01T00:00:00Z", "--json"]);
      expect((JSON.parse(none.stdout.trim().split("\n").at(-1)!) as { data: { removed: string[] } }).data.removed).toEqual([]);
      const usage = await hvbAsync(["prune", "--repo", w.repo, "--vm", "v"]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/--keep K and\/or --keep-since TIME/);
      await expectKeptRestore(w, views, "t");
    } finally {
      w.cleanup();
    }
  });

  it("refuses --keep 0 and an unknown VM with a clear message, changing nothing", async () => {
    const w = await newWorldAsync("prune0");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
      await guestWriteAsync(w.lab, "v", 0, 0, 4096, 1);
      await backupAsync(w, "v");
      const zero = await hvbAsync(["prune", "--repo", w.repo, "--vm", "v", "--keep", "0"]);
      expect(zero.code).toBe(1);
      expect(zero.stderr).toMatch(/--keep must be at least 1/);
      const nobody = await hvbAsync(["prune", "--repo", w.repo, "--vm", "nobody", "--keep", "1"]);
      expect(nobody.code).toBe(1);
      expect(nobody.stderr).toMatch(/no backups of VM 'nobody'/);
      expect(readCatalogOf(w.repo, "v").points).toHaveLength(1);
    } finally {
      w.cleanup();
    }
  });

  it("--point removes a middle point: the next one takes over its blocks, every kept point restores bit-exact", async () => {
    const w = await newWorldAsync("prune-mid");
    try {
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
      const views = new Map<string, string[]>();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await writeAndBackup(w, views, 40 + i).then((p) => p.id)));
      const folder = vmFolder(w.repo, "v");

      // The third point (an increment between two increments) goes; the fourth takes its blocks.
      const r = await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--point", ids[2]!, "--json"]);
      const res = (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { data: { removed: string[]; kept: string[] } }).data;
      expect(res.removed).toEqual([ids[2]]);
      expect(res.kept).toEqual([ids[0], ids[1], ids[3], ids[4]]);
      const cat = readCatalogOf(w.repo, "v");
      expect(cat.points.map((p) => p.id)).toEqual(res.kept);
      expect(cat.points[2]!.parentId).toBe(ids[1]);
      expect(cat.points[2]!.kind).toBe("incremental");
      expect(cat.pendingMerge ?? null).toBeNull();
      expect(existsSync(path.join(folder, "points", ids[2]!))).toBe(false);
      await expectChainSound(w);
      await expectKeptRestore(w, views, "m");

      // The first increment (right after the full), then the full itself: any point but the newest.
      await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--point", ids[1]!]);
      await expectChainSound(w);
      await okAsync(["prune", "--repo", w.repo, "--vm", "v", "--point", ids[0]!]);
      expect(readCatalogOf(w.repo, "v").points.map((p) => p.id)).toEqual([ids[3], ids[4]]);
      await expectChainSound(w);
      await expectKeptRestore(w, views, "n");

      // The newest is never removed; backups go on with RCT from the pruned chain.
      const newest = await hvbAsync(["prune", "--repo", w.repo, "--vm", "v", "--point", ids[4]!]);
      expect(newest.code).not.toBe(0);
      expect(newest.stderr).toMatch(/newest restore point/);
      const p = await writeAndBackup(w, views, 60);
      expect(p.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
      await expectChainSound(w);
      await expectKeptRestore(w, views, "o");
    } finally {
      w.cleanup();
    }
  });
});
