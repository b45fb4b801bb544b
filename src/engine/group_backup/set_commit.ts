import { existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { type Repository, type SetRecord, type VmStore, STAGING_SUFFIX, listSetRecords, removeSetRecord, sharedDiskDir } from "../../repository/mod";
import type { EngineEvents } from "../events";

/**
 * Takes a set's member points back out of their catalogs, then removes the set record: used
 * when a set cannot be completed (a failure during its commit) and, on the next run, for a set
 * whose record was left `committing` by a process that died mid-commit. A member point that a
 * later point already builds on (a backup of that VM alone ran in between) is kept as a point of
 * its VM alone, without the set id: removing it would break that chain.
 */
export function rollBackSet(repo: Repository, set: Pick<SetRecord, "id" | "members">, storeOf: (vmId: string, vmName: string) => VmStore, events: EngineEvents): void {
  for (const m of set.members) {
    const store = storeOf(m.vmId, m.vmName);
    if (!existsSync(store.catalogFile)) continue;
    const catalog = store.readCatalog();
    const point = catalog.points.find((p) => p.id === m.pointId && p.setId === set.id);
    if (point) {
      if (catalog.points.some((p) => p.parentId === point.id)) {
        delete point.setId;
        store.writeCatalog(catalog);
        events.warning(`Point ${point.id} of '${m.vmName}' from the unfinished backup set ${set.id} is kept as a point of the VM alone: a later point builds on it`, "SetMemberKept");
        continue;
      }
      catalog.points = catalog.points.filter((p) => p !== point);
      store.writeCatalog(catalog);
    }
    // After the catalog no longer names it (the commit point), the folder goes.
    rmSync(store.pointDir(m.pointId), { recursive: true, force: true });
    rmSync(store.pointDir(m.pointId) + STAGING_SUFFIX, { recursive: true, force: true });
  }
  removeSetRecord(repo.root, set.id);
  // The set's shared disk files go after the record that names them.
  rmSync(path.join(repo.root, sharedDiskDir(set.id)), { recursive: true, force: true });
}

/** Rolls back every set of `groupId` left `committing`; returns them (their reference point collections are the caller's to remove). */
export function rollBackInterruptedSets(repo: Repository, groupId: string, storeOf: (vmId: string, vmName: string) => VmStore, events: EngineEvents): SetRecord[] {
  const out: SetRecord[] = [];
  for (const set of listSetRecords(repo.root)) {
    if (set.state !== "committing" || set.groupId.toLowerCase() !== groupId.toLowerCase()) continue;
    rollBackSet(repo, set, storeOf, events);
    events.info(`Rolled back backup set ${set.id} of group '${set.groupName}': it was interrupted before every member's point was published`);
    out.push(set);
  }
  return out;
}
