import { existsSync, readdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError, crashPoint, fsyncDir, publishFile } from "../base/mod";
import type { Catalog, PointRecord, VmStore } from "../repository/mod";
import { MANIFEST_FILE, readDiskFacts, realFileInside, treeSize, writeManifest } from "../repository/mod";
import { VhdxImage, createVhdx, relinkParent } from "../vhdx/mod";
import { zeroHashOf } from "./disk_copy";
import { forEachUnit } from "./pipeline/unit_pipeline";
import { unitStateAt } from "./point_chain";
import { chainUnitsAnd } from "./units";

/**
 * Removing a restore point in the middle of a chain (`prune --point ID` of a point that has an
 * older one): the point after it (`into`) takes over the blocks of the removed point (`from`)
 * that it does not hold itself, and then hangs off `from`'s parent. What every kept point
 * restores does not change.
 *
 * Per disk, `into`'s differencing file is rebuilt under a temporary name beside it: every unit
 * `from` or `into` stored, read through the chain as `into` sees it (the pipeline: read ahead,
 * SHA-256 on the worker threads) and checked against the manifests' hashes, written into a new
 * differencing file whose parent is `from`'s parent's file. It is fsynced and renamed over
 * `into`'s file (atomic), and the point after `into` is relinked to it (its DataWriteGuid is
 * new). Only then are the manifest, `from`'s folder and the catalog changed. The catalog's
 * `pendingMerge` (written first, by prune.ts) makes an interrupted run finish the job: each step
 * looks at what is already done, so a crash at any point leaves every point restorable.
 */
export function finishMiddleMerge(store: VmStore, catalog: Catalog): void {
  const { from, into, parent, after } = mergeParties(store, catalog);
  const fromDir = store.pointDir(from.id);
  const intoDir = store.pointDir(into.id);
  const fromThere = existsSync(fromDir);
  const storedBytes = new Map<number, number>();
  for (const disk of into.disks) {
    if (!disk.file.endsWith(".avhdx")) continue; // a full copy in an increment depends on nothing
    const file = store.pointFile(into.id, disk.file);
    const temp = tempFileFor(file);
    const parentDisk = parent.disks.find((d) => d.index === disk.index);
    if (!parentDisk) throw new HvbError("ChainBroken", `Point '${from.id}' disk ${disk.index} has no parent disk in '${parent.id}'`, { category: "InvalidData", target: from.id });
    const parentFile = store.pointFile(parent.id, parentDisk.file);
    if (fromThere && !hangsOff(store, into, disk.index, file, parentFile, store.pointDir(parent.id))) {
      if (existsSync(temp)) rmSync(temp, { force: true });
      storedBytes.set(disk.index, rebuild(store, catalog, { from, into, index: disk.index, file, temp, parentFile }));
      crashPoint("prune-middle-built");
      publishFile(temp, file);
      crashPoint("prune-middle-swapped");
    }
    // The next point's increment now hangs off the rebuilt file (a new DataWriteGuid).
    const nextDisk = after?.disks.find((d) => d.index === disk.index);
    if (after && nextDisk && nextDisk.file.endsWith(".avhdx")) relinkParent(store.pointFile(after.id, nextDisk.file), file);
    crashPoint("prune-middle-relinked");
  }

  // The manifest of `into`: the removed point's units, overridden by its own; its parent is
  // the removed point's parent. Written once: after that, `from`'s manifest is gone.
  if (existsSync(path.join(fromDir, MANIFEST_FILE))) {
    const older = store.readManifest(from.id);
    const mine = store.readManifest(into.id);
    for (const d of mine.disks) {
      const base = older.disks.find((x) => x.index === d.index);
      if (base && d.file.endsWith(".avhdx")) d.units = { ...base.units, ...d.units };
    }
    mine.parentId = from.parentId;
    writeManifest(path.join(intoDir, MANIFEST_FILE), mine);
    crashPoint("prune-manifest-written");
  }
  const c = store.readCatalog();
  c.points = c.points.filter((p) => p.id !== from.id);
  const rec = c.points.find((p) => p.id === into.id)!;
  rec.parentId = from.parentId;
  rec.disks = rec.disks.map((d) => (storedBytes.has(d.index) ? { ...d, storedBytes: storedBytes.get(d.index)! } : d));
  rec.sizeBytes = treeSize(intoDir);
  c.pendingMerge = null;
  commitMerge(store, c, fromDir);
}

/**
 * Commits a merge's catalog, then removes the merged point's folder `fromDir`: only then, when
 * nothing refers to it any more. Deleted before the commit, a kill in between left a catalog
 * naming a point whose folder was gone (or half gone), which the next prune refused; after it, a
 * kill leaves an orphan that the next run removes (removeOrphans).
 */
export function commitMerge(store: VmStore, c: Catalog, fromDir: string): void {
  store.writeCatalog(c);
  crashPoint("prune-committed");
  rmSync(fromDir, { recursive: true, force: true });
  fsyncDir(path.dirname(fromDir));
}

/**
 * Before an interrupted middle merge is finished: each increment of `into` is a differencing
 * file whose parent (from its parent locator) is either the same disk of `from` (not rebuilt
 * yet) or of `from`'s parent (rebuilt). Anything else is refused, nothing touched.
 */
export function checkMiddleMergeState(store: VmStore, catalog: Catalog): void {
  const { from, into, parent } = mergeParties(store, catalog);
  const refuse = (what: string): never => {
    throw new HvbError("RepositoryInconsistent", `Refusing to finish the interrupted merge of '${from.id}' into '${into.id}' of '${catalog.vmName}': ${what}. Nothing was changed — run 'hvbackup verify'`, { category: "InvalidData", target: store.dir });
  };
  const intoDir = store.pointDir(into.id);
  for (const disk of into.disks) {
    const what = `disk ${disk.index} of ${into.id}`;
    try {
      const facts = readDiskFacts(store.pointFile(into.id, disk.file), intoDir, what);
      if (!disk.file.endsWith(".avhdx")) {
        if (facts.differencing) refuse(`${what} ('${disk.file}') is a differencing file, the catalog records a full copy`);
        continue;
      }
      const real = (p: PointRecord): string | undefined => {
        const d = p.disks.find((x) => x.index === disk.index);
        const f = d ? store.pointFile(p.id, d.file) : undefined;
        return f && existsSync(f) ? realFileInside(f, store.pointDir(p.id), `disk ${disk.index} of ${p.id}`) : undefined;
      };
      const parentReal = facts.parent?.real;
      if (!facts.differencing || !parentReal || (parentReal !== real(from) && parentReal !== real(parent))) {
        refuse(`'${disk.file}' of ${into.id} ${facts.differencing ? `names '${parentReal || "a missing file"}' as its parent, neither the same disk of ${from.id} nor of ${parent.id}` : "is not a differencing file"}`);
      }
    } catch (e) {
      if (e instanceof HvbError && e.code !== "RepositoryInconsistent") refuse(e.message);
      throw e;
    }
  }
}

/** Removes temporary files a killed middle merge left beside `into`'s disk files. */
export function removeMergeLeftovers(store: VmStore, point: PointRecord): void {
  for (const disk of point.disks) {
    const file = store.pointFile(point.id, disk.file);
    const dir = path.dirname(file);
    if (!existsSync(dir)) continue;
    const leftover = path.basename(tempFileFor(file));
    for (const name of readdirSync(dir)) if (name === leftover) rmSync(path.join(dir, name), { force: true });
  }
}

function mergeParties(store: VmStore, catalog: Catalog): { from: PointRecord; into: PointRecord; parent: PointRecord; after: PointRecord | undefined } {
  const pending = catalog.pendingMerge!;
  const from = catalog.points.find((p) => p.id === pending.fromId);
  const into = catalog.points.find((p) => p.id === pending.intoId);
  const parent = from?.parentId ? catalog.points.find((p) => p.id === from.parentId) : undefined;
  if (!from || !into || !parent) throw new HvbError("CatalogInvalid", `Catalog of '${catalog.vmName}': pending merge names points that are not there`, { category: "InvalidData", target: store.catalogFile });
  return { from, into, parent, after: catalog.points.find((p) => p.parentId === into.id) };
}

/** A fixed name (not per process), so the run that finishes an interrupted merge finds it. */
function tempFileFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.merge-partial`);
}

/** Whether `into`'s disk file already names `parentFile` as its parent (rebuilt before a crash). */
function hangsOff(store: VmStore, into: PointRecord, index: number, file: string, parentFile: string, parentDir: string): boolean {
  const facts = readDiskFacts(file, store.pointDir(into.id), `disk ${index} of ${into.id}`);
  return facts.parent?.real === realFileInside(parentFile, parentDir, `disk ${index} of the point before the one removed`);
}

/**
 * Why a middle point cannot be merged into the next, or undefined: a disk the next point
 * stores as an increment must exist in the removed point's parent too (the rebuilt increment
 * hangs off it). A disk first copied in the removed point has nothing to hang off there.
 */
export function middleMergeRefusal(from: PointRecord, into: PointRecord, parent: PointRecord): string | undefined {
  for (const d of into.disks) {
    if (!d.file.endsWith(".avhdx")) continue;
    if (!parent.disks.some((x) => x.index === d.index)) {
      return `disk ${d.index} first appears in '${from.id}' (its parent '${parent.id}' has no such disk), so '${into.id}' cannot take over its blocks; remove the older points first, or apply a retention`;
    }
  }
  return undefined;
}

/**
 * Writes `temp`: a differencing file on `parentFile` holding every unit `from` or `into`
 * stored (by the manifests and by the files' own blocks), as `into` sees it, each checked
 * against the hash the manifests give it at `into`. Returns the bytes stored.
 */
function rebuild(store: VmStore, catalog: Catalog, job: { from: PointRecord; into: PointRecord; index: number; file: string; temp: string; parentFile: string }): number {
  const { from, into, index, file, temp, parentFile } = job;
  const disk = into.disks.find((d) => d.index === index)!;
  const unitSize = disk.unitSize;
  const expected = unitStateAt(store, catalog, into.id, index);
  const units = new Set<number>();
  for (const p of [from, into]) {
    const d = store.readManifest(p.id).disks.find((x) => x.index === index);
    for (const u of Object.keys(d?.units ?? {})) units.add(Number(u));
    const own = p.disks.find((x) => x.index === index);
    if (own) for (const u of ownUnits(store.pointFile(p.id, own.file), unitSize)) units.add(u);
  }
  // A full copy of the disk in the removed point (RCT could not answer then) hid everything
  // older: the rebuilt increment must hide it too, wherever the new parent's chain has data.
  if (!from.disks.find((x) => x.index === index)?.file.endsWith(".avhdx")) {
    const older = VhdxImage.open(parentFile);
    try {
      for (const u of chainUnitsAnd(older, unitSize, [])) units.add(u);
    } finally {
      older.close();
    }
  }
  const source = VhdxImage.open(file);
  let stored = 0;
  try {
    const dest = createVhdx(temp, { parentPath: parentFile, blockSize: unitSize });
    try {
      const zeroHash = new Map<number, string>();
      forEachUnit({
        source,
        unitSize,
        units: [...units].filter((u) => u * unitSize < source.virtualSize).sort((a, b) => a - b),
        consume: (u, part, hash) => {
          const want = expected.get(u);
          const ok = want === undefined ? hash.zero : (hash.zero ? zeroHashOf(part.length, zeroHash) : hash.sha256) === want;
          if (!ok) {
            throw new HvbError("RestorePointDamaged", `Cannot merge '${from.id}' into '${into.id}' of '${catalog.vmName}': disk ${index} at offset ${u * unitSize} (${part.length} bytes) does not match the manifest; nothing was changed — run 'hvbackup verify --deep'`, { category: "InvalidData", target: into.id });
          }
          // Zeros are written as zeros: they must hide what the new parent holds there.
          if (hash.zero) dest.writeZeroes(u * unitSize, part.length);
          else {
            dest.write(part, u * unitSize);
            stored += part.length;
          }
        },
      });
    } finally {
      dest.close();
    }
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  } finally {
    source.close();
  }
  return stored;
}

/** Units in which the file itself (not its parents) holds data or zeros. */
function ownUnits(file: string, unitSize: number): number[] {
  const image = VhdxImage.open(file, { noParent: true });
  try {
    const out = new Set<number>();
    for (const e of image.extents()) {
      if (e.kind === "parent") continue;
      for (let u = Math.floor(e.offset / unitSize); u * unitSize < e.offset + e.length; u++) out.add(u);
    }
    return [...out];
  } finally {
    image.close();
  }
}
