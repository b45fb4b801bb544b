import { HvbError } from "../base/mod";
import type { Catalog, Manifest, PointRecord } from "../repository/mod";
import { checkPoints } from "../repository/mod";
import type { VmStore } from "../repository/mod";

/** The points a restore point depends on, full first, ending with the point itself. */
export function chainOf(catalog: Catalog, pointId: string): PointRecord[] {
  const byId = new Map(catalog.points.map((p) => [p.id, p]));
  const chain: PointRecord[] = [];
  let cur = byId.get(pointId);
  if (!cur) throw new HvbError("PointNotFound", `VM '${catalog.vmName}' has no restore point '${pointId}'`, { category: "ObjectNotFound", target: pointId });
  while (cur) {
    chain.unshift(cur);
    if (chain.length > catalog.points.length) {
      throw new HvbError("CatalogInvalid", `Catalog of '${catalog.vmName}': restore point chains loop at '${cur.id}'`, { category: "InvalidData", target: cur.id });
    }
    if (cur.kind === "full") return chain;
    const parentId: string | null = cur.parentId;
    if (!parentId || !byId.has(parentId)) {
      throw new HvbError("ChainBroken", `Restore point '${cur.id}' of '${catalog.vmName}' needs '${parentId}', which is not in the catalog`, { category: "InvalidData", target: cur.id });
    }
    cur = byId.get(parentId);
  }
  return chain;
}

/**
 * The content of every unit of one disk at a point, as hashes: for each unit, the hash from
 * the newest manifest in the chain that lists it. Units absent from the map are zero.
 */
export function unitStateAt(store: VmStore, catalog: Catalog, pointId: string, diskIndex: number): Map<number, string> {
  const state = new Map<number, string>();
  for (const p of chainOf(catalog, pointId)) {
    const disk = store.readManifest(p.id).disks.find((d) => d.index === diskIndex);
    if (!disk) continue;
    for (const [u, h] of Object.entries(disk.units)) state.set(Number(u), h);
  }
  return state;
}

/**
 * Selects a restore point: an id, `latest` (the last committed: catalogs list points in commit
 * order, so a point dated in the future by a wrong clock is not "latest" forever), or a time
 * (the point with the latest time at or before it).
 */
export function selectPoint(catalog: Catalog, selector: string | undefined): PointRecord {
  const points = catalog.points;
  if (points.length === 0) throw new HvbError("NoRestorePoints", `VM '${catalog.vmName}' has no restore points`, { category: "ObjectNotFound", target: catalog.vmName });
  if (selector === undefined || selector === "latest") return points[points.length - 1]!;
  const byId = points.find((p) => p.id === selector);
  if (byId) return byId;
  const t = Date.parse(selector);
  if (Number.isNaN(t)) {
    throw new HvbError("PointNotFound", `'${selector}' is neither a restore point id of '${catalog.vmName}', 'latest', nor a time`, { category: "InvalidArgument", target: selector });
  }
  const candidates = points.filter((p) => Date.parse(p.time) <= t);
  if (candidates.length === 0) {
    throw new HvbError("PointNotFound", `VM '${catalog.vmName}' has no restore point at or before ${new Date(t).toISOString()} (the oldest is ${points[0]!.time})`, { category: "ObjectNotFound", target: selector });
  }
  // The latest time at or before the one asked; of equal times, the last committed.
  return candidates.reduce((best, p) => (Date.parse(p.time) >= Date.parse(best.time) ? p : best));
}

/**
 * Runs the repository checker on the points a restore (or export) of `pointId` reads — the
 * point and those it depends on — hashing the point's configuration; refuses the point on any
 * disagreement between catalog, manifests and files. Returns the point's manifest.
 */
export function requireRestorable(store: VmStore, catalog: Catalog, pointId: string): Manifest {
  const report = checkPoints(store, catalog, { points: chainOf(catalog, pointId).map((p) => p.id), hashConfiguration: [pointId] });
  if (report.problems.length > 0) {
    const p = report.problems[0]!;
    throw new HvbError("RestorePointDamaged", `Restore point '${pointId}' of '${catalog.vmName}' cannot be restored as recorded: the backup is damaged or not what its catalog says — restore point ${p.pointId}${p.disk !== null ? ` disk ${p.disk}` : ""}: ${p.message}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem(s))` : ""} — run 'hvbackup verify --deep' and restore another point`, { category: "InvalidData", target: pointId });
  }
  return report.manifests.get(pointId)!;
}


/**
 * The point a new backup can build on: the newest, when its chain is what the catalog says;
 * otherwise undefined (a full is taken), with a warning saying why — an increment on a chain
 * whose files are not what the catalog says could never be restored.
 */
export function usableBase(store: VmStore, catalog: Catalog, warn: (message: string, code: string) => void): PointRecord | undefined {
  const last = catalog.points[catalog.points.length - 1];
  if (!last) return undefined;
  const report = checkPoints(store, catalog, { points: chainOf(catalog, last.id).map((p) => p.id) });
  if (report.problems.length === 0) return last;
  const p = report.problems[0]!;
  warn(`The newest restore point '${last.id}' cannot be built on: restore point ${p.pointId}${p.disk !== null ? ` disk ${p.disk}` : ""}: ${p.message}; taking a full backup instead — run 'hvbackup verify'`, "BaseUnusable");
  return undefined;
}
