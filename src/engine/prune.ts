import { existsSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import type { Catalog, PointRecord } from "../repository/mod";
import { DISKS_DIR, MANIFEST_FILE } from "../repository/mod";
import { writeManifest } from "../repository/mod";
import type { Repository, VmStore } from "../repository/mod";
import { checkPoints, pointsUsingFolder, readDiskFacts, realFileInside, requireConsistent } from "../repository/mod";
import { fsyncDir } from "../base/mod";
import { crashPoint } from "../base/mod";
import { mergeVhdxIntoParent } from "../vhdx/mod";
import { relinkParent } from "../vhdx/mod";
import { treeSize } from "../repository/mod";
import type { EngineEvents } from "./events";
import { checkMiddleMergeState, commitMerge, finishMiddleMerge, middleMergeRefusal, removeMergeLeftovers } from "./prune_middle";

/** What prune did. */
export interface PruneResult {
  vmName: string;
  /** Points folded into the next one (no longer restorable on their own). */
  removed: string[];
  kept: string[];
}

/**
 * Keeps the newest `keep` restore points of a VM (and, with `keepSince`, every point taken at or
 * after that time), or, with `pointId`, removes that one point, which may be any point but the
 * newest. Forward-incremental-forever: a removed full is merged with the increment after it,
 * which becomes the new full (DESIGN.md "Retention"); a removed increment is merged into the
 * increment after it, which takes over the blocks it lacks and then hangs off the removed
 * point's parent (prune_middle.ts). A point nothing depends on is simply deleted.
 * Each merge is recorded in the catalog first (pendingMerge), every step is idempotent, and the
 * catalog is rewritten last, so an interrupted prune is finished by running it again.
 */
export function pruneVm(repo: Repository, vmNameOrId: string, keep: number, events: EngineEvents, options: { clearStaleLock?: boolean; keepSince?: Date; pointId?: string } = {}): PruneResult {
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new HvbError("Usage", `--keep must be at least 1 (the newest point is never removed), got ${keep}`, { category: "InvalidArgument", target: "keep" });
  }
  // A point stays when it is among the newest `keep` or (with keepSince) taken at or after it.
  const since = options.keepSince?.getTime();
  if (since !== undefined && Number.isNaN(since)) throw new HvbError("Usage", "--keep-since must be a time", { category: "InvalidArgument", target: "keep-since" });
  const pointId = options.pointId;
  const mayRemove = (points: readonly PointRecord[]): boolean => points.length > keep && (since === undefined || Date.parse(points[0]!.time) < since);
  repo.requireExists();
  const store = repo.findVm(vmNameOrId);
  const lock = store.lock("prune", { clearStale: options.clearStaleLock ?? false });
  try {
    const removed: string[] = [];
    let catalog = store.readCatalog();
    // Prune deletes and rewrites files: it acts only when the files say what the catalog says
    // (checker.ts), and decides what depends on what from the files themselves.
    requireConsistent(store, checkPoints(store, catalog), "prune");
    if (catalog.pendingMerge) {
      const pending = catalog.pendingMerge;
      events.info(`Finishing the interrupted merge of '${pending.fromId}' into '${pending.intoId}'`);
      const middle = catalog.points.find((p) => p.id === pending.fromId)?.parentId != null;
      if (middle) {
        checkMiddleMergeState(store, catalog);
        finishMiddleMerge(store, catalog);
      } else {
        checkMergeState(store, catalog);
        finishMerge(store, catalog);
      }
      removed.push(pending.fromId);
      catalog = store.readCatalog();
      const into = catalog.points.find((p) => p.id === pending.intoId);
      if (into) removeMergeLeftovers(store, into);
    }
    for (const orphan of store.removeOrphans(catalog)) {
      events.info(`Removed '${orphan}', left by an interrupted run`);
      // A prune killed after its commit, before the folder went: that point is removed already.
      if (orphan === pointId) removed.push(orphan);
    }
    if (pointId !== undefined) {
      // Unless an interrupted run already removed it.
      if (!removed.includes(pointId)) {
        removeOne(store, catalog, requireRemovable(catalog, pointId), events);
        removed.push(pointId);
      }
      catalog = store.readCatalog();
    } else {
      while (mayRemove(catalog.points)) {
        removed.push(catalog.points[0]!.id);
        removeOne(store, catalog, 0, events);
        catalog = store.readCatalog();
      }
    }
    return { vmName: catalog.vmName, removed, kept: catalog.points.map((p) => p.id) };
  } finally {
    lock.release();
  }
}

/**
 * Removes the point at `index` (not the newest): deleted when the next point does not depend
 * on it, else merged into the next one (a full: the oldest-style fold; an increment: the
 * middle merge of prune_middle.ts).
 */
function removeOne(store: VmStore, catalog: Catalog, index: number, events: EngineEvents): void {
  const from = catalog.points[index]!;
  const next = catalog.points[index + 1]!;
  events.progress({ activity: `Pruning ${catalog.vmName}`, status: `folding ${from.id} into ${next.id}`, percent: 0 });
  const report = checkPoints(store, catalog);
  requireConsistent(store, report, "prune");
  const users = pointsUsingFolder(report, store.pointDir(from.id)).filter((id) => id !== from.id);
  if (next.parentId !== from.id) {
    // The next point does not depend on this one — and neither does any file: drop it whole.
    if (users.length > 0) {
      throw new HvbError("RepositoryInconsistent", `Refusing to prune '${from.id}' of '${catalog.vmName}': the catalog says nothing depends on it, but the disk files of ${users.join(", ")} name files in it as their parents. Nothing was changed — run 'hvbackup verify'`, { category: "InvalidData", target: store.dir });
    }
    catalog.points.splice(index, 1);
    store.writeCatalog(catalog);
    rmSync(store.pointDir(from.id), { recursive: true, force: true });
    return;
  }
  if (from.parentId !== null) {
    const parent = catalog.points.find((p) => p.id === from.parentId);
    const refusal = parent ? middleMergeRefusal(from, next, parent) : `its parent '${from.parentId}' is not in the catalog`;
    if (refusal) throw new HvbError("PointNotRemovable", `Cannot remove restore point '${from.id}' of '${catalog.vmName}': ${refusal}. Nothing was changed`, { category: "InvalidOperation", target: from.id });
  }
  catalog.pendingMerge = { fromId: from.id, intoId: next.id };
  store.writeCatalog(catalog);
  crashPoint("prune-marked");
  if (from.parentId !== null) finishMiddleMerge(store, catalog);
  else finishMerge(store, catalog);
}

/** Checks, under the lock, that `pointId` is a point of the catalog other than the newest; returns its index. */
function requireRemovable(catalog: Catalog, pointId: string): number {
  const index = catalog.points.findIndex((p) => p.id === pointId);
  if (index < 0) throw new HvbError("PointNotFound", `VM '${catalog.vmName}' has no restore point '${pointId}'`, { category: "ObjectNotFound", target: pointId });
  if (catalog.points.length === 1) {
    throw new HvbError("PointNotOldest", `'${pointId}' is the only restore point of '${catalog.vmName}': the newest point is never removed`, { category: "InvalidOperation", target: pointId });
  }
  if (index === catalog.points.length - 1) {
    // The code predates removing middle points (the module documents it): the newest stays.
    throw new HvbError("PointNotOldest", `'${pointId}' is the newest restore point of '${catalog.vmName}': the newest point is never removed (the next backup continues from it)`, { category: "InvalidOperation", target: pointId });
  }
  return index;
}

/**
 * Carries out `catalog.pendingMerge`: every step checks what is already done, so it can be
 * re-run after a crash at any point.
 */
function finishMerge(store: VmStore, catalog: Catalog): void {
  const pending = catalog.pendingMerge!;
  const from = catalog.points.find((p) => p.id === pending.fromId);
  const into = catalog.points.find((p) => p.id === pending.intoId);
  if (!from || !into) throw new HvbError("CatalogInvalid", `Catalog of '${catalog.vmName}': pending merge names points that are not there`, { category: "InvalidData", target: store.catalogFile });
  const after = catalog.points.find((p) => p.parentId === into.id);
  const fromDir = store.pointDir(from.id);
  const intoDir = store.pointDir(into.id);

  const newDisks = into.disks.map((disk) => {
    // The catalog's method is not trusted: a disk is merged when its file name says increment,
    // which checkMergeState has matched with the file itself.
    if (!disk.file.endsWith(".avhdx")) return disk;
    const childFile = store.pointFile(into.id, disk.file);
    const targetRel = `${DISKS_DIR}/${path.basename(disk.file, ".avhdx")}.vhdx`;
    const target = store.pointFile(into.id, targetRel);
    if (!existsSync(target)) {
      const fromDisk = from.disks.find((d) => d.index === disk.index);
      if (!fromDisk) throw new HvbError("ChainBroken", `Point '${into.id}' disk ${disk.index} has no parent disk in '${from.id}'`, { category: "InvalidData", target: into.id });
      const parentFile = store.pointFile(from.id, fromDisk.file);
      if (!existsSync(childFile) || !existsSync(parentFile)) {
        throw new HvbError("ChainBroken", `Cannot finish merging '${from.id}' into '${into.id}': '${existsSync(childFile) ? parentFile : childFile}' is missing`, { category: "InvalidData", target: store.dir });
      }
      mergeVhdxIntoParent(childFile, { parentPath: parentFile });
      crashPoint("prune-merged");
      renameSync(parentFile, target);
      fsyncDir(path.dirname(target));
      crashPoint("prune-moved");
    }
    // The next increment now hangs off the merged file.
    const nextDisk = after?.disks.find((d) => d.index === disk.index);
    if (after && nextDisk && nextDisk.file.endsWith(".avhdx")) relinkParent(store.pointFile(after.id, nextDisk.file), target);
    crashPoint("prune-relinked");
    if (existsSync(childFile)) rmSync(childFile);
    return { ...disk, file: targetRel };
  });

  // The merged point's manifest: the older point's units, overridden by its own.
  if (existsSync(path.join(fromDir, MANIFEST_FILE))) {
    const older = store.readManifest(from.id);
    const mine = store.readManifest(into.id);
    for (const d of mine.disks) {
      const base = older.disks.find((x) => x.index === d.index);
      const rec = into.disks.find((x) => x.index === d.index);
      if (base && rec && rec.method !== "full") d.units = { ...base.units, ...d.units };
      d.file = newDisks.find((x) => x.index === d.index)!.file;
    }
    mine.kind = "full";
    mine.parentId = null;
    writeManifest(path.join(intoDir, MANIFEST_FILE), mine);
    crashPoint("prune-manifest-written");
  }
  const c = store.readCatalog();
  c.points = c.points.filter((p) => p.id !== from.id);
  const rec = c.points.find((p) => p.id === into.id)! as PointRecord;
  rec.kind = "full";
  rec.parentId = null;
  rec.disks = newDisks;
  rec.sizeBytes = treeSize(intoDir);
  c.pendingMerge = null;
  commitMerge(store, c, fromDir);
}

/**
 * Before an interrupted merge is finished: every file it will touch is where and what the
 * catalog says. Each increment of `into` is either still a differencing file whose parent (read
 * from its parent locator) is the same disk of `from`, or already merged and moved (then a
 * standalone `.vhdx` in `into`'s folder). Anything else is refused, nothing touched.
 */
function checkMergeState(store: VmStore, catalog: Catalog): void {
  const { fromId, intoId } = catalog.pendingMerge!;
  const from = catalog.points.find((p) => p.id === fromId)!;
  const into = catalog.points.find((p) => p.id === intoId)!;
  const refuse = (what: string): never => {
    throw new HvbError("RepositoryInconsistent", `Refusing to finish the interrupted merge of '${fromId}' into '${intoId}' of '${catalog.vmName}': ${what}. Nothing was changed — run 'hvbackup verify'`, { category: "InvalidData", target: store.dir });
  };
  const intoDir = store.pointDir(intoId);
  const fromDir = store.pointDir(fromId);
  for (const disk of into.disks) {
    const what = `disk ${disk.index} of ${intoId}`;
    try {
      if (!disk.file.endsWith(".avhdx")) {
        if (readDiskFacts(store.pointFile(intoId, disk.file), intoDir, what).differencing) refuse(`${what} ('${disk.file}') is a differencing file, the catalog records a full copy`);
        continue;
      }
      const target = store.pointFile(intoId, `${DISKS_DIR}/${path.basename(disk.file, ".avhdx")}.vhdx`);
      if (existsSync(target)) {
        if (readDiskFacts(target, intoDir, what).differencing) refuse(`the merged file '${target}' is a differencing file`);
        continue;
      }
      const fromDisk = from.disks.find((d) => d.index === disk.index);
      if (!fromDisk) refuse(`${what} has no parent disk in '${fromId}'`);
      const child = store.pointFile(intoId, disk.file);
      if (!existsSync(child)) continue; // reported by finishMerge as a broken chain
      const facts = readDiskFacts(child, intoDir, what);
      const parentReal = realFileInside(store.pointFile(fromId, fromDisk!.file), fromDir, `disk ${disk.index} of ${fromId}`);
      if (!facts.differencing || facts.parent?.real !== parentReal) refuse(`'${disk.file}' of ${intoId} ${facts.differencing ? `names '${facts.parent?.real || "a missing file"}' as its parent, not '${fromDisk!.file}' of ${fromId}` : "is not a differencing file"}`);
    } catch (e) {
      if (e instanceof HvbError && e.code !== "RepositoryInconsistent") refuse(e.message);
      throw e;
    }
  }
}
