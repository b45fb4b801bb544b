import { HvbError, crashPoint } from "../../base/mod";
import { type HyperVMethodError, isHyperVMethodError } from "../../hyperv/mod";
import { refuseSharedDisksAlone } from "./shared_disk_policy";
import type { Catalog, Consistency, PointRecord, PointWriter } from "../../repository/mod";
import type { Lock } from "../../repository/mod";
import type { Repository, VmStore } from "../../repository/mod";
import { pointId } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostVm } from "../host_api";
import { createBackupCheckpoint, destroyCheckpointPatiently, jobStillRuns } from "./checkpoints";
import { copyDisks } from "./copy";
import { removeLeftovers } from "./leftovers";
import { usableBase } from "../point_chain";
import { type DiskPlan, type Warn, kindOf, planDisks } from "./plan";
import { publishPoint } from "./publish";
import { reportForeignReferencePoints, rotateReferencePoints } from "./reference_points";
import { type PassThroughPolicy, applyPassThroughPolicy } from "./passthrough";
import { recordPendingJob, settlePendingJobs } from "./pending_jobs";
import { startSharedPool } from "../pipeline/worker_pool";

/** How a backup should run. */
export interface BackupOptions {
  /** Ignore any base and take a full backup. */
  full?: boolean;
  /** Consistency to ask the guest for (default application). */
  consistency?: Consistency;
  /** When application consistency fails: fall back to crash consistency (default) or fail. */
  fallbackToCrash?: boolean;
  /**
   * When RCT cannot be used but a base exists (old configuration version, VHD disk, reference
   * point or RCT id gone): find the changed units by hashing every unit and comparing with the
   * previous point, instead of taking a full copy of the disk (the default, with a warning).
   */
  hashChangeDetection?: boolean;
  /** Clear a lock left by a process that no longer runs. */
  clearStaleLock?: boolean;
  /** A VM with pass-through disks: back up its virtual disks with a warning (default) or refuse it (passthrough.ts). */
  passThrough?: PassThroughPolicy;
  /**
   * Stops the backup at its next safe point (before the checkpoint, after it, after planning,
   * before the publish): it then ends as a failed one does, checkpoint destroyed, staging
   * removed, lock released, and rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** What one VM's backup produced. */
export interface BackupResult {
  vmName: string;
  vmId: string;
  point: PointRecord;
  warnings: string[];
}

/**
 * Backs up one VM into the repository (DESIGN.md "Backup of one VM"): recovery checkpoint,
 * changed ranges per disk (RCT) or every allocated block (full), the checkpoint's
 * configuration, atomic publish, then reference point rotation. On any failure before the
 * publish the checkpoint is destroyed, the staging folder removed and the catalog untouched.
 * The catalog is read once, under the lock, and written twice: the commit, then the reference
 * points.
 */
export async function backupVm(host: HostApi, repo: Repository, vmNameOrId: string, options: BackupOptions, events: EngineEvents): Promise<BackupResult> {
  // The copy's workers boot while the host is asked about the VM and checkpoints it.
  startSharedPool();
  const vm = await host.findVm(vmNameOrId);
  const store = repo.vmStore(vm.name, vm.id);
  const lock = store.lock("backup", { clearStale: options.clearStaleLock ?? false });
  try {
    const catalog = store.readCatalog();
    for (const orphan of store.removeOrphans(catalog)) events.info(`Removed '${orphan}', left by an interrupted run`);
    // Removing a checkpoint merges the VM's disks back: read the VM again for its current files.
    const current = lock.cleared && (await removeLeftovers(host, catalog, vm, lock.cleared, events)) ? await host.refreshVm(vm) : vm;
    return await backupLocked({ host, store, catalog, vm: current, options, events, lock });
  } finally {
    lock.release();
  }
}

/** One backup with the VM's lock held and its catalog read. */
interface LockedBackup {
  host: HostApi;
  store: VmStore;
  catalog: Catalog;
  vm: HostVm;
  options: BackupOptions;
  events: EngineEvents;
  lock: Lock;
}

async function backupLocked(b: LockedBackup): Promise<BackupResult> {
  const { host, store, catalog, options, events, lock } = b;
  let vm = b.vm;
  const warnings: string[] = [];
  const warn: Warn = (message, code) => {
    warnings.push(message);
    events.warning(message, code);
  };
  const activity = `Backing up ${vm.name}`;
  refuseSharedDisksAlone(vm);
  applyPassThroughPolicy(vm, options.passThrough ?? "warn", warn);
  if (vm.disks.length === 0) throw new HvbError("VmHasNoDisks", `VM '${vm.name}' has no virtual hard disks to back up`, { category: "InvalidOperation", target: vm.name });
  if (catalog.pendingMerge) {
    throw new HvbError("PruneInterrupted", `A prune of '${vm.name}' was interrupted; run 'hvbackup prune' again to finish it before the next backup`, { category: "InvalidOperation", target: store.dir });
  }
  // The newest point, if its chain's files are what the catalog says (else a full, with a warning).
  // A job the last run had to leave running is settled first: never act while it runs (pending_jobs.ts).
  // Removing a checkpoint merges the VM's disks back: read the VM again for its current files.
  if (await settlePendingJobs(host, store, catalog, vm, warn, events)) vm = await host.refreshVm(vm);
  const last = options.full ? undefined : usableBase(store, catalog, warn);

  const hostRps = await host.listReferencePoints(vm);
  reportForeignReferencePoints(catalog, vm, hostRps, warn);

  // A recovery checkpoint already there was left by a backup that could not remove it (or
  // belongs to another product's running backup): never touched here, but said.
  const lingering = await host.listCheckpoints(vm, "recovery");
  for (const cp of lingering) {
    warn(`VM '${vm.name}' has a recovery checkpoint '${cp.name || cp.instanceId}' left by an earlier backup (or another product's running one); remove it with 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLingering");
  }
  // Noted in the lock before anything is made on the host: if this process dies, the run that
  // clears its stale lock knows what it left behind (see removeLeftovers).
  lock.note({ vmId: vm.id, checkpointsBefore: lingering.map((c) => c.instanceId), referencePointsBefore: hostRps.map((r) => r.instanceId) });

  options.signal?.throwIfAborted();
  // 1. Recovery checkpoint, with the consistency policy.
  events.progress({ activity, status: "Creating recovery checkpoint", percent: 0 });
  const { checkpoint, consistency } = await createBackupCheckpoint({
    host,
    vm,
    wanted: options.consistency ?? "application",
    fallbackToCrash: options.fallbackToCrash !== false,
    before: lingering.map((c) => c.instanceId),
    warn,
    events,
    onJobLeft: (job) => recordPendingJob(store, { ...job, pointId: "" }),
  });

  const time = new Date();
  let writer: PointWriter | undefined;
  let published = false;
  try {
    // Inside the block that removes the checkpoint on failure: a full disk that stops the lock
    // from recording it must not leave it behind.
    lock.note({ checkpoint: checkpoint.instanceId });
    crashPoint("backup-checkpoint-created");
    options.signal?.throwIfAborted();
    // 2. Decide per disk how to find its data (plan.ts), then copy it (copy.ts).
    const base = last;
    const plans: DiskPlan[] = [];
    let kind: "full" | "incremental";
    try {
      await planDisks({ host, vm, checkpoint, base, hostReferencePoints: hostRps, hashChangeDetection: options.hashChangeDetection === true, warn }, plans);
      options.signal?.throwIfAborted();
      kind = kindOf(plans);
      writer = store.beginPoint(pointId(time, kind));
      crashPoint("backup-staging-created");
      await copyDisks(plans, writer, { store, catalog, base, events, activity });
    } finally {
      for (const p of plans) p.source.close();
    }

    options.signal?.throwIfAborted();
    // 3. Configuration, manifest, publish (the catalog write is the commit point).
    const point = await publishPoint({
      host,
      checkpoint,
      writer,
      catalog,
      details: { time, kind, parentId: kind === "incremental" ? base!.id : null, consistency, vmId: vm.id, vmName: vm.name, warnings },
      events,
      activity,
    });
    published = true;
    crashPoint("backup-published");
    events.progress({ activity, status: "Creating reference point", percent: 96 });

    // 4. Reference point for the next incremental; drop the one we made last time.
    await rotateReferencePoints({
      host, store, catalog, point, vm, checkpoint, hostReferencePointsBefore: hostRps, warn,
      onJobLeft: (job) => recordPendingJob(store, { ...job, pointId: job.method === "ConvertToReferencePoint" ? point.id : "" }),
    });
    events.progress({ activity, status: "Done", percent: 100 });
    return { vmName: vm.name, vmId: vm.id, point, warnings };
  } catch (e) {
    if (!published) {
      // Never leave a checkpoint behind, nor half a point. The staging folder goes first: when
      // the repository shares a full volume with the VM, the host needs that space to merge the
      // checkpoint away. Each step runs whatever became of the other.
      try {
        writer?.abort();
      } catch (abortError) {
        events.warning(`Could not remove the unfinished point of '${vm.name}': ${(abortError as Error).message}; the next run removes it`, "StagingLeft");
      }
      try {
        // A job given up on (stalled, or stopped by the user) that the host still shows running
        // may still work on the checkpoint: it is left alone and recorded, for the next backup
        // to wait for and then remove the checkpoint (pending_jobs.ts). One that ended (a stopped
        // job is terminated) leaves the checkpoint to be removed as after any failure.
        const jobPath = isHyperVMethodError(e) ? e.jobPath : undefined;
        if (await jobStillRuns(host, e)) {
          if (!jobPath) throw e;
          recordPendingJob(store, { jobPath, method: (e as HyperVMethodError).method, checkpointId: checkpoint.instanceId, pointId: "" });
          events.warning(`The recovery checkpoint of '${vm.name}' is left to the ${(e as HyperVMethodError).method} job that did not finish here and may still work on it ('${jobPath}'); the job is recorded: the next backup waits for it to end, then removes the checkpoint`, "CheckpointJobRunning");
        } else {
          await destroyCheckpointPatiently(host, checkpoint);
        }
      } catch (cleanupError) {
        events.warning(`Could not remove the recovery checkpoint of '${vm.name}' after a failure: ${(cleanupError as Error).message}; run 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLeft");
      }
    }
    throw e;
  }
}
