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

/** What prune did. */
export interface PruneResult {
  vmName: string;
  /** Points folded into the next one (no longer restorable on their own). */
  removed: string[];
  kept: string[];
}

/**
 * Keeps the newest `keep` restore points of a VM (and, with `keepSince`, every point taken at or
 * after that time), or, with `pointId`, removes that one point, which must be the oldest and not
 * the only one (a newer point depends on every older one, so only the oldest can be folded into
 * the next; a caller removing several points removes them oldest first). Forward-incremental-forever: the oldest full
 * is merged with the increment after it, which becomes the new full (DESIGN.md "Retention").
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
  const mayRemove = (points: readonly PointRecord[]): boolean =>
    pointId !== undefined
      ? points.length > 1 && points[0]!.id === pointId
      : points.length > keep && (since === undefined || Date.parse(points[0]!.time) < since);
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
      events.info(`Finishing the interrupted merge of '${catalog.pendingMerge.fromId}' into '${catalog.pendingMerge.intoId}'`);
      checkMergeState(store, catalog);
      removed.push(catalog.pendingMerge.fromId);
      finishMerge(store, catalog);
      catalog = store.readCatalog();
    }
    for (const orphan of store.removeOrphans(catalog)) events.info(`Removed '${orphan}', left by an interrupted run`);
    if (pointId !== undefined) requireOldest(catalog, pointId);
    while (mayRemove(catalog.points)) {
      const oldest = catalog.points[0]!;
      const next = catalog.points[1]!;
      events.progress({ activity: `Pruning ${catalog.vmName}`, status: `folding ${oldest.id} into ${next.id}`, percent: 0 });
      const report = checkPoints(store, catalog);
      requireConsistent(store, report, "prune");
      const users = pointsUsingFolder(report, store.pointDir(oldest.id)).filter((id) => id !== oldest.id);
      if (next.kind === "full" || next.parentId !== oldest.id) {
        // The next point does not depend on the oldest — and neither does any file: drop it whole.
        if (users.length > 0) {
          throw new HvbError("RepositoryInconsistent", `Refusing to prune '${oldest.id}' of '${catalog.vmName}': the catalog says nothing depends on it, but the disk files of ${users.join(", ")} name files in it as their parents. Nothing was changed — run 'hvbackup verify'`, { category: "InvalidData", target: store.dir });
        }
        catalog.points.shift();
        store.writeCatalog(catalog);
        rmSync(store.pointDir(oldest.id), { recursive: true, force: true });
      } else {
        catalog.pendingMerge = { fromId: oldest.id, intoId: next.id };
        store.writeCatalog(catalog);
        crashPoint("prune-marked");
        finishMerge(store, catalog);
      }
      removed.push(oldest.id);
      catalog = store.readCatalog();
    }
    return { vmName: catalog.vmName, removed, kept: catalog.points.map((p) => p.id) };
  } finally {
    lock.release();
  }
}

/** Checks, under the lock, that `pointId` is a point of the catalog that one fold removes. */
function requireOldest(catalog: Catalog, pointId: string): void {
  const index = catalog.points.findIndex((p) => p.id === pointId);
  if (index < 0) throw new HvbError("PointNotFound", `VM '${catalog.vmName}' has no restore point '${pointId}'`, { category: "ObjectNotFound", target: pointId });
  if (catalog.points.length === 1) {
    throw new HvbError("PointNotOldest", `'${pointId}' is the only restore point of '${catalog.vmName}': the newest point is never removed`, { category: "InvalidOperation", target: pointId });
  }
  if (index > 0) {
    throw new HvbError("PointNotOldest", `'${pointId}' is not the oldest restore point of '${catalog.vmName}': newer points depend on older ones, so points are removed oldest first; remove the ${index} older point(s) first (the oldest is '${catalog.points[0]!.id}'), or apply a retention that keeps the newest points`, { category: "InvalidOperation", target: pointId });
  }
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
  rmSync(fromDir, { recursive: true, force: true });
  fsyncDir(path.dirname(fromDir));

  const c = store.readCatalog();
  c.points = c.points.filter((p) => p.id !== from.id);
  const rec = c.points.find((p) => p.id === into.id)! as PointRecord;
  rec.kind = "full";
  rec.parentId = null;
  rec.disks = newDisks;
  rec.sizeBytes = treeSize(intoDir);
  c.pendingMerge = null;
  store.writeCatalog(c);
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
