import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { existsSync, readdirSync, rmdirSync } from "node:fs";
import { type Repository, SETS_DIR, isSetId, readSetRecord } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi } from "../host_api";
import { type RestoreOptions, type RestoreResult, type UndoableRestore, restoreVm, restoreVmUndoable } from "../restore";
import { selectSet } from "./select_set";
import { type RestoredSharedDisks, removeRestoredSharedDisks, restoreSharedDisks } from "./shared_disk_restore";
import { selectPoint } from "../point_chain";
import { defaultDestination } from "../restore_destination";

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
  /** Each member's restore, with the restored shared disks it attaches ([] for none). */
  members: Array<RestoreResult & { sharedDisks: RestoredSharedDisks["sets"] }>;
  /** The shared disks (VHD Sets) restored for the members, each once: a new .vhds per shared disk. */
  sharedDisks: RestoredSharedDisks["sets"];
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
  // A member that would replace a VM without --force is refused before anything is made (not
  // after the members before it were restored).
  if (!options.newId && !options.force) {
    const onHost = await host.listVms();
    const clash = members.map((m) => onHost.find((v) => v.id.toLowerCase() === m.vmId.toLowerCase())).filter((v) => v !== undefined);
    if (clash.length > 0) {
      throw new HvbError("VmExists", `Backup set ${set.id} of group '${set.groupName}': ${clash.map((v) => `VM '${v.name}' (${v.id})`).join(", ")} exist${clash.length === 1 ? "s" : ""} on the host: use --force to replace ${clash.length === 1 ? "it" : "them"} (stopped, files moved aside, never deleted) or --new-id to restore side by side`, { category: "ResourceUnavailable", target: clash[0]!.name });
    }
  }
  // The shared disks first, once for every member that attaches them (shared_disk_restore.ts).
  // Without --dest: beside the host's folders for new VMs, as the members' own default (restore.ts).
  const root = options.destination !== undefined ? path.resolve(options.destination) : defaultDestination((await host.hostDefaultFolders()).externalDataRoot, set.groupName);
  const rootExisted = existsSync(root);
  const shared = await restoreSharedDisks(host, repo, set, members.map((m) => m.vmId), root);
  const done: UndoableRestore[] = [];
  for (const m of members) {
    const sharedOfMember = shared.byMember.get(m.vmId.toLowerCase());
    try {
      done.push(
        await restoreVmUndoable(
          host,
          repo,
          m.vmId,
          {
            point: m.pointId,
            ...(options.destination !== undefined ? { destination: path.join(options.destination, m.vmName) } : {}),
            ...(options.newId !== undefined ? { newId: options.newId } : {}),
            ...(options.force !== undefined ? { force: options.force } : {}),
            ...(options.clearStaleLock !== undefined ? { clearStaleLock: options.clearStaleLock } : {}),
            ...(sharedOfMember ? { sharedDisks: sharedOfMember } : {}),
          },
          events,
        ),
      );
    } catch (e) {
      // All or nothing: the members already restored are taken back (newest first; a VM they
      // replaced is registered again), then the shared disks made for them (after the VMs that
      // attach them are gone).
      for (const d of [...done].reverse()) await d.undo(events);
      removeRestoredSharedDisks(shared);
      // The destination this restore made, once nothing of it is left.
      if (!rootExisted && existsSync(root) && readdirSync(root).length === 0) rmdirSync(root);
      if (done.length === 0 || !(e instanceof HvbError)) throw e;
      throw new HvbError(
        e.code,
        `${e.message} (restoring member '${m.vmName}' of set ${set.id}; a set is restored whole or not at all, so the members restored before it were removed again: ${done.map((d) => `'${d.result.vmName}' (${d.result.vmId})`).join(", ")}${options.force ? ", and the VMs they replaced registered again" : ""})`,
        { category: e.category, target: e.target ?? set.id, cause: e },
      );
    }
  }
  // done[i] is members[i]'s restore; the shared disks are keyed by the member's id in the set
  // (a restore with --new-id gives the VM another).
  const results = done.map((d, i) => {
    const attached = new Set(shared.byMember.get(members[i]!.vmId.toLowerCase())?.values() ?? []);
    return { ...d.result, sharedDisks: shared.sets.filter((x) => attached.has(x.path)) };
  });
  return { setId: set.id, groupName: set.groupName, members: results, sharedDisks: shared.sets };
}

/**
 * `restore --vm N [--point P]`: a VM alone, or, when its point belongs to a set with shared
 * disks, the member with its shared disks (restored into `<destination>/Shared Disks/`), since
 * the VM cannot run without them and must never be attached to the live originals.
 */
export async function restoreVmOrMember(host: HostApi, repo: Repository, vmNameOrId: string, options: RestoreOptions, events: EngineEvents): Promise<RestoreResult & { sharedDisks: RestoredSharedDisks["sets"] }> {
  repo.requireExists();
  const catalog = repo.findVm(vmNameOrId).readCatalog();
  const point = selectPoint(catalog, options.point);
  const setFile = point.setId && isSetId(point.setId) ? path.join(repo.root, SETS_DIR, `${point.setId}.json`) : undefined;
  const set = setFile && existsSync(setFile) ? readSetRecord(setFile) : undefined;
  if (!set?.sharedDisks?.length) return { ...(await restoreVm(host, repo, vmNameOrId, options, events)), sharedDisks: [] };
  // Into the VM's destination; without --dest, the VM's folder under the host's default data root.
  const name = options.name ?? catalog.vmName;
  const root = options.destination !== undefined ? path.resolve(options.destination) : defaultDestination((await host.hostDefaultFolders()).externalDataRoot, name);
  const shared = await restoreSharedDisks(host, repo, set, [catalog.vmId], root);
  const mine = shared.byMember.get(catalog.vmId.toLowerCase());
  try {
    const r = await restoreVm(host, repo, catalog.vmId, { ...options, point: point.id, ...(mine ? { sharedDisks: mine } : {}) }, events);
    return { ...r, sharedDisks: shared.sets };
  } catch (e) {
    removeRestoredSharedDisks(shared);
    throw e;
  }
}
