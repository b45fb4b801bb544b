import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError, crashPoint } from "../../base/mod";
import type { GroupReferencePoint, GroupSnapshot, VmGroup } from "../../hyperv/mod";
import {
  type Catalog,
  type Consistency,
  type Lock,
  type PointRecord,
  type PointWriter,
  type Repository,
  SETS_DIR,
  type SetRecord,
  type SetSharedDisk,
  sharedDiskDir,
  type VmStore,
  listSetRecords,
  pointId,
  setId as makeSetId,
  writeSetRecord,
} from "../../repository/mod";
import type { BackupOptions, BackupResult } from "../backup/backup";
import { destroyCheckpointPatiently, guestCouldNotTakePart, jobStillRuns } from "../backup/checkpoints";
import { settlePendingJobs } from "../backup/pending_jobs";
import { achievedConsistency, requestedLevel } from "../backup/consistency";
import { applyPassThroughPolicy } from "../backup/passthrough";
import { copyDisks } from "../backup/copy";
import { type DiskPlan, type Warn, kindOf, planDisks } from "../backup/plan";
import { recordOf, reportForeignReferencePoints } from "../backup/reference_points";
import type { EngineEvents } from "../events";
import type { HostApi, HostReferencePoint, HostVm } from "../host_api";
import { rctUnavailableReason } from "../readiness";
import { rollBackInterruptedSets, rollBackSet } from "./set_commit";
import { copySharedDisks, dropLingeringVhdSetSnapshots, sharedDisksOf } from "./shared_disks";
import { refuseSharedVhdx } from "../backup/shared_disk_policy";

/** What a backup of a VM group produced: one point per member, all in one set. */
export interface GroupBackupResult {
  setId: string;
  groupName: string;
  groupId: string;
  members: BackupResult[];
  warnings: string[];
}

/** One member while its group is backed up. */
interface Member {
  vm: HostVm;
  store: VmStore;
  lock: Lock;
  catalog: Catalog;
  hostRps: HostReferencePoint[];
  warnings: string[];
  writer: PointWriter | undefined;
  kind: "full" | "incremental";
  base: PointRecord | undefined;
}

/**
 * Backs up every member of a VM group as one set (docs/design/repository.md "Backup sets"):
 * one recovery checkpoint of the group (Msvm_CollectionSnapshotService), so the members' disks
 * are cut at one moment; each member's changed ranges (RCT) or allocated blocks copied into its
 * own staged point; the members' configurations exported together; the checkpoint turned into
 * the group's reference point; then the set commit: the set record (`committing`), every
 * member's catalog, the set record again (`committed`). Any failure before that last write
 * leaves no member with a new point and nothing on the host (no checkpoint, no collection, no
 * new reference point).
 */
export async function backupGroup(host: HostApi, repo: Repository, groupNameOrId: string, options: BackupOptions, events: EngineEvents): Promise<GroupBackupResult> {
  const group = await host.findGroup(groupNameOrId);
  if (group.members.length === 0) {
    throw new HvbError("InvalidArgument", `VM group '${group.name}' has no members to back up`, { category: "InvalidArgument", target: group.name });
  }
  const warnings: string[] = [];
  const locked = new Map<string, Member>();
  // Locks in VM id order, so two runs over overlapping groups cannot each hold half.
  const ordered = [...group.members].sort((a, b) => a.id.localeCompare(b.id));
  try {
    for (const vm of ordered) {
      const store = repo.vmStore(vm.name, vm.id);
      const lock = store.lock("backup", { clearStale: options.clearStaleLock ?? false });
      locked.set(vm.id, { vm, store, lock, catalog: undefined as unknown as Catalog, hostRps: [], warnings: [], writer: undefined, kind: "full", base: undefined });
    }
    // Worked on and reported in the group's member order.
    const members = group.members.map((vm) => locked.get(vm.id)!);
    return await backupLocked(host, repo, group, members, options, events, warnings);
  } finally {
    for (const m of locked.values()) m.lock.release();
  }
}

async function backupLocked(host: HostApi, repo: Repository, groupFound: VmGroup, members: Member[], options: BackupOptions, events: EngineEvents, warnings: string[]): Promise<GroupBackupResult> {
  let group = groupFound;
  const activity = `Backing up group ${group.name}`;
  const warnAll: Warn = (message, code) => {
    warnings.push(message);
    events.warning(message, code);
  };
  const storeOf = (vmId: string, vmName: string): VmStore => members.find((m) => m.vm.id.toLowerCase() === vmId.toLowerCase())?.store ?? repo.vmStore(vmName, vmId);

  // What an interrupted run left: a set caught mid-commit is rolled back, with the reference
  // point collection it had made; a group checkpoint or reference point its locks noted goes.
  for (const set of rollBackInterruptedSets(repo, group.id, storeOf, events)) {
    if (set.referencePoint) await destroyGroupReferencePointById(host, group, set.referencePoint.id, warnAll);
  }
  if (await removeNotedLeftovers(host, repo, group, members, events, warnAll)) {
    // Removing a checkpoint merges the members' disks back: read them again for their current files.
    for (const m of members) m.vm = await host.refreshVm(m.vm);
    group = { ...group, members: members.map((m) => m.vm) };
  }
  cleanExportFolders(repo, group.id);

  for (const m of members) {
    m.catalog = m.store.readCatalog();
    for (const orphan of m.store.removeOrphans(m.catalog)) events.info(`Removed '${orphan}', left by an interrupted run`);
    if (m.catalog.pendingMerge) {
      throw new HvbError("PruneInterrupted", `A prune of '${m.vm.name}' was interrupted; run 'hvbackup prune' again to finish it before the next backup`, { category: "InvalidOperation", target: m.store.dir });
    }
    // A shared VHDX cannot be checkpointed: refused before anything is made on the host.
    refuseSharedVhdx(m.vm);
    applyPassThroughPolicy(m.vm, options.passThrough ?? "warn", warnOf(m, events));
    if (m.vm.disks.length === 0) throw new HvbError("VmHasNoDisks", `VM '${m.vm.name}' of group '${group.name}' has no virtual hard disks to back up`, { category: "InvalidOperation", target: m.vm.name });
    // A job a backup of the member alone had to leave running is settled first: never act
    // while it runs (pending_jobs.ts).
    if (await settlePendingJobs(host, m.store, m.catalog, m.vm, warnOf(m, events), events)) {
      // Its checkpoint was removed, which merges the member's disks back: read it again.
      m.vm = await host.refreshVm(m.vm);
      group = { ...group, members: members.map((x) => x.vm) };
    }
    m.hostRps = await host.listReferencePoints(m.vm);
    reportForeignReferencePoints(m.catalog, m.vm, m.hostRps, warnOf(m, events));
  }
  const snapsBefore = await host.listGroupSnapshots(group);
  for (const s of snapsBefore) {
    warnAll(`VM group '${group.name}' has a checkpoint '${s.id}' left by an earlier backup (or another product's running one); it is left alone`, "CheckpointLingering");
  }

  // The guest cluster's VHD Sets, each copied once for the set (shared_disks.ts).
  const shared = sharedDisksOf(members.map((m) => m.vm));

  // 1. One recovery checkpoint of the whole group, with the consistency policy of one VM.
  events.progress({ activity, status: "Creating recovery checkpoint of the group", percent: 0 });
  const wanted = options.consistency ?? "application";
  let consistency: Consistency = wanted;
  let snap: GroupSnapshot;
  try {
    snap = await host.createGroupRecoverySnapshot(group, requestedLevel(wanted));
  } catch (e) {
    // As for one VM (checkpoints.ts): crash consistency only when the job itself ran and failed
    // for a guest, and only once it is known that it left no checkpoint of the group.
    const made = await removeGroupSnapshotsMadeBy(host, group, snapsBefore, e, warnAll);
    if (wanted === "crash" || options.fallbackToCrash === false || !guestCouldNotTakePart(e) || made !== 0) throw e;
    warnAll(`Application-consistent checkpoint of group '${group.name}' failed (${(e as Error).message}); taking a crash-consistent one of every member instead`, "ConsistencyFallback");
    consistency = "crash";
    try {
      snap = await host.createGroupRecoverySnapshot(group, "crash");
    } catch (crashError) {
      await removeGroupSnapshotsMadeBy(host, group, snapsBefore, crashError, warnAll);
      throw crashError;
    }
  }
  for (const m of members) m.lock.note({ vmId: m.vm.id, groupId: group.id, groupSnapshot: snap.id });
  crashPoint("set-checkpoint-created");

  const time = new Date();
  const id = makeSetId(time, group.id);
  const exportDir = path.join(repo.root, SETS_DIR, `${id}.export`);
  let rpCollection: GroupReferencePoint | undefined;
  let snapAlive = true;
  let set: SetRecord | undefined;
  let sharedRecords: SetSharedDisk[] = [];
  try {
    // 2. Each member's disks into its own staged point.
    for (const [n, m] of members.entries()) {
      const checkpoint = snap.checkpoints.find((c) => c.vmId.toLowerCase() === m.vm.id.toLowerCase());
      if (!checkpoint) throw new HvbError("CheckpointNotFound", `The checkpoint of group '${group.name}' has no checkpoint of member '${m.vm.name}'`, { category: "InvalidData", target: group.name });
      const last = m.catalog.points[m.catalog.points.length - 1];
      m.base = options.full ? undefined : last;
      const plans: DiskPlan[] = [];
      try {
        await planDisks({ host, vm: m.vm, checkpoint, base: m.base, hostReferencePoints: m.hostRps, hashChangeDetection: options.hashChangeDetection === true, warn: warnOf(m, events) }, plans);
        m.kind = kindOf(plans);
        m.writer = m.store.beginPoint(pointId(time, m.kind));
        const memberActivity = `${activity}: ${m.vm.name} (${n + 1} of ${members.length})`;
        await copyDisks(plans, m.writer, { store: m.store, catalog: m.catalog, base: m.base, events, activity: memberActivity });
      } finally {
        for (const p of plans) p.source.close();
      }
      crashPoint("set-member-copied");
    }

    // 2b. Each VHD Set once, from the snapshot the group checkpoint took of it.
    if (shared.length > 0) {
      sharedRecords = await copySharedDisks({ host, repo, groupId: group.id, groupName: group.name, setId: id, snap, full: options.full === true, warn: warnAll, events }, shared);
      crashPoint("set-shared-copied");
    }

    // 3. Every member's configuration, exported together, into its point.
    events.progress({ activity, status: "Exporting configurations", percent: 92 });
    mkdirSync(exportDir, { recursive: true });
    await host.exportGroupSnapshot(snap, exportDir);
    for (const m of members) {
      const from = memberExportDir(exportDir, m.vm.id, group.name);
      for (const entry of readdirSync(from)) renameSync(path.join(from, entry), path.join(m.writer!.staging, entry));
      m.writer!.addConfiguration();
    }
    rmSync(exportDir, { recursive: true, force: true });
    crashPoint("set-config-exported");

    // 4. The checkpoint becomes the group's reference point (before the commit, so that a
    // failure here too leaves nothing: the set record names it for a rollback).
    events.progress({ activity, status: "Creating reference point", percent: 95 });
    const noRct = members.map((m) => ({ m, why: rctUnavailableReason(m.vm) })).filter((x) => x.why !== undefined);
    if (noRct.length > 0) {
      // A reference point of the group would carry nothing for such a member (the host refuses
      // to make one): the checkpoint goes, and the next backup of the group copies in full.
      for (const { m, why } of noRct) {
        warnOf(m, events)(`'${m.vm.name}' of group '${group.name}' cannot use Resilient Change Tracking (${why}); the next backup of the group copies every disk in full (or, with --hash-changes, finds the changes by hashing)`, "RctUnavailable");
      }
      await destroyGroupSnapshot(host, snap, warnAll);
      snapAlive = false;
    } else {
      rpCollection = await host.convertGroupSnapshotToReferencePoint(snap);
      snapAlive = false;
      for (const m of members) m.lock.note({ groupReferencePoint: rpCollection.id });
      crashPoint("set-reference-point-created");
    }

    // 5. The set commit.
    set = {
      format: "HyperVBackup.Set",
      // Version 2 only when the set has shared disks: other sets stay readable by older releases.
      version: sharedRecords.length > 0 ? 2 : 1,
      id,
      groupId: group.id,
      groupName: group.name,
      time: time.toISOString(),
      state: "committing",
      members: members.map((m) => ({ vmId: m.vm.id, vmName: m.vm.name, pointId: m.writer!.id })),
      ...(sharedRecords.length > 0 ? { sharedDisks: sharedRecords } : {}),
      referencePoint: rpCollection ? { id: rpCollection.id } : null,
    };
    writeSetRecord(repo.root, set);
    crashPoint("set-record-committing");
    const results: BackupResult[] = [];
    for (const m of members) {
      const point = m.writer!.commit(m.catalog, {
        time,
        kind: m.kind,
        parentId: m.kind === "incremental" ? m.base!.id : null,
        consistency: achievedConsistency(m.vm, requestedLevel(consistency)),
        vmId: m.vm.id,
        vmName: m.vm.name,
        warnings: m.warnings,
        setId: id,
      });
      if (rpCollection) recordReferencePoint(m, point, rpCollection, events);
      m.store.writeCatalog(m.catalog);
      results.push({ vmName: m.vm.name, vmId: m.vm.id, point, warnings: m.warnings });
      crashPoint("set-member-published");
    }
    set.state = "committed";
    writeSetRecord(repo.root, set);
    crashPoint("set-committed");

    // 6. The group's previous reference points go (they are only ever needed by the newest set).
    await rotateGroupReferencePoints(host, repo, group, members, set, warnAll);
    events.progress({ activity, status: "Done", percent: 100 });
    return { setId: id, groupName: group.name, groupId: group.id, members: results, warnings };
  } catch (e) {
    if (set?.state !== "committed") {
      // Never leave a checkpoint, a reference point nor half a set behind.
      if (set) rollBackSet(repo, set, storeOf, events);
      for (const m of members) m.writer?.abort();
      rmSync(exportDir, { recursive: true, force: true });
      if (rpCollection) await destroyGroupReferencePoint(host, rpCollection, warnAll);
      if (snapAlive) {
        // A job given up on (stalled, or stopped and not yet ended) may still work on the
        // group's checkpoint (a ConvertToReferencePoint merging it, an export reading it).
        if (await jobStillRuns(host, e)) {
          warnAll(`The checkpoint of group '${group.name}' is left alone while the job given up on may still work on it (${(e as Error).message}); once the job has ended, remove it with 'hvbackup cleanup' for each member`, "CheckpointJobRunning");
        } else {
          await destroyGroupSnapshot(host, snap, warnAll);
        }
      }
      rmSync(path.join(repo.root, sharedDiskDir(id)), { recursive: true, force: true });
      // The host removes a VHD Set's snapshot with the group's checkpoint; one still listed goes on its own.
      await dropLingeringVhdSetSnapshots(host, shared, snap, warnAll);
    }
    throw e;
  }
}

function warnOf(m: Member, events: EngineEvents): Warn {
  return (message, code) => {
    m.warnings.push(message);
    events.warning(message, code);
  };
}

/** Where the host exported a member's configuration: `<dir>/<VM id>/` (any case). */
function memberExportDir(dir: string, vmId: string, groupName: string): string {
  const found = readdirSync(dir).find((n) => n.toLowerCase() === vmId.toLowerCase());
  if (!found) throw new HvbError("HyperVUnexpectedData", `ExportSnapshot of group '${groupName}' wrote no configuration for member ${vmId} in '${dir}'`, { category: "InvalidData", target: dir });
  return path.join(dir, found);
}

/** Member reference point of the new set into its point record, with the consistency it shows. */
function recordReferencePoint(m: Member, point: PointRecord, rpc: GroupReferencePoint, events: EngineEvents): void {
  const rp = rpc.referencePoints.find((r) => r.vmId.toLowerCase() === m.vm.id.toLowerCase());
  if (!rp) return;
  if (rp.consistencyLevel === 2 && point.consistency !== "crash") {
    point.consistency = "crash";
    const msg = `The guest of '${m.vm.name}' gave a crash-consistent checkpoint, not the application-consistent one asked for`;
    point.warnings.push(msg);
    m.warnings.push(msg);
    events.warning(msg, "ConsistencyDowngraded");
  }
  point.referencePoint = recordOf(rp, m.vm, warnOf(m, events));
}

/**
 * Destroys the reference point collections of the group's earlier sets and clears their
 * records (set and member points). One the host refuses to remove stays recorded, to be tried
 * again by the next backup.
 */
async function rotateGroupReferencePoints(host: HostApi, repo: Repository, group: VmGroup, members: Member[], current: SetRecord, warn: Warn): Promise<void> {
  const alive = new Map((await host.listGroupReferencePoints(group)).map((r) => [r.id.toLowerCase(), r]));
  for (const old of listSetRecords(repo.root)) {
    if (old.id === current.id || old.groupId.toLowerCase() !== group.id.toLowerCase() || !old.referencePoint) continue;
    const rpc = alive.get(old.referencePoint.id.toLowerCase());
    if (rpc && !(await destroyGroupReferencePoint(host, rpc, warn))) continue;
    old.referencePoint = null;
    writeSetRecord(repo.root, old);
  }
  const kept = new Set(current.members.map((m) => m.pointId));
  for (const m of members) {
    let changed = false;
    for (const p of m.catalog.points) {
      if (kept.has(p.id) && p.setId === current.id) continue;
      if (!p.referencePoint) continue;
      // A reference point of an earlier backup of this VM alone is destroyed on its own.
      const single = m.hostRps.find((r) => r.instanceId === p.referencePoint!.instanceId);
      if (single && p.setId === undefined) {
        try {
          await host.destroyReferencePoint(single);
        } catch (e) {
          warn(`Could not remove the previous reference point '${single.instanceId}' of '${m.vm.name}': ${(e as Error).message}`, "ReferencePointNotRemoved");
          continue;
        }
      }
      p.referencePoint = null;
      changed = true;
    }
    if (changed) m.store.writeCatalog(m.catalog);
  }
}

/** DestroySnapshot of the group; if the host refuses, each member checkpoint on its own. */
async function destroyGroupSnapshot(host: HostApi, snap: GroupSnapshot, warn: Warn): Promise<void> {
  try {
    await host.destroyGroupSnapshot(snap);
    return;
  } catch (e) {
    // The group's DestroySnapshot given up on may still be merging: its members are not touched.
    if (await jobStillRuns(host, e)) {
      warn(`The checkpoint of group '${snap.groupName}' is being removed by a job that did not finish here (${(e as Error).message}); its members' checkpoints are left to it`, "CheckpointJobRunning");
      return;
    }
    warn(`Could not remove the checkpoint of group '${snap.groupName}' (${(e as Error).message}); removing each member's checkpoint instead`, "CheckpointLeft");
  }
  for (const cp of snap.checkpoints) {
    try {
      await destroyCheckpointPatiently(host, cp);
    } catch (e) {
      warn(`Could not remove the recovery checkpoint of '${cp.vmName}' after a failure: ${(e as Error).message}; run 'hvbackup cleanup --vm ${cp.vmName}'`, "CheckpointLeft");
    }
  }
}

/**
 * After a failed CreateSnapshot of the group: removes the group checkpoints that were not there
 * before (the call made them) and returns how many it found; undefined when that cannot be
 * told (the job still runs, or the host cannot list them), which rules out a retry.
 */
async function removeGroupSnapshotsMadeBy(host: HostApi, group: VmGroup, before: readonly GroupSnapshot[], error: unknown, warn: Warn): Promise<number | undefined> {
  if (await jobStillRuns(host, error)) {
    warn(`The CreateSnapshot job of group '${group.name}' is still running on the host; the checkpoint it makes is left to it: remove it with 'hvbackup cleanup' for each member once the job has ended`, "CheckpointJobRunning");
    return undefined;
  }
  let now: GroupSnapshot[];
  try {
    now = await host.listGroupSnapshots(group);
  } catch (listError) {
    warn(`Could not check whether the failed CreateSnapshot left a checkpoint of group '${group.name}' (${(listError as Error).message}); run 'hvbackup cleanup' for each member`, "CheckpointLeft");
    return undefined;
  }
  const known = new Set(before.map((b) => b.id.toLowerCase()));
  const made = now.filter((x) => !known.has(x.id.toLowerCase()));
  for (const x of made) await destroyGroupSnapshot(host, x, warn);
  return made.length;
}

/** DestroyReferencePoint of a reference point collection; if refused, each member reference point. True when all went. */
async function destroyGroupReferencePoint(host: HostApi, rpc: GroupReferencePoint, warn: Warn): Promise<boolean> {
  try {
    await host.destroyGroupReferencePoint(rpc);
    return true;
  } catch (e) {
    warn(`Could not remove the reference point of group '${rpc.groupName}' (${(e as Error).message}); removing each member's reference point instead`, "ReferencePointNotRemoved");
  }
  let all = true;
  for (const rp of rpc.referencePoints) {
    try {
      await host.destroyReferencePoint(rp);
    } catch (e) {
      all = false;
      warn(`Could not remove reference point '${rp.instanceId}' of group '${rpc.groupName}': ${(e as Error).message}`, "ReferencePointNotRemoved");
    }
  }
  return all;
}

async function destroyGroupReferencePointById(host: HostApi, group: VmGroup, id: string, warn: Warn): Promise<void> {
  const rpc = (await host.listGroupReferencePoints(group)).find((r) => r.id.toLowerCase() === id.toLowerCase());
  if (rpc) await destroyGroupReferencePoint(host, rpc, warn);
}

/**
 * After a backup of the group died (its members' stale locks cleared with --clear-stale-lock):
 * the group checkpoint or reference point collection its locks noted, if still there and not
 * recorded by a committed set, is removed. True when a checkpoint was removed (the members'
 * disk files changed).
 */
async function removeNotedLeftovers(host: HostApi, repo: Repository, group: VmGroup, members: Member[], events: EngineEvents, warn: Warn): Promise<boolean> {
  let removed = false;
  const noted = members.map((m) => m.lock.cleared?.progress).filter((p): p is Record<string, unknown> => !!p && String(p["groupId"] ?? "").toLowerCase() === group.id.toLowerCase());
  const snapIds = new Set(noted.map((p) => p["groupSnapshot"]).filter((x): x is string => typeof x === "string").map((x) => x.toLowerCase()));
  const rpIds = new Set(noted.map((p) => p["groupReferencePoint"]).filter((x): x is string => typeof x === "string").map((x) => x.toLowerCase()));
  if (snapIds.size > 0) {
    for (const s of await host.listGroupSnapshots(group)) {
      if (!snapIds.has(s.id.toLowerCase())) continue;
      await destroyGroupSnapshot(host, s, warn);
      removed = true;
      events.info(`Removed checkpoint '${s.id}' of group '${group.name}', left by the interrupted backup`);
    }
  }
  if (rpIds.size > 0) {
    // Read after interrupted sets were rolled back: a collection a committed set records is kept.
    const recorded = new Set(listSetRecords(repo.root).map((s) => s.referencePoint?.id.toLowerCase()).filter((x): x is string => !!x));
    for (const rpc of await host.listGroupReferencePoints(group)) {
      if (!rpIds.has(rpc.id.toLowerCase()) || recorded.has(rpc.id.toLowerCase())) continue;
      await destroyGroupReferencePoint(host, rpc, warn);
      events.info(`Removed reference point '${rpc.id}' of group '${group.name}', made by the interrupted backup but never recorded`);
    }
  }
  return removed;
}

/** Export folders and unrecorded shared disk folders of this group left by an interrupted run (never a set record). */
function cleanExportFolders(repo: Repository, groupId: string): void {
  const dir = path.join(repo.root, SETS_DIR);
  if (!existsSync(dir)) return;
  const tag = `-${groupId.replace(/[^0-9A-Fa-f]/g, "").slice(0, 8).toLowerCase()}`;
  for (const n of readdirSync(dir)) {
    // An export folder, or shared disk files no set record names (a run died before its record).
    const orphanShared = n.endsWith(`${tag}.shared`) && !existsSync(path.join(dir, n.replace(/\.shared$/, ".json")));
    if (n.endsWith(`${tag}.export`) || orphanShared) rmSync(path.join(dir, n), { recursive: true, force: true });
  }
}
