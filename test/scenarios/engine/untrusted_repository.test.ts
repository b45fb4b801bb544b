/**
 * Issue 9 through the command line, on a repository made by real backups: what verify says OK
 * is what restore restores, and what restore refuses verify reports. A file planted in a point's
 * folder, a catalog whose disks or sizes do not match the files, a null where a disk entry should
 * be, a disk file replaced by a FIFO: each gives exit 1 with a message naming the file (never
 * "Cannot read properties of null", never a hang), restore registers nothing and writes nothing,
 * and nothing in the repository changes.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { withSelfChecksum } from "../../../src/repository/mod";
import { createHash } from "node:crypto";
import { backupAsync, guestWriteAsync, hvbAsync, labVmsAsync, newWorldAsync, okAsync, plannedSystems, vmFolder } from "../../support/engine_harness";

/** Every regular file below `dir` with its hash; anything else (a FIFO) by its kind, never read. */
function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name === ".lock") continue;
      else out[r] = e.isFile() ? createHash("sha256").update(readFileSync(path.join(dir, r))).digest("hex") : "(not a regular file)";
    }
  };
  walk("");
  return out;
}

vi.setConfig({ maxConcurrency: 6 });

type World = Awaited<ReturnType<typeof newWorldAsync>>;
let w: World;
const ids: string[] = [];

beforeAll(async () => {
  w = await newWorldAsync("untrusted");
  await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "8MiB"]);
  for (let i = 0; i < 2; i++) {
    await guestWriteAsync(w.lab, "v", 0, i * 1024 * 1024, 100_000, 30 + i);
    ids.push((await backupAsync(w, "v")).id);
  }
});
afterAll(() => w?.cleanup());

function copyRepo(tag: string): { repo: string; folder: string } {
  const repo = path.join(w.dir, `repo-${tag}`);
  cpSync(w.repo, repo, { recursive: true });
  return { repo, folder: vmFolder(repo, "v") };
}

function editCatalog(folder: string, change: (c: { points: Array<{ disks: Array<Record<string, unknown> | null> }> }) => void): void {
  const file = path.join(folder, "catalog.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  delete c.checksum;
  change(c);
  writeFileSync(file, JSON.stringify(withSelfChecksum(c), null, 2));
}

const cases: Array<{ title: string; damage: (folder: string) => void; says: RegExp }> = [
  {
    title: "a planted .vmcx in the newest point",
    damage: (f) => writeFileSync(path.join(f, "points", ids[1]!, "Virtual Machines", "00000000-0000-0000-0000-000000000000.vmcx"), "planted"),
    says: /00000000-0000-0000-0000-000000000000\.vmcx.*not listed/,
  },
  {
    title: "disks: [] in the catalog",
    damage: (f) => editCatalog(f, (c) => (c.points[1]!.disks = [])),
    says: /catalog\.json.*points\[1\]\.disks/,
  },
  {
    title: "a null disk entry",
    damage: (f) => editCatalog(f, (c) => (c.points[1]!.disks[0] = null)),
    says: /catalog\.json.*points\[1\]\.disks\[0\]' must be an object \(found null\)/,
  },
  {
    title: "a virtual size that is not the file's",
    damage: (f) => editCatalog(f, (c) => c.points.forEach((p) => (p.disks[0]!["virtualSize"] = 16 * 1024 * 1024))),
    says: /virtualSize|the catalog 16777216|the catalog says 16777216/,
  },
  {
    title: "unitSize 1",
    damage: (f) => editCatalog(f, (c) => c.points.forEach((p) => (p.disks[0]!["unitSize"] = 1))),
    says: /unitSize' must be a power of two from 64 KiB to 256 MiB \(found 1\)/,
  },
  {
    title: "a FIFO in place of the full's disk file",
    damage: (f) => {
      const dir = path.join(f, "points", ids[0]!, "Virtual Hard Disks");
      const file = path.join(dir, readdirSync(dir)[0]!);
      rmSync(file);
      execFileSync("mkfifo", [file]);
    },
    says: /not a regular file|FIFO/,
  },
];

describe.concurrent("a repository that is not what its catalog says", () => {
  cases.forEach((c, n) => {
    it(`${c.title}: verify reports it, restore refuses it, nothing changes`, async () => {
      const { repo, folder } = copyRepo(String(n));
      c.damage(folder);
      const before = treeHashes(folder);
      const v = await hvbAsync(["verify", "--repo", repo, "--deep"]);
      expect(v.code, v.stdout + v.stderr).toBe(1);
      expect(v.stdout + v.stderr).toMatch(c.says);
      expect(v.stdout + v.stderr).not.toMatch(/Cannot read properties|internal error/i);
      const dest = path.join(w.dir, `restore-${n}`);
      const r = await hvbAsync(["restore", "--repo", repo, "--vm", "v", "--new-id", "--name", `v-${n}`, "--dest", dest, "--lab", w.lab]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(c.says);
      expect(r.stderr).not.toMatch(/Cannot read properties|internal error/i);
      expect((await labVmsAsync(w.lab)).some((x) => x.name === `v-${n}`)).toBe(false);
      expect(existsSync(path.join(dest, "Virtual Hard Disks")) ? readdirSync(path.join(dest, "Virtual Hard Disks")) : []).toEqual([]);
      const p = await hvbAsync(["prune", "--repo", repo, "--vm", "v", "--keep", "1"]);
      expect(p.code, p.stdout + p.stderr).toBe(1);
      expect(treeHashes(folder)).toEqual(before);
    });
  });
  it("leaves no planned VM on the host", async () => {
    expect(await plannedSystems(w.lab)).toEqual([]);
  });
});
