import * as path from "node:path";
import { HvbError } from "../../base/mod";
import type { Repository } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi } from "../host_api";
import { type RestoreOptions, type RestoreResult, restoreVm } from "../restore";
import { selectSet } from "./select_set";

/** How to restore a set. */
export interface GroupRestoreOptions extends Omit<RestoreOptions, "point" | "name" | "destination"> {
  /** Set id, `latest` (default) or a time: the newest committed set at or before it. */
  set?: string;
  /** Folder under which each member gets `<member name>/` (default: the current folder). */
  destination?: string;
  /** Restore only these members (names or ids); default every member. */
  members?: readonly string[];
}

/** What a set restore did. */
export interface GroupRestoreResult {
  setId: string;
  groupName: string;
  members: RestoreResult[];
}

/**
 * Restores the members of one backup set, each from its point of that set (so the VMs come back
 * as they were at one moment), one after the other with the single-VM restore: every block
 * checked, the configuration imported, in place or under new ids side by side.
 */
export async function restoreGroup(host: HostApi, repo: Repository, groupNameOrId: string, options: GroupRestoreOptions, events: EngineEvents): Promise<GroupRestoreResult> {
  repo.requireExists();
  const set = selectSet(repo, groupNameOrId, options.set);
  const wanted = options.members?.map((m) => m.toLowerCase());
  const members = wanted ? set.members.filter((m) => wanted.includes(m.vmName.toLowerCase()) || wanted.includes(m.vmId.toLowerCase())) : set.members;
  if (wanted && members.length !== wanted.length) {
    throw new HvbError("VmNotInRepository", `Backup set ${set.id} of group '${set.groupName}' has no member ${options.members!.filter((w) => !members.some((m) => m.vmName.toLowerCase() === w.toLowerCase() || m.vmId.toLowerCase() === w.toLowerCase())).map((w) => `'${w}'`).join(", ")} (members: ${set.members.map((m) => m.vmName).join(", ")})`, { category: "ObjectNotFound", target: set.id });
  }
  // Every member's point first, so a set that cannot be restored whole is refused before any VM is touched.
  for (const m of members) {
    const catalog = repo.findVm(m.vmId).readCatalog();
    if (!catalog.points.some((p) => p.id === m.pointId && p.setId === set.id)) {
      throw new HvbError("PointNotFound", `Backup set ${set.id} of group '${set.groupName}' cannot be restored whole: member '${m.vmName}' no longer has its point ${m.pointId} (run 'hvbackup verify --repo ${repo.root}')`, { category: "ObjectNotFound", target: set.id });
    }
  }
  const results: RestoreResult[] = [];
  for (const m of members) {
    try {
      results.push(
        await restoreVm(
        host,
        repo,
        m.vmId,
        {
          point: m.pointId,
          ...(options.destination !== undefined ? { destination: path.join(options.destination, m.vmName) } : {}),
          ...(options.newId !== undefined ? { newId: options.newId } : {}),
          ...(options.force !== undefined ? { force: options.force } : {}),
          ...(options.clearStaleLock !== undefined ? { clearStaleLock: options.clearStaleLock } : {}),
        },
          events,
        ),
      );
    } catch (e) {
      if (results.length === 0 || !(e instanceof HvbError)) throw e;
      // Say what is already back, so the operator knows which VMs to keep or remove.
      throw new HvbError(e.code, `${e.message} (restoring member '${m.vmName}' of set ${set.id}; already restored: ${results.map((r) => `'${r.vmName}' (${r.vmId}) in ${r.destination}`).join(", ")})`, { category: e.category, target: e.target ?? set.id, cause: e });
    }
  }
  return { setId: set.id, groupName: set.groupName, members: results };
}
