/**
 * Corruption (issue 4, "Tests"): one flipped byte in any stored file — a disk file's header,
 * region table, metadata, BAT or payload, a manifest, a configuration (.vmcx), the catalog — is
 * reported by `verify --deep` (exit 1, naming the point and disk), a restore of an affected point
 * refuses (exit 1, "damaged") and registers nothing and leaves no restored files, and the points
 * that do not depend on the damaged file still restore bit-exact. A damaged copy of a VHDX
 * header or region table (the format keeps two) is reported by verify, but the data is intact and
 * checked block by block, so those points still restore, bit-exact.
 */
import { cpSync, existsSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VhdxImage } from "../../../src/vhdx/mod";
import {
  backupAsync,
  flipByte,
  guestViewAsync,
  guestWriteAsync,
  hvbAsync,
  labVmsAsync,
  newWorldAsync,
  okAsync,
  plannedSystems,
  restoreSideBySideAsync,
  vmFolder,
} from "../../support/engine_harness";


// Each case mostly waits on child processes: run more of them at once than the default 5.
vi.setConfig({ maxConcurrency: 8 });

const MiB = 1024 * 1024;
type World = Awaited<ReturnType<typeof newWorldAsync>>;

let w: World;
const points: Array<{ id: string; view: string[] }> = [];
/** Where each point's guest writes went, per disk (to aim payload flips at stored data). */
const wrote: Array<Array<number>> = [];

beforeAll(async () => {
  w = await newWorldAsync("corrupt");
  await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
  for (let i = 0; i < 3; i++) {
    const at = [i * 4 * MiB + 8192, (i * 5 + 1) * MiB + 4096];
    await guestWriteAsync(w.lab, "v", 0, at[0]!, 300_000, 10 + i);
    await guestWriteAsync(w.lab, "v", 1, at[1]!, 200_000, 20 + i);
    wrote.push(at);
    const view = await guestViewAsync(w.lab, "v");
    points.push({ id: (await backupAsync(w, "v")).id, view });
  }
  expect((await hvbAsync(["verify", "--repo", w.repo, "--deep"])).code).toBe(0);
});

afterAll(() => w?.cleanup());

/** A copy of the pristine repository to damage. */
function copyRepo(tag: string): { repo: string; folder: string } {
  const repo = path.join(w.dir, `repo-${tag}`);
  cpSync(w.repo, repo, { recursive: true });
  return { repo, folder: vmFolder(repo, "v") };
}

function diskFile(folder: string, point: number, disk: number): string {
  const dir = path.join(folder, "points", points[point]!.id, "Virtual Hard Disks");
  const f = readdirSync(dir).find((n) => n.startsWith(`0${disk}-`));
  if (!f) throw new Error(`no disk ${disk} in point ${point}`);
  return path.join(dir, f);
}

/** File offsets of a disk file's structures (read with the VHDX library, before damaging it). */
function layout(file: string, virtualOffset: number): { bat: number; metadata: number; batEntry: number; payload: number } {
  const img = VhdxImage.open(file);
  try {
    const block = Math.floor(virtualOffset / img.blockSize);
    const chunkRatio = (2 ** 23 * img.logicalSectorSize) / img.blockSize;
    const batIndex = block + Math.floor(block / chunkRatio);
    const batEntry = img.regions.bat.fileOffset + batIndex * 8;
    const raw = readFileSync(file).readBigUInt64LE(batEntry);
    if ((raw & 7n) !== 6n && (raw & 7n) !== 7n) throw new Error(`block ${block} of '${file}' is not stored (BAT state ${raw & 7n})`);
    const payload = Number(raw >> 20n) * MiB + (virtualOffset % img.blockSize);
    return { bat: img.regions.bat.fileOffset, metadata: img.regions.metadata.fileOffset, batEntry, payload };
  } finally {
    img.close();
  }
}

interface Damage {
  title: string;
  /** Damages the copy; returns the disk index it hit, or null for point-level files. */
  damage(folder: string): void;
  /** Index of the damaged point (null: the catalog). */
  point: number | null;
  disk: number | null;
  /** Points that must refuse to restore, and those that must still restore bit-exact. */
  refuse: number[];
  restore: number[];
}

const damages: Damage[] = [
  { title: "full disk: header", point: 0, disk: 0, damage: (f) => flipByte(diskFile(f, 0, 0), 64 * 1024 + 8), refuse: [], restore: [0, 1, 2] },
  { title: "full disk: file identifier", point: 0, disk: 1, damage: (f) => flipByte(diskFile(f, 0, 1), 2), refuse: [0, 1], restore: [] },
  { title: "full disk: BAT entry", point: 0, disk: 0, damage: (f) => flipByte(diskFile(f, 0, 0), layout(diskFile(f, 0, 0), wrote[0]![0]!).batEntry + 2), refuse: [0, 1, 2], restore: [] },
  { title: "full disk: payload", point: 0, disk: 0, damage: (f) => flipByte(diskFile(f, 0, 0), layout(diskFile(f, 0, 0), wrote[0]![0]!).payload + 1000), refuse: [0, 1, 2], restore: [] },
  { title: "increment: region table", point: 1, disk: 1, damage: (f) => flipByte(diskFile(f, 1, 1), 192 * 1024 + 20), refuse: [], restore: [0, 1, 2] },
  { title: "increment: metadata region", point: 1, disk: 1, damage: (f) => { const d = diskFile(f, 1, 1); flipByte(d, layout(d, wrote[1]![1]!).metadata + 40); }, refuse: [1, 2], restore: [0] },
  { title: "increment: BAT entry", point: 1, disk: 0, damage: (f) => { const d = diskFile(f, 1, 0); flipByte(d, layout(d, wrote[1]![0]!).batEntry + 3); }, refuse: [1, 2], restore: [0] },
  { title: "increment: payload", point: 1, disk: 1, damage: (f) => { const d = diskFile(f, 1, 1); flipByte(d, layout(d, wrote[1]![1]!).payload + 77); }, refuse: [1, 2], restore: [0] },
  { title: "newest increment: payload", point: 2, disk: 0, damage: (f) => { const d = diskFile(f, 2, 0); flipByte(d, layout(d, wrote[2]![0]!).payload + 5); }, refuse: [2], restore: [0, 1] },
  {
    title: "manifest.json",
    point: 2,
    disk: null,
    damage: (f) => {
      const m = path.join(f, "points", points[2]!.id, "manifest.json");
      flipByte(m, Math.floor(readFileSync(m).length / 2));
    },
    refuse: [2],
    restore: [0, 1],
  },
  {
    title: "the configuration (.vmcx)",
    point: 1,
    disk: null,
    damage: (f) => {
      const dir = path.join(f, "points", points[1]!.id, "Virtual Machines");
      const vmcx = readdirSync(dir).find((n) => n.endsWith(".vmcx"))!;
      flipByte(path.join(dir, vmcx), Math.floor(readFileSync(path.join(dir, vmcx)).length / 2));
    },
    refuse: [1],
    restore: [0, 2],
  },
  ...[0.2, 0.5, 0.8].map((at): Damage => ({
    title: `catalog.json at ${Math.round(at * 100)}%`,
    point: null,
    disk: null,
    damage: (f) => flipByte(path.join(f, "catalog.json"), Math.floor(readFileSync(path.join(f, "catalog.json")).length * at)),
    refuse: [0, 1, 2],
    restore: [],
  })),
];

describe.concurrent("a flipped byte in a stored file", () => {
  for (const [n, d] of damages.entries()) {
    it(d.title, async () => {
      const { repo, folder } = copyRepo(String(n));
      d.damage(folder);
      const v = await hvbAsync(["verify", "--repo", repo, "--deep"]);
      expect(v.code, v.stdout + v.stderr).toBe(1);
      const said = v.stdout + v.stderr;
      if (d.point === null) expect(said).toMatch(/catalog/i);
      else {
        const id = points[d.point]!.id;
        expect(said).toContain(d.disk === null ? id : `${id} disk ${d.disk}`);
      }

      const vmsBefore = await labVmsAsync(w.lab);
      for (const p of d.refuse) {
        const dest = path.join(w.dir, `bad-${n}-${p}`);
        const r = await hvbAsync(["restore", "--repo", repo, "--vm", "v", "--point", points[p]!.id, "--new-id", "--name", `bad-${n}-${p}`, "--dest", dest, "--lab", w.lab]);
        expect(r.code, `point ${p} restored from a damaged backup:\n${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/damaged/i);
        const files = existsSync(dest) ? (readdirSync(dest, { recursive: true }) as string[]).filter((x) => /\.(a?vhdx|vmcx)$/i.test(x)) : [];
        expect(files).toEqual([]);
      }
      expect((await labVmsAsync(w.lab)).filter((x) => x.name.startsWith(`bad-${n}-`))).toEqual([]);
      expect(vmsBefore.filter((x) => x.name.startsWith(`bad-${n}-`))).toEqual([]);
      for (const p of d.restore) {
        expect(await restoreSideBySideAsync({ ...w, repo }, "v", points[p]!.id, `ok-${n}-${p}`)).toEqual(points[p]!.view);
      }
    });
  }

});

describe("after every refusal", () => {
  it("no planned VM is left on the host", async () => {
    expect(await plannedSystems(w.lab)).toEqual([]);
  });
});
