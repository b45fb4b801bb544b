/**
 * A set restore is all or nothing (issue 11 item 3, restore of a guest cluster): when the second
 * member's import, validation or realization fails, the member already restored is removed
 * again (VM unregistered, its files gone), and so is the new VHD Set made for the set (its files,
 * and so the lab's record of it); in place (--force) the originals are registered again as they
 * were, on their own disks and the live shared disk. The failure names the member and says so.
 */
import { describe, expect, it, vi } from "vitest";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { diskHash, guestViewAsync, guestWriteAsync, hvbAsync, newWorldAsync, okAsync, plannedSystems } from "../../support/engine_harness";

vi.setConfig({ maxConcurrency: 2 });

const MiB = 1024 * 1024;
type World = Awaited<ReturnType<typeof newWorldAsync>> & { vhds: string };

interface LabJson {
  vms: Array<{ name: string; id: string; state: string; hardware: { sharedDisks?: Array<{ path: string }> } }>;
  vhdSets?: Array<{ path: string; current: string }>;
}
const labJson = (lab: string): LabJson => JSON.parse(readFileSync(path.join(lab, "lab.json"), "utf8")) as LabJson;

function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? filesBelow(path.join(dir, n)).map((f) => path.join(n, f)) : [n]));
}

async function clusterWorld(name: string): Promise<World> {
  const base = await newWorldAsync(name);
  const w = { ...base, vhds: path.join(base.dir, "lab", "ClusterStorage", "Quorum.vhds") };
  await okAsync(["lab", "vhdset", "new", "--lab", w.lab, "--path", w.vhds, "--size", "8MiB"]);
  for (const n of ["n1", "n2"]) await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", n, "--disk", "4MiB", "--shared-disk", w.vhds]);
  await okAsync(["lab", "group", "new", "--lab", w.lab, "--name", "gc", "--vm", "n1", "--vm", "n2"]);
  await guestWriteAsync(w.lab, "n1", 0, 0, MiB, 1);
  await guestWriteAsync(w.lab, "n2", 0, MiB, MiB, 2);
  await okAsync(["lab", "write", "--lab", w.lab, "--shared-disk", w.vhds, "--offset", "4096", "--length", "300000", "--seed", "3"]);
  await okAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab]);
  return w;
}

/** Arms `method` to fail on its second call: the second member's. */
async function failSecond(lab: string, method: string): Promise<void> {
  await okAsync(["lab", "fail", "--lab", lab, "--method", method, "--code", "32768", "--skip", "1"]);
}

describe("a set restore is all or nothing", () => {
  it.concurrent("side by side: the second member failing at import, validation or realization leaves no VM, no file and no VHD Set; then it restores", async () => {
    const w = await clusterWorld("gr-rollback");
    try {
      const vmsBefore = labJson(w.lab).vms.map((v) => v.id).sort();
      const sharedBefore = diskHash(labJson(w.lab).vhdSets!.find((s) => s.path === path.resolve(w.vhds))!.current);
      for (const method of ["ImportSystemDefinition", "ValidatePlannedSystem", "RealizePlannedSystem"]) {
        await failSecond(w.lab, method);
        const dest = path.join(w.dir, `failed-${method}`);
        const r = await hvbAsync(["restore", "--repo", w.repo, "--group", "gc", "--new-id", "--dest", dest, "--lab", w.lab]);
        expect(r.code, method).not.toBe(0);
        expect(r.stderr, method).toMatch(/restoring member 'n2' of set .*whole or not at all.*removed again: 'n1'/);
        expect(labJson(w.lab).vms.map((v) => v.id).sort(), method).toEqual(vmsBefore);
        expect(await plannedSystems(w.lab), method).toEqual([]);
        expect(filesBelow(dest), method).toEqual([]);
        expect(existsSync(dest), method).toBe(false);
      }
      // The same destination again: the VHD Set made there before is gone from the lab too.
      const dest = path.join(w.dir, "failed-RealizePlannedSystem");
      await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--new-id", "--dest", dest, "--lab", w.lab]);
      const sets = labJson(w.lab).vhdSets!;
      expect(sets.map((s) => s.path).sort()).toEqual([path.join(dest, "Shared Disks", "Quorum.vhds"), path.resolve(w.vhds)].sort());
      expect(diskHash(sets.find((s) => s.path !== path.resolve(w.vhds))!.current)).toBe(sharedBefore);
      expect(labJson(w.lab).vms.length).toBe(vmsBefore.length + 2);
    } finally {
      w.cleanup();
    }
  }, 180_000);

  it.concurrent("in place (--force): the second member failing puts both originals back, on their own disks and the live shared disk", async () => {
    const w = await clusterWorld("gr-rollback-force");
    try {
      const before = labJson(w.lab).vms.map((v) => ({ name: v.name, id: v.id, state: v.state, shared: v.hardware.sharedDisks!.map((d) => d.path) }));
      const views = { n1: await guestViewAsync(w.lab, "n1"), n2: await guestViewAsync(w.lab, "n2") };
      // Written after the backup: a restore would lose it, a put-back keeps it.
      await guestWriteAsync(w.lab, "n1", 0, 2 * MiB, 4096, 9);
      views.n1 = await guestViewAsync(w.lab, "n1");
      await failSecond(w.lab, "RealizePlannedSystem");
      const dest = path.join(w.dir, "in-place");
      const r = await hvbAsync(["restore", "--repo", w.repo, "--group", "gc", "--force", "--dest", dest, "--lab", w.lab]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/restoring member 'n2' .*removed again: 'n1'.*VMs they replaced registered again/);
      const after = labJson(w.lab).vms.map((v) => ({ name: v.name, id: v.id, state: v.state, shared: v.hardware.sharedDisks!.map((d) => d.path) }));
      expect(after.sort((a, b) => a.name.localeCompare(b.name))).toEqual(before.sort((a, b) => a.name.localeCompare(b.name)));
      expect(await guestViewAsync(w.lab, "n1")).toEqual(views.n1);
      expect(await guestViewAsync(w.lab, "n2")).toEqual(views.n2);
      expect(await plannedSystems(w.lab)).toEqual([]);
      // What stays: only each original's configuration export (the put-back VM is registered from it).
      expect(filesBelow(dest).filter((f) => !/^(n[12])\/replaced-\1-[^/]+\/export\//.test(f))).toEqual([]);
      expect(existsSync(path.join(dest, "Shared Disks"))).toBe(false);
    } finally {
      w.cleanup();
    }
  }, 180_000);
});
