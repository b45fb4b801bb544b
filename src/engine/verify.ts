import { redundantCopyProblems } from "../vhdx/mod";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import type { Repository, VmStore } from "../repository/mod";
import { checkVhdx } from "../vhdx/mod";
import { VhdxImage } from "../vhdx/mod";
import { deepCheckDisk } from "./deep_verify";
import type { EngineEvents } from "./events";
import { chainOf } from "./point_chain";
import { sha256Hex } from "./units";

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
}

/**
 * Verifies restore points: every catalogued file exists, every disk file and its chain pass
 * the VHDX structural check, the configuration matches its hashes; with `deep`, every unit a
 * point stored is read back through its chain and compared with the manifest's SHA-256.
 * A point is damaged when it or any point it depends on has a problem.
 */
export function verifyRepository(repo: Repository, vmNameOrId: string | undefined, deep: boolean, events: EngineEvents): VerifyReport {
  repo.requireExists();
  const stores = vmNameOrId === undefined ? repo.listVms() : [repo.findVm(vmNameOrId)];
  const report: VerifyReport = { ok: true, deep, pointsChecked: 0, damagedPoints: [], problems: [] };
  for (const store of stores) verifyVm(store, deep, report, events);
  report.ok = report.problems.length === 0;
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
  const total = catalog.points.length;
  catalog.points.forEach((point, n) => {
    events.progress({ activity: `Verifying ${catalog.vmName}`, status: point.id, percent: Math.floor((n / Math.max(total, 1)) * 100) });
    report.pointsChecked++;
    let manifest;
    try {
      manifest = store.readManifest(point.id);
    } catch (e) {
      problem(point.id, null, (e as Error).message);
      return;
    }
    for (const f of manifest.configuration) {
      try {
        const p = store.pointFile(point.id, f.file);
        if (!existsSync(p)) problem(point.id, null, `configuration file '${f.file}' is missing`);
        else if (sha256Hex(readFileSync(p)) !== f.sha256) problem(point.id, null, `configuration file '${f.file}' does not match its SHA-256`);
      } catch (e) {
        problem(point.id, null, (e as Error).message);
      }
    }
    for (const disk of point.disks) {
      let file: string;
      try {
        file = store.pointFile(point.id, disk.file);
      } catch (e) {
        problem(point.id, disk.index, (e as Error).message);
        continue;
      }
      if (!existsSync(file)) {
        problem(point.id, disk.index, `disk file '${disk.file}' is missing`);
        continue;
      }
      const check = checkVhdx(file);
      for (const p of check.problems) problem(point.id, disk.index, p);
      if (check.ok) for (const p of redundantCopyProblems(file)) problem(point.id, disk.index, p);
      if (!check.ok || !deep) continue;
      const md = manifest.disks.find((d) => d.index === disk.index);
      if (!md) {
        problem(point.id, disk.index, "the manifest does not list this disk");
        continue;
      }
      let image: VhdxImage | undefined;
      try {
        image = VhdxImage.open(file);
        for (const p of deepCheckDisk(image, md)) problem(point.id, disk.index, p);
      } catch (e) {
        if (!(e instanceof HvbError)) throw e;
        problem(point.id, disk.index, e.message);
      } finally {
        image?.close();
      }
    }
  });
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
