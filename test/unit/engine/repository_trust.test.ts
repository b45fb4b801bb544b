/**
 * Issue 9, "Destructive steps trust the catalog" and "verify says OK, restore does something
 * else": on a real (small) repository, each way the catalog, a manifest or the folder can lie is
 * refused by prune / left-over cleanup with one message and no file changed, and reported by
 * verify — every bad VM of a whole-repository run, none taken for damage while locked.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { flattenPointDisk, pruneVm, selectPoint, usableBase, verifyRepository } from "../../../src/engine/mod";
import { MANIFEST_FILE, acquireLock, pointId } from "../../../src/repository/mod";
import { VhdxImage, createVhdx } from "../../../src/vhdx/mod";
import { MiB, buildRepo, scratch, tamperCatalog, tamperJson, treeState, quiet } from "./_repo_fixture";


/** Runs `act`, expecting one HvbError of `code` whose message contains `words`, and no file changed. */
function refusedUnchanged(root: string, act: () => unknown, code: string, words: RegExp): void {
  const before = treeState(root);
  let err: unknown;
  try {
    act();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a refusal").toMatchObject({ name: "HvbError", code });
  expect((err as Error).message).toMatch(words);
  expect(treeState(root)).toEqual(before);
}

function diskOf(f: ReturnType<typeof buildRepo>, id: string, ext = "avhdx"): string {
  return path.join(f.store.pointDir(id), "Virtual Hard Disks", `00-d.${ext}`);
}

describe("prune acts only on what the files say", () => {
  it("baseline: prune folds, verify --deep passes, kept points restore their content", () => {
    const f = buildRepo(4);
    const r = pruneVm(f.repo, "v", 2, quiet);
    expect(r.removed).toEqual(f.ids.slice(0, 2));
    expect(verifyRepository(f.repo, undefined, true, quiet)).toMatchObject({ ok: true, problems: [] });
    const c = f.store.readCatalog();
    for (const p of c.points) {
      const out = path.join(scratch(), "d.vhdx");
      flattenPointDisk(f.store, c, p, 0, out);
      const img = VhdxImage.open(out);
      const got = [0, 1, 2, 3].map((u) => {
        const b = Buffer.alloc(1);
        img.read(b, u * MiB);
        return b[0];
      });
      img.close();
      expect(got).toEqual(f.content.get(p.id));
    }
  });

  it("refuses to drop a full that the next increment's file still names as its parent", () => {
    const f = buildRepo(3);
    // The catalog says the second point is a standalone full (file renamed to match): the file
    // itself is still a differencing disk on the first point's.
    renameSync(diskOf(f, f.ids[1]!), diskOf(f, f.ids[1]!, "vhdx"));
    tamperCatalog(f, (c) => {
      const p = c.points[1]!;
      Object.assign(p, { kind: "full", parentId: null, disks: p.disks.map((d) => ({ ...d, file: "Virtual Hard Disks/00-d.vhdx", method: "full" })) });
      c.points[2]!.disks[0]!.method = "hash";
    });
    // Its manifest too: only the file itself still tells.
    tamperJson(path.join(f.store.pointDir(f.ids[1]!), MANIFEST_FILE), (m) => {
      Object.assign(m, { kind: "full", parentId: null });
      (m["disks"] as Array<{ file: string }>)[0]!.file = "Virtual Hard Disks/00-d.vhdx";
    });
    refusedUnchanged(f.root, () => pruneVm(f.repo, "v", 2, quiet), "RepositoryInconsistent", /differencing file/);
    expect(existsSync(f.store.pointDir(f.ids[0]!))).toBe(true);
  });

  it("refuses a pending merge of the full into the newest point, past the one between", () => {
    const f = buildRepo(3);
    tamperCatalog(f, (c) => {
      c.pendingMerge = { fromId: f.ids[0]!, intoId: f.ids[2]! };
    });
    refusedUnchanged(f.root, () => pruneVm(f.repo, "v", 1, quiet), "CatalogInvalid", /catalog\.json.*pendingMerge\.intoId/);
  });

  it("refuses duplicate point ids", () => {
    const f = buildRepo(2);
    tamperCatalog(f, (c) => {
      c.points[1] = { ...c.points[1]!, id: f.ids[0]!, seq: 2 };
    });
    refusedUnchanged(f.root, () => pruneVm(f.repo, "v", 1, quiet), "CatalogInvalid", /points\[1\]\.id.*unique/);
  });

  it("detects method 'full' on an increment, in the catalog or in the file", () => {
    const f = buildRepo(2);
    tamperCatalog(f, (c) => {
      c.points[1]!.disks[0]!.method = "full";
    });
    refusedUnchanged(f.root, () => pruneVm(f.repo, "v", 1, quiet), "CatalogInvalid", /points\[1\]\.disks\[0\]\.method/);
  });

  it("never removes a left-over folder a catalogued chain uses", () => {
    const f = buildRepo(3);
    // The catalog forgets the full and is rewritten as if the second point were a full: its
    // file still names the full's folder, which the catalog no longer lists, as its parent.
    const hidden = f.store.pointDir(f.ids[0]!);
    renameSync(diskOf(f, f.ids[1]!), diskOf(f, f.ids[1]!, "vhdx"));
    tamperCatalog(f, (c) => {
      c.points.shift();
      const p = c.points[0]!;
      Object.assign(p, { kind: "full", parentId: null, disks: p.disks.map((d) => ({ ...d, file: "Virtual Hard Disks/00-d.vhdx", method: "full" })) });
      c.points[1]!.disks[0]!.method = "hash";
    });
    // The left-over cleanup alone (as backup runs it) refuses too.
    refusedUnchanged(f.root, () => f.store.removeOrphans(), "RepositoryInconsistent", /use files in it/);
    expect(existsSync(hidden)).toBe(true);
  });

  it("refuses a disk file that is a symbolic link out of the repository", () => {
    const f = buildRepo(3);
    const outside = path.join(scratch(), "elsewhere.vhdx");
    const full = diskOf(f, f.ids[0]!, "vhdx");
    copyFileSync(full, outside);
    rmSync(full);
    symlinkSync(outside, full);
    refusedUnchanged(f.root, () => pruneVm(f.repo, "v", 1, quiet), "RepositoryInconsistent", /symbolic link/);
    const v = verifyRepository(f.repo, undefined, true, quiet);
    expect(v.ok).toBe(false);
    expect(v.damagedPoints).toHaveLength(3);
  });
});

describe("verify compares the catalog with the manifests and the files", () => {
  it("disks: [] is refused by name", () => {
    const f = buildRepo(1);
    tamperCatalog(f, (c) => {
      c.points[0]!.disks = [];
    });
    const v = verifyRepository(f.repo, undefined, true, quiet);
    expect(v.ok).toBe(false);
    expect(v.problems[0]!.message).toMatch(/catalog\.json.*points\[0\]\.disks.*1 to 260/);
  });

  it("a virtualSize that is not the file's is reported (catalog alone, or catalog and manifest)", () => {
    const f = buildRepo(2);
    tamperCatalog(f, (c) => {
      for (const p of c.points) p.disks[0]!.virtualSize = 8 * MiB;
    });
    let v = verifyRepository(f.repo, undefined, false, quiet);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.message).join("\n")).toMatch(/manifest says 4194304 bytes, the catalog 8388608/);
    for (const id of f.ids) {
      tamperJson(path.join(f.store.pointDir(id), MANIFEST_FILE), (m) => {
        (m["disks"] as Array<{ virtualSize: number }>)[0]!.virtualSize = 8 * MiB;
      });
    }
    v = verifyRepository(f.repo, undefined, false, quiet);
    expect(v.problems.map((p) => p.message).join("\n")).toMatch(/is 4194304 bytes \(virtual size\), the catalog says 8388608/);
  });

  it("a planted file in a point's folder is reported, never used", () => {
    const f = buildRepo(2);
    writeFileSync(path.join(f.store.pointDir(f.ids[1]!), "Virtual Machines", "ZZZ.vmcx"), "planted");
    const v = verifyRepository(f.repo, undefined, true, quiet);
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ pointId: f.ids[1], message: expect.stringMatching(/ZZZ\.vmcx.*not listed/) });
  });

  it("a whole-repository verify reports every bad VM, and goes on past them", () => {
    const root = scratch();
    const a = buildRepo(1, { root, name: "a", vmId: "11111111-1111-1111-1111-111111111111" });
    const b = buildRepo(2, { root, name: "b", vmId: "22222222-2222-2222-2222-222222222222" });
    const c = buildRepo(1, { root, name: "c", vmId: "33333333-3333-3333-3333-333333333333" });
    tamperCatalog(a, (cat) => {
      (cat.points[0]!.disks as unknown[])[0] = null;
    });
    writeFileSync(path.join(b.store.pointDir(b.ids[0]!), "stray.bin"), "x");
    const v = verifyRepository(a.repo, undefined, true, quiet);
    expect(v.ok).toBe(false);
    expect(v.problems[0]!.message).toMatch(/catalog\.json.*points\[0\]\.disks\[0\].*found null/);
    expect(v.damagedPoints).toEqual([expect.stringMatching(/^a_.*\(catalog\)$/), `b/${b.ids[0]}`, `b/${b.ids[1]}`]);
    expect(v.pointsChecked).toBe(3);
    void c;
  });

  it("takes a shared lock: a VM being pruned or backed up is not verified, and not called damaged", () => {
    const f = buildRepo(2);
    const lock = acquireLock(path.join(f.store.dir, ".lock"), "prune");
    try {
      expect(() => verifyRepository(f.repo, "v", false, quiet)).toThrow(expect.objectContaining({ code: "LockHeld" }));
      const v = verifyRepository(f.repo, undefined, false, quiet);
      expect(v).toMatchObject({ ok: false, problems: [], damagedPoints: [] });
      expect(v.skipped).toHaveLength(1);
    } finally {
      lock.release();
    }
    // And a prune never starts while a verify reads.
    const shared = f.store.sharedLock("verify");
    try {
      expect(() => pruneVm(f.repo, "v", 1, quiet)).toThrow(expect.objectContaining({ code: "LockHeld" }));
    } finally {
      shared.release();
    }
    expect(pruneVm(f.repo, "v", 1, quiet).removed).toHaveLength(1);
  });

  it("a FIFO in place of a disk file or a manifest is reported, never read (no hang)", () => {
    const f = buildRepo(2);
    const disk = diskOf(f, f.ids[1]!);
    rmSync(disk);
    execFileSync("mkfifo", [disk]);
    const m = path.join(f.store.pointDir(f.ids[0]!), MANIFEST_FILE);
    rmSync(m);
    execFileSync("mkfifo", [m]);
    const v = verifyRepository(f.repo, undefined, true, quiet);
    expect(v.ok).toBe(false);
    const text = v.problems.map((p) => p.message).join("\n");
    expect(text).toMatch(/not a regular file/);
    expect(text).toMatch(/manifest/);
  });
});

describe("backup builds only on a chain that is what the catalog says", () => {
  it("takes a full, with a warning, when the newest point's chain is not", () => {
    const f = buildRepo(2);
    const warnings: string[] = [];
    expect(usableBase(f.store, f.store.readCatalog(), (m) => warnings.push(m))?.id).toBe(f.ids[1]);
    writeFileSync(path.join(f.store.pointDir(f.ids[0]!), "Virtual Machines", "planted.vmcx"), "x");
    expect(usableBase(f.store, f.store.readCatalog(), (m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/cannot be built on.*planted\.vmcx.*taking a full backup/)]);
  });
});

describe("order of points follows commits, not the clock", () => {
  it("a point dated before the newest is flagged and is still the latest", () => {
    const f = buildRepo(2);
    const c = f.store.readCatalog();
    const time = new Date(Date.UTC(2026, 0, 1)); // the clock went back
    const id = pointId(time, "full");
    const w = f.store.beginPoint(id);
    const disk = w.diskFile("00-d", false);
    createVhdx(disk.absolute, { virtualSize: 4 * MiB, blockSize: MiB }).close();
    w.addDisk({ index: 0, file: disk.relative, sourcePath: "d.vhdx", virtualSize: 4 * MiB, unitSize: MiB, storedBytes: 0, method: "full" }, {});
    mkdirSync(path.join(w.staging, "Virtual Machines"));
    writeFileSync(path.join(w.staging, "Virtual Machines", "x.vmcx"), "c");
    w.addConfiguration();
    const rec = w.commit(c, { time, kind: "full", parentId: null, consistency: "crash", vmId: c.vmId, vmName: "v", warnings: [] });
    expect(rec.warnings.join(" ")).toMatch(/not after that of the point before it/);
    const now = f.store.readCatalog();
    expect(now.points.map((p) => p.id)).toEqual([...f.ids, id]);
    expect(now.points.map((p) => p.seq)).toEqual([1, 2, 3]);
    expect(selectPoint(now, "latest").id).toBe(id);
    expect(verifyRepository(f.repo, undefined, true, quiet).ok).toBe(true);
  });

  it("a catalog out of commit order is refused by name", () => {
    const f = buildRepo(2);
    tamperCatalog(f, (c) => {
      c.points[1]!.seq = 1;
    });
    refusedUnchanged(f.root, () => pruneVm(f.repo, "v", 1, quiet), "CatalogInvalid", /points\[1\]\.seq.*commit order/);
  });
});

