import { HvbError, isHvbError } from "../../base/mod";
import { type Repository, type SetRecord, listSetRecords, removeSetRecord } from "../../repository/mod";
import type { EngineEvents } from "../events";
import { pruneVm } from "../prune";
import type { VerifyProblem } from "../verify";
import { setsOfGroup } from "./select_set";
import { rebaseSharedChildren, removeSharedDiskFiles, sharedDiskProblems } from "./shared_disk_retention";

/** The member points a set record names that are not (or no longer) in their catalogs. */
function missingMembers(repo: Repository, set: SetRecord): string[] {
  const missing: string[] = [];
  for (const m of set.members) {
    try {
      const catalog = repo.findVm(m.vmId).readCatalog();
      if (!catalog.points.some((p) => p.id === m.pointId && p.setId === set.id)) missing.push(`${m.vmName} ${m.pointId}`);
    } catch (e) {
      if (!isHvbError(e)) throw e;
      missing.push(`${m.vmName} ${m.pointId} (${e.message})`);
    }
  }
  return missing;
}

/**
 * Sets are restored whole or not at all: a committed set one of whose member points is gone (a
 * prune of that VM alone folded it away) is no longer a set; its record is removed, with a
 * warning, and the other members' points stay restorable one by one.
 */
export function dropBrokenSets(repo: Repository, events: EngineEvents): string[] {
  const dropped: string[] = [];
  for (const set of listSetRecords(repo.root)) {
    if (set.state !== "committed") continue;
    const missing = missingMembers(repo, set);
    if (missing.length === 0) continue;
    rebaseSharedChildren(repo, set, events);
    removeSetRecord(repo.root, set.id);
    removeSharedDiskFiles(repo, set.id);
    dropped.push(set.id);
    events.warning(`Backup set ${set.id} of group '${set.groupName}' is no longer whole (${missing.join(", ")} pruned or gone): it can no longer be restored as a set; its other members' points stay restorable one by one`, "SetBroken");
  }
  return dropped;
}

/** What a prune of a group's sets did. */
export interface GroupPruneResult {
  groupName: string;
  /** Sets removed as a whole (their member points folded into the next ones). */
  removedSets: string[];
  keptSets: string[];
}

/**
 * Keeps the newest `keep` sets of a group (and, with `keepSince`, every set taken at or after
 * it), removing older sets as one: the set record first (so no reader ever sees part of a set),
 * then each member's points up to the set's point, folded into the next one as `prune` does for
 * one VM.
 */
export function pruneGroup(repo: Repository, groupNameOrId: string, keep: number, events: EngineEvents, options: { clearStaleLock?: boolean; keepSince?: Date } = {}): GroupPruneResult {
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new HvbError("Usage", `--keep must be at least 1 (the newest set is never removed), got ${keep}`, { category: "InvalidArgument", target: "keep" });
  }
  repo.requireExists();
  const sets = setsOfGroup(repo, groupNameOrId);
  const since = options.keepSince?.getTime();
  const removable = sets.slice(0, Math.max(0, sets.length - keep)).filter((s) => since === undefined || Date.parse(s.time) < since);
  for (const set of removable) {
    // A later set's shared disk that builds on this one's is made whole first.
    rebaseSharedChildren(repo, set, events);
    removeSetRecord(repo.root, set.id);
    removeSharedDiskFiles(repo, set.id);
    for (const m of set.members) {
      const store = repo.findVm(m.vmId);
      const points = store.readCatalog().points;
      const at = points.findIndex((p) => p.id === m.pointId);
      if (at < 0) continue; // already folded (an interrupted prune of the group, run again)
      const newer = points.length - at - 1;
      if (newer < 1) {
        events.warning(`Point ${m.pointId} of '${m.vmName}' is its newest and is kept (the VM has no later point)`, "PointKept");
        continue;
      }
      pruneVm(repo, m.vmId, newer, events, options.clearStaleLock === undefined ? {} : { clearStaleLock: options.clearStaleLock });
    }
    events.info(`Removed backup set ${set.id} of group '${set.groupName}'`);
  }
  dropBrokenSets(repo, events);
  const removedIds = new Set(removable.map((s) => s.id));
  return { groupName: sets[0]!.groupName, removedSets: [...removedIds], keptSets: sets.filter((s) => !removedIds.has(s.id)).map((s) => s.id) };
}

/**
 * Checks every set record (or the sets of one group): readable, committed, and every member's
 * point present in its catalog with the set's id and not damaged (per `damaged`, the problems
 * verify found for single points, matched by VM name and point id).
 */
export function verifySets(repo: Repository, damaged: readonly VerifyProblem[]): { setsChecked: number; problems: VerifyProblem[] } {
  const problems: VerifyProblem[] = [];
  let sets: SetRecord[];
  try {
    sets = listSetRecords(repo.root);
  } catch (e) {
    if (!isHvbError(e)) throw e;
    return { setsChecked: 0, problems: [{ vmName: "(sets)", pointId: "(set record)", disk: null, message: e.message }] };
  }
  for (const set of sets) {
    const who = `group ${set.groupName}`;
    if (set.state !== "committed") {
      problems.push({ vmName: who, pointId: set.id, disk: null, message: "the set was interrupted before it was committed; the next backup of the group rolls it back" });
      continue;
    }
    problems.push(...sharedDiskProblems(repo, set));
    for (const miss of missingMembers(repo, set)) problems.push({ vmName: who, pointId: set.id, disk: null, message: `member point ${miss} is missing: the set cannot be restored whole` });
    for (const m of set.members) {
      if (damaged.some((p) => p.vmName === m.vmName && p.pointId === m.pointId)) {
        problems.push({ vmName: who, pointId: set.id, disk: null, message: `member point ${m.vmName} ${m.pointId} is damaged: the set cannot be restored whole` });
      }
    }
  }
  return { setsChecked: sets.length, problems };
}
