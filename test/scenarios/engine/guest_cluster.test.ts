/**
 * Guest clusters with VHD Sets (issue 11 items 3, 4 and 6), through the CLI against the lab: a
 * two-node guest cluster (two VMs in a group sharing one .vhds) backs up full then incremental
 * with writes through the cluster's owner between; the shared disk is stored once per set;
 * every point restores bit-exact, a member alone (with the shared disk) and the whole set; a
 * VM alone with a VHD Set or a shared VHDX is refused, saying why and how; a failure at each VHD
 * Set method leaves no new point for any member and nothing on the host.
 */
import { describe, expect, it, vi } from "vitest";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { createVhdx } from "../../../src/vhdx/mod";
import {
  cimQuery,
  diskHash,
  events,
  guestViewAsync,
  guestWriteAsync,
  hvbAsync,
  injectFault,
  newWorldAsync,
  okAsync,
  recoveryCheckpoints,
  treeHashes,
} from "../../support/engine_harness";

vi.setConfig({ maxConcurrency: 4 });

const MiB = 1024 * 1024;
const NODES = ["n1", "n2"] as const;
type World = Awaited<ReturnType<typeof newWorldAsync>> & { vhds: string };

interface LabJson {
  vms: Array<{ name: string; id: string; hardware: { sharedDisks?: Array<{ path: string; kind: string }> } }>;
  vhdSets?: Array<{ path: string; current: string; snapshots: Array<{ id: string; path: string }> }>;
}
function labJson(lab: string): LabJson {
  return JSON.parse(readFileSync(path.join(lab, "lab.json"), "utf8")) as LabJson;
}
/** The VHD Set's data as the cluster sees it now (the lab's top file, read through its chain). */
function sharedView(lab: string, vhds: string): string {
  const set = labJson(lab).vhdSets?.find((s) => s.path === path.resolve(vhds));
  if (!set) throw new Error(`no VHD Set '${vhds}' in the lab`);
  return diskHash(set.current);
}
function vhdSetSnapshots(lab: string, vhds: string): Array<{ id: string; path: string }> {
  return labJson(lab).vhdSets?.find((s) => s.path === path.resolve(vhds))?.snapshots ?? [];
}

async function sharedWriteAsync(w: World, offset: number, length: number, seed: number): Promise<void> {
  await okAsync(["lab", "write", "--lab", w.lab, "--shared-disk", w.vhds, "--offset", String(offset), "--length", String(length), "--seed", String(seed)]);
}

/** A lab with a VHD Set shared by n1 and n2 (group "gc"), data on every disk. */
async function clusterWorld(name: string): Promise<World> {
  const base = await newWorldAsync(name);
  const w = { ...base, vhds: path.join(base.dir, "lab", "ClusterStorage", "Quorum.vhds") };
  await okAsync(["lab", "vhdset", "new", "--lab", w.lab, "--path", w.vhds, "--size", "24MiB"]);
  for (const n of NODES) await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", n, "--disk", "8MiB", "--shared-disk", w.vhds]);
  await okAsync(["lab", "group", "new", "--lab", w.lab, "--name", "gc", "--vm", "n1", "--vm", "n2"]);
  for (const [i, n] of NODES.entries()) await guestWriteAsync(w.lab, n, 0, i * MiB, MiB, 10 + i);
  await sharedWriteAsync(w, 512, 3 * MiB, 20);
  await sharedWriteAsync(w, 17 * MiB, 70_000, 21);
  return w;
}

interface SetResult {
  setId: string;
  points: Array<{ id: string; vmName: string; kind: string }>;
}
async function backupAsync(w: World): Promise<SetResult> {
  const r = await okAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab, "--json"]);
  return events(r.stdout).find((e) => e.type === "result")!.data as SetResult;
}
interface SharedRecord {
  file: string;
  kind: string;
  parentSetId: string | null;
  attachments: unknown[];
}
function setRecord(w: World, id: string): { version: number; sharedDisks?: SharedRecord[] } {
  return JSON.parse(readFileSync(path.join(w.repo, "sets", `${id}.json`), "utf8")) as { version: number; sharedDisks?: SharedRecord[] };
}
/** Every file below `dir`, relative. */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p, path.join(rel, n));
      else out.push(path.join(rel, n));
    }
  };
  walk(dir, "");
  return out;
}

/** The restored VMs whose own disks are under `dest`, with the shared disk each attaches. */
function restoredUnder(w: World, dest: string): Array<{ name: string; shared: string[] }> {
  const state = labJson(w.lab);
  return state.vms
    .filter((v) => (v.hardware.sharedDisks ?? []).some((d) => d.path.startsWith(dest + path.sep)))
    .map((v) => ({ name: v.name, shared: (v.hardware.sharedDisks ?? []).map((d) => d.path) }));
}

describe("guest clusters (VHD Sets)", () => {
  it.concurrent("a two-node guest cluster backs up full then incremental, the shared disk once per set, and every point restores bit-exact, a member alone and the whole set", async () => {
    const w = await clusterWorld("gc-roundtrip");
    try {
      const own1 = await Promise.all(NODES.map((n) => guestViewAsync(w.lab, n)));
      const shared1 = sharedView(w.lab, w.vhds);
      const s1 = await backupAsync(w);
      expect(s1.points.map((p) => [p.vmName, p.kind])).toEqual([["n1", "full"], ["n2", "full"]]);

      await sharedWriteAsync(w, 5 * MiB, 200_000, 30);
      await sharedWriteAsync(w, 0, 4096, 31);
      await guestWriteAsync(w.lab, "n2", 0, 5 * MiB, 100_000, 32);
      const own2 = await Promise.all(NODES.map((n) => guestViewAsync(w.lab, n)));
      const shared2 = sharedView(w.lab, w.vhds);
      expect(shared2).not.toBe(shared1);
      const s2 = await backupAsync(w);
      expect(s2.points.map((p) => p.kind)).toEqual(["incremental", "incremental"]);

      // Stored once per set, beside the set record; none in the members' points.
      const r1 = setRecord(w, s1.setId);
      const r2 = setRecord(w, s2.setId);
      expect(r1.version).toBe(2);
      expect(r1.sharedDisks!.map((d) => [d.file, d.kind, d.parentSetId, d.attachments.length])).toEqual([[`sets/${s1.setId}.shared/Quorum.vhdx`, "full", null, 2]]);
      expect(r2.sharedDisks!.map((d) => [d.file, d.kind, d.parentSetId])).toEqual([[`sets/${s2.setId}.shared/Quorum.vhdx`, "incremental", s1.setId]]);
      const all = filesBelow(w.repo);
      expect(all.filter((f) => /quorum/i.test(f)).sort()).toEqual([path.join("sets", `${s1.setId}.shared`, "Quorum.vhdx"), path.join("sets", `${s2.setId}.shared`, "Quorum.vhdx")]);
      // The incremental holds what changed, not the disk again; both are VHDX a stock reader opens.
      const full = path.join(w.repo, r1.sharedDisks![0]!.file);
      const incr = path.join(w.repo, r2.sharedDisks![0]!.file);
      expect(statSync(incr).size).toBeLessThan(statSync(full).size);
      expect(diskHash(full)).toBe(shared1);
      expect(diskHash(incr)).toBe(shared2);

      // Nothing left on the host: no checkpoint, no collection snapshot; the VHD Set keeps only
      // the reference-only snapshot of the newest set (its RCT id).
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect(await cimQuery(w.lab, "SELECT * FROM Msvm_SnapshotCollection")).toHaveLength(0);
      expect(vhdSetSnapshots(w.lab, w.vhds).map((s) => s.path)).toEqual([""]);

      // The whole set, each set: every member's own disks and the shared disk, attached to both.
      for (const [i, sel] of [s1.setId, "latest"].entries()) {
        const dest = path.join(w.dir, `set-${i}`);
        await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--set", sel, "--new-id", "--dest", dest, "--lab", w.lab]);
        const vhds = path.join(dest, "Shared Disks", "Quorum.vhds");
        expect(restoredUnder(w, dest).sort((a, b) => a.name.localeCompare(b.name))).toEqual(NODES.map((n) => ({ name: n, shared: [vhds] })));
        expect(sharedView(w.lab, vhds)).toBe(i === 0 ? shared1 : shared2);
        const own = i === 0 ? own1 : own2;
        for (const [k, n] of NODES.entries()) expect(restoredDiskHashes(dest, n)).toEqual(own[k]);
      }

      // A member alone, with the shared disk: `restore --vm` of a point of the set.
      for (const [i, s] of [s1, s2].entries()) {
        const dest = path.join(w.dir, `alone-${i}`);
        const point = s.points.find((p) => p.vmName === "n2")!.id;
        const out = await okAsync(["restore", "--repo", w.repo, "--vm", "n2", "--point", point, "--new-id", "--name", `n2-alone-${i}`, "--dest", dest, "--lab", w.lab]);
        expect(out.stdout).toMatch(/Restored shared disk .*Quorum\.vhds/);
        const vhds = path.join(dest, "Shared Disks", "Quorum.vhds");
        expect(restoredUnder(w, dest)).toEqual([{ name: `n2-alone-${i}`, shared: [vhds] }]);
        expect(sharedView(w.lab, vhds)).toBe(i === 0 ? shared1 : shared2);
      }

      const verify = await hvbAsync(["verify", "--repo", w.repo]);
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);

      // Prune keeps sets whole: the older set goes, the newer one's shared disk no longer builds on it.
      await okAsync(["prune", "--repo", w.repo, "--group", "gc", "--keep", "1"]);
      expect(existsSync(path.join(w.repo, "sets", `${s1.setId}.shared`))).toBe(false);
      const kept = setRecord(w, s2.setId).sharedDisks![0]!;
      expect([kept.kind, kept.parentSetId]).toEqual(["full", null]);
      expect(filesBelow(w.repo).filter((f) => /quorum/i.test(f))).toEqual([kept.file.split("/").join(path.sep)]);
      const dest = path.join(w.dir, "after-prune");
      await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--new-id", "--dest", dest, "--lab", w.lab]);
      expect(sharedView(w.lab, path.join(dest, "Shared Disks", "Quorum.vhds"))).toBe(shared2);
      // A damaged shared disk file is found by verify.
      const bytes = readFileSync(path.join(w.repo, kept.file));
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(path.join(w.repo, kept.file), bytes);
      const bad = await hvbAsync(["verify", "--repo", w.repo]);
      expect(bad.code).not.toBe(0);
      expect(bad.stdout + bad.stderr).toMatch(/shared disk .*Quorum\.vhds.*does not match its SHA-256/);
    } finally {
      w.cleanup();
    }
  }, 240_000);

  it.concurrent("a VM alone with a VHD Set, or with a shared VHDX (alone or in a group), is refused with why and how; nothing is made", async () => {
    const w = await clusterWorld("gc-refusal");
    try {
      const alone = await hvbAsync(["backup", "--vm", "n1", "--repo", w.repo, "--lab", w.lab]);
      expect(alone.code).not.toBe(0);
      expect(alone.stderr).toMatch(/shares the VHD Set .*Quorum\.vhds.*back up the guest cluster as a VM group/);
      const sharedVhdx = path.join(w.dir, "lab", "Shared.vhdx");
      createVhdx(sharedVhdx, { virtualSize: 8 * MiB }).close();
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "old1", "--disk", "8MiB", "--shared-disk", sharedVhdx]);
      await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "old2", "--disk", "8MiB", "--shared-disk", sharedVhdx]);
      await okAsync(["lab", "group", "new", "--lab", w.lab, "--name", "old", "--vm", "old1", "--vm", "old2"]);
      for (const args of [["--vm", "old1"], ["--group", "old"]]) {
        const r = await hvbAsync(["backup", ...args, "--repo", w.repo, "--lab", w.lab]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/shared VHDX .*Shared\.vhdx.*cannot checkpoint.*Convert-VHD -Path .*Shared\.vhdx.*-DestinationPath .*Shared\.vhds/);
      }
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect(vhdSetSnapshots(w.lab, w.vhds)).toEqual([]);
      expect(existsSync(path.join(w.repo, "sets"))).toBe(false);
      // doctor says the same before any backup is tried.
      const doctor = await hvbAsync(["doctor", "--lab", w.lab]);
      expect(doctor.stdout).toMatch(/FAIL\] old1: pass-through or shared disks: not backed up: .*Shared\.vhdx/);
      expect(doctor.stdout).toMatch(/PASS\] n1: pass-through or shared disks: .*VHD Set .*Quorum\.vhds.*backup --group/);
    } finally {
      w.cleanup();
    }
  }, 120_000);

  it.concurrent("a failure at each VHD Set method leaves no new point for any member, no checkpoint and no VHD Set snapshot; the next backup is whole", async () => {
    const w = await clusterWorld("gc-faults");
    try {
      const s1 = await backupAsync(w);
      await sharedWriteAsync(w, 2 * MiB, 300_000, 40);
      const before = treeHashes(w.repo);
      for (const method of ["GetVHDSetInformation", "GetVHDSnapshotInformation"]) {
        await injectFault(w.lab, method, 32768);
        const r = await hvbAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab]);
        expect(r.code, `${method}: ${r.stdout}`).not.toBe(0);
        expect(r.stderr).toContain(method);
        expect(treeHashes(w.repo)).toEqual(before);
        expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
        expect(await cimQuery(w.lab, "SELECT * FROM Msvm_SnapshotCollection")).toHaveLength(0);
        // Only the reference-only snapshot of set 1 remains.
        expect(vhdSetSnapshots(w.lab, w.vhds).map((s) => s.path)).toEqual([""]);
      }
      // The group's DestroySnapshot refused too: each member checkpoint goes on its own, and the
      // VHD Set snapshot, still listed, goes with DeleteVHDSnapshot.
      await injectFault(w.lab, "GetVHDSnapshotInformation", 32768);
      await injectFault(w.lab, "Msvm_CollectionSnapshotService.DestroySnapshot", 32768);
      const lone = await hvbAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab]);
      expect(lone.code).not.toBe(0);
      expect(treeHashes(w.repo)).toEqual(before);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect(vhdSetSnapshots(w.lab, w.vhds).map((s) => s.path)).toEqual([""]);
      // And when DeleteVHDSnapshot fails as well, the snapshot left behind is named, with how to remove it.
      await injectFault(w.lab, "GetVHDSnapshotInformation", 32768);
      await injectFault(w.lab, "Msvm_CollectionSnapshotService.DestroySnapshot", 32768);
      await injectFault(w.lab, "DeleteVHDSnapshot", 32768);
      const left = await hvbAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab]);
      expect(left.code).not.toBe(0);
      const leftover = vhdSetSnapshots(w.lab, w.vhds).find((s) => s.path !== "")!;
      expect(left.stdout + left.stderr).toContain(`Remove-VHDSnapshot -Path '${w.vhds}' -SnapshotId ${leftover.id.toLowerCase()}`);
      expect(treeHashes(w.repo)).toEqual(before);

      // GetVirtualDiskChanges failing is a baseline that cannot be used: the shared disk is copied in full, with a warning.
      await injectFault(w.lab, "GetVirtualDiskChanges", 32768, { times: 100 });
      const shared2 = sharedView(w.lab, w.vhds);
      const r2 = await okAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab, "--json"]);
      const s2 = events(r2.stdout).find((e) => e.type === "result")!.data as SetResult;
      expect(events(r2.stdout).some((e) => e.type === "warning" && /VHD Set .*copied in full/.test(e.message ?? ""))).toBe(true);
      expect(setRecord(w, s2.setId).sharedDisks![0]!.kind).toBe("full");
      expect(s1.setId).not.toBe(s2.setId);

      // CreateVirtualHardDisk failing at restore: no VM registered, no files left in the destination's shared folder.
      await injectFault(w.lab, "CreateVirtualHardDisk", 32768);
      const dest = path.join(w.dir, "failed-restore");
      const rr = await hvbAsync(["restore", "--repo", w.repo, "--group", "gc", "--new-id", "--dest", dest, "--lab", w.lab]);
      expect(rr.code).not.toBe(0);
      expect(restoredUnder(w, dest)).toEqual([]);
      expect(existsSync(path.join(dest, "Shared Disks")) ? readdirSync(path.join(dest, "Shared Disks")) : []).toEqual([]);
      // And then it restores, bit-exact.
      await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--new-id", "--dest", dest, "--lab", w.lab]);
      expect(sharedView(w.lab, path.join(dest, "Shared Disks", "Quorum.vhds"))).toBe(shared2);

      // In place (--force): the original VMs, same ids, now on the restored VHD Set; the original .vhds untouched.
      const ids = JSON.parse((await okAsync(["list", "--repo", w.repo, "--json"])).stdout).map((p: { vmId: string }) => p.vmId) as string[];
      const live = sharedView(w.lab, w.vhds);
      const inPlace = path.join(w.dir, "in-place");
      await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--force", "--dest", inPlace, "--lab", w.lab]);
      const vhds = path.join(inPlace, "Shared Disks", "Quorum.vhds");
      expect(labJson(w.lab).vms.filter((v) => ids.includes(v.id)).map((v) => v.hardware.sharedDisks!.map((d) => d.path))).toEqual([[vhds], [vhds]]);
      expect(sharedView(w.lab, vhds)).toBe(shared2);
      expect(sharedView(w.lab, w.vhds)).toBe(live);
    } finally {
      w.cleanup();
    }
  }, 240_000);
});

describe("guest clusters (VHD Sets): crashes", () => {
  it.concurrent("a crash while the shared disk is stored or the set committed leaves, once the next run has cleared it, only whole sets and one reference-only VHD Set snapshot", async () => {
    const w = await clusterWorld("gc-crash");
    try {
      await backupAsync(w);
      let sets = 1;
      for (const [n, at] of ["set-shared-copied", "set-record-committing"].entries()) {
        await sharedWriteAsync(w, (n + 4) * MiB, 90_000, 60 + n);
        const killed = await hvbAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab], { env: { HVBACKUP_CRASH_AT: at } });
        expect(killed.signal, at).toBe("SIGKILL");
        const shared = sharedView(w.lab, w.vhds);
        const again = await okAsync(["backup", "--group", "gc", "--repo", w.repo, "--lab", w.lab, "--json", "--clear-stale-lock"]);
        const s = events(again.stdout).find((e) => e.type === "result")!.data as SetResult;
        sets++;
        // One shared folder per committed set, nothing left by the killed run.
        const dirs = readdirSync(path.join(w.repo, "sets")).filter((f) => f.endsWith(".shared"));
        expect(dirs, at).toHaveLength(sets);
        expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
        expect(vhdSetSnapshots(w.lab, w.vhds).map((x) => x.path), at).toEqual([""]);
        const dest = path.join(w.dir, `after-${n}`);
        await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--set", s.setId, "--new-id", "--dest", dest, "--lab", w.lab]);
        expect(sharedView(w.lab, path.join(dest, "Shared Disks", "Quorum.vhds")), at).toBe(shared);
      }
      // A prune of one member alone breaks the older sets: they go, and the newest set's shared
      // disk, which built on them, is stored in full first; it still restores bit-exact.
      const newest = sharedView(w.lab, w.vhds);
      const pr = await hvbAsync(["prune", "--repo", w.repo, "--vm", "n1", "--keep", "1"]);
      expect(pr.code, pr.stdout + pr.stderr).toBe(0);
      const left = readdirSync(path.join(w.repo, "sets"));
      expect(left.filter((f) => f.endsWith(".shared"))).toHaveLength(1);
      const last = left.find((f) => f.endsWith(".json"))!.replace(/\.json$/, "");
      expect(setRecord(w, last).sharedDisks![0]!.kind).toBe("full");
      const dest = path.join(w.dir, "after-member-prune");
      await okAsync(["restore", "--repo", w.repo, "--group", "gc", "--new-id", "--dest", dest, "--lab", w.lab]);
      expect(sharedView(w.lab, path.join(dest, "Shared Disks", "Quorum.vhds"))).toBe(newest);
    } finally {
      w.cleanup();
    }
  }, 240_000);
});

/** Hashes of the own disks of the restored VM `name` under `dest`. */
function restoredDiskHashes(dest: string, name: string): string[] {
  const dir = path.join(dest, name, "Virtual Hard Disks");
  return readdirSync(dir).sort().map((f) => diskHash(path.join(dir, f)));
}
