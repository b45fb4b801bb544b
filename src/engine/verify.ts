import { redundantCopyProblems } from "../vhdx/mod";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import type { Repository, VmStore } from "../repository/mod";
import { checkPoints } from "../repository/mod";
import { type VhdxImage } from "../vhdx/mod";
import { ChainImages } from "./chain_images";
import { deepCheckDisk } from "./deep_verify";
import { startSharedPool } from "./pipeline/worker_pool";
import type { EngineEvents } from "./events";
import { chainOf } from "./point_chain";
import { unitsOf } from "./units";

/** One problem found by verify. */
export interface VerifyProblem {
  vmName: string;
  pointId: string;
  /** Disk index, or null for the point as a whole (manifest, configuration). */
  disk: number | null;
  message: string;
}

/** What verify found for the repository (or one VM). */
export interface VerifyReport {
  ok: boolean;
  deep: boolean;
  pointsChecked: number;
  /** Ids of points that cannot be restored as recorded. */
  damagedPoints: string[];
  problems: VerifyProblem[];
  /** VMs not verified because another operation holds their lock (not damage: run verify again). */
  skipped: Array<{ vmName: string; reason: string }>;
}

/**
 * Verifies restore points: the repository checker (catalog, manifests and files agree, files are
 * regular and inside the repository, nothing unlisted, chains as the files say), every disk file
 * passes the VHDX structural check, the configuration matches its hashes; with `deep`, every unit
 * a point stored is read back through its chain and compared with the manifest's SHA-256.
 * A point is damaged when it or any point it depends on has a problem. Each VM is verified under
 * its shared lock, so a prune or backup in progress is never reported as damage, and one VM's
 * damage never stops the others' verification.
 */
export function verifyRepository(repo: Repository, vmNameOrId: string | undefined, deep: boolean, events: EngineEvents): VerifyReport {
  repo.requireExists();
  // The hashing workers boot while catalogs, manifests and VHDX structures are checked.
  if (deep) startSharedPool();
  const stores = vmNameOrId === undefined ? repo.listVms() : [repo.findVm(vmNameOrId)];
  const report: VerifyReport = { ok: true, deep, pointsChecked: 0, damagedPoints: [], problems: [], skipped: [] };
  for (const store of stores) {
    let lock;
    try {
      lock = store.sharedLock("verify");
    } catch (e) {
      if (!(e instanceof HvbError) || (e.code !== "LockHeld" && e.code !== "LockStale")) throw e;
      // Asked for this one VM: its lock is the answer. In a whole-repository run, the others go on.
      if (vmNameOrId !== undefined) throw e;
      report.skipped.push({ vmName: path.basename(store.dir), reason: e.message });
      events.warning(`Not verified: ${e.message}`, "VerifySkipped");
      continue;
    }
    try {
      verifyVm(store, deep, report, events);
    } finally {
      lock.release();
    }
  }
  report.ok = report.problems.length === 0 && report.skipped.length === 0;
  return report;
}

function verifyVm(store: VmStore, deep: boolean, report: VerifyReport, events: EngineEvents): void {
  let catalog;
  try {
    catalog = store.readCatalog();
  } catch (e) {
    // Without its catalog no point of this VM can be restored as recorded; go on with the others.
    if (!(e instanceof HvbError)) throw e;
    const folder = path.basename(store.dir);
    report.problems.push({ vmName: folder, pointId: "(catalog)", disk: null, message: e.message });
    report.damagedPoints.push(`${folder}/(catalog)`);
    return;
  }
  const bad = new Set<string>();
  const problem = (pointId: string, disk: number | null, message: string): void => {
    report.problems.push({ vmName: catalog.vmName, pointId, disk, message });
    bad.add(pointId);
  };
  const checked = checkPoints(store, catalog, { hashConfiguration: true });
  for (const p of checked.problems) problem(p.pointId, p.disk, p.message);
  if (catalog.pendingMerge) {
    problem(catalog.pendingMerge.intoId, null, `an interrupted prune is merging '${catalog.pendingMerge.fromId}' into it: run 'hvbackup prune' again to finish`);
  }
  const total = catalog.points.length;
  // Each disk's chain is opened once, from the newest point, when no point was found damaged
  // (else every point opens its own chain, as before: a damaged point's files may be anything).
  const images = new ChainImages();
  const newest = bad.size === 0 ? catalog.points[total - 1] : undefined;
  try {
    catalog.points.forEach((point, n) => {
      events.progress({ activity: `Verifying ${catalog.vmName}`, status: point.id, percent: Math.floor((n / Math.max(total, 1)) * 100) });
      report.pointsChecked++;
      const manifest = checked.manifests.get(point.id);
      // A point whose files are not what the catalog says is not read further: its files may be
      // anything (a FIFO, a link out of the repository).
      if (!manifest || bad.has(point.id)) return;
      for (const disk of point.disks) {
        const file = store.pointFile(point.id, disk.file);
        const newestDisk = newest?.disks.find((d) => d.index === disk.index);
        const image = openChecked(images, file, newestDisk && store.pointFile(newest!.id, newestDisk.file), (p) => problem(point.id, disk.index, p));
        if (image) for (const p of redundantCopyProblems(file)) problem(point.id, disk.index, p);
        if (!image || !deep) continue;
        const md = manifest.disks.find((d) => d.index === disk.index);
        if (!md) {
          problem(point.id, disk.index, "the manifest does not list this disk");
          continue;
        }
        try {
          for (const p of deepCheckDisk(image, md)) problem(point.id, disk.index, p);
          // An increment stores exactly the units its manifest lists: data in any other unit
          // would change what restore gives without the manifest saying so.
          if (image.type === "differencing") {
            for (const u of unitsOf(image.dataRanges("file"), md.unitSize, image.virtualSize)) {
              if (!(String(u) in md.units)) problem(point.id, disk.index, `the file holds data at offset ${u * md.unitSize} that the manifest does not list`);
            }
          }
        } catch (e) {
          if (!(e instanceof HvbError)) throw e;
          problem(point.id, disk.index, e.message);
        }
      }
    });
  } finally {
    images.close();
  }
  // A point is restorable only if every point it depends on is intact.
  for (const point of catalog.points) {
    let damaged = bad.has(point.id);
    try {
      damaged ||= chainOf(catalog, point.id).some((p) => bad.has(p.id));
    } catch (e) {
      report.problems.push({ vmName: catalog.vmName, pointId: point.id, disk: null, message: (e as Error).message });
      damaged = true;
    }
    if (damaged) report.damagedPoints.push(`${catalog.vmName}/${point.id}`);
  }
}

/**
 * The structural check of one point's disk file (what `hvbackup vhdx check` does: headers, log,
 * regions, metadata, its BAT, and its chain opening with matching parent linkage), on the image
 * {@link ChainImages} holds for it; the problems are reported and the image returned when there
 * are none. Each file's BAT is checked once, by its own point: checking every ancestor's BAT
 * again for each point made the structure checks grow with the square of the chain's length,
 * and a problem in an ancestor already damages every point that depends on it.
 */
function openChecked(images: ChainImages, file: string, newestFile: string | undefined, problem: (message: string) => void): VhdxImage | undefined {
  let image: VhdxImage;
  try {
    image = images.imageFor(file, newestFile);
  } catch (e) {
    if (!(e instanceof HvbError)) throw e;
    problem(e.message);
    return undefined;
  }
  const problems = image.checkBat();
  for (const p of problems) problem(`Invalid VHDX file '${image.path}': ${p}`);
  return problems.length === 0 ? image : undefined;
}
