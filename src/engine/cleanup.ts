import type { Repository } from "../repository/mod";
import type { EngineEvents } from "./events";
import type { HostApi } from "./host_api";
import { refuseWhilePendingJobsRun } from "./backup/pending_jobs";

/** What cleanup found and did. */
export interface CleanupResult {
  vmName: string;
  removedCheckpoints: string[];
  removedReferencePoints: string[];
  /** Reference points left alone: in use by the newest backup, or not made by this repository. */
  keptReferencePoints: Array<{ instanceId: string; reason: string }>;
  dryRun: boolean;
}

/**
 * Removes what interrupted backups leave on a host: recovery checkpoints (a VM with one cannot
 * be backed up again and its disks grow) and, given the repository, reference points this
 * repository made that its catalog no longer needs. Reference points of other products are
 * reported and left alone. With the repository given, the VM's lock is taken so a running
 * backup's checkpoint is never touched, and nothing is done while a job a backup recorded as
 * left running (pending_jobs.ts) still runs on the host.
 */
export async function cleanupVm(host: HostApi, vmNameOrId: string, repo: Repository | undefined, events: EngineEvents, options: { dryRun?: boolean; clearStaleLock?: boolean } = {}): Promise<CleanupResult> {
  const vm = await host.findVm(vmNameOrId);
  const store = repo ? repo.listVms().find((s) => s.readCatalog().vmId.toLowerCase() === vm.id.toLowerCase()) : undefined;
  const lock = store?.lock("cleanup", { clearStale: options.clearStaleLock ?? false });
  try {
    const result: CleanupResult = { vmName: vm.name, removedCheckpoints: [], removedReferencePoints: [], keptReferencePoints: [], dryRun: options.dryRun ?? false };
    // A job a backup had to leave running may still work on a checkpoint (issue 13 A6): nothing
    // is touched until it ended (the next backup then settles it).
    if (store && !result.dryRun) await refuseWhilePendingJobsRun(host, store, vm, "cleanup removes nothing");
    for (const cp of await host.listCheckpoints(vm, "recovery")) {
      events.info(`${result.dryRun ? "Would remove" : "Removing"} recovery checkpoint '${cp.name || cp.instanceId}' of '${vm.name}'`);
      if (!result.dryRun) await host.destroyCheckpoint(cp);
      result.removedCheckpoints.push(cp.instanceId);
    }
    const catalog = store?.readCatalog();
    const newest = catalog?.points[catalog.points.length - 1];
    const ours = new Set(catalog?.points.map((p) => p.referencePoint?.instanceId).filter((x): x is string => !!x) ?? []);
    for (const rp of await host.listReferencePoints(vm)) {
      if (newest?.referencePoint?.instanceId === rp.instanceId) {
        result.keptReferencePoints.push({ instanceId: rp.instanceId, reason: "the base of the next incremental backup" });
      } else if (ours.has(rp.instanceId)) {
        events.info(`${result.dryRun ? "Would remove" : "Removing"} reference point '${rp.instanceId}' of '${vm.name}' (no longer needed)`);
        if (!result.dryRun) {
          await host.destroyReferencePoint(rp);
          const c = store!.readCatalog();
          for (const p of c.points) if (p.referencePoint?.instanceId === rp.instanceId) p.referencePoint = null;
          store!.writeCatalog(c);
        }
        result.removedReferencePoints.push(rp.instanceId);
      } else {
        const reason = store ? "not made by this repository (another backup product?)" : "no repository given, so it cannot be told apart from other products' (use --repo)";
        events.warning(`Reference point '${rp.instanceId}' of '${vm.name}' left alone: ${reason}`, "ForeignReferencePoint");
        result.keptReferencePoints.push({ instanceId: rp.instanceId, reason });
      }
    }
    return result;
  } finally {
    lock?.release();
  }
}
