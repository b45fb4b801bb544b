import { crashPoint } from "../../base/mod";
import { isHyperVMethodError, rctIdAt } from "../../hyperv/mod";
import type { Catalog, OurReferencePoint, PointRecord, VmStore } from "../../repository/mod";
import type { HostApi, HostCheckpoint, HostReferencePoint, HostVm } from "../host_api";
import { rctUnavailableReason } from "../readiness";
import { type JobLeft, destroyCheckpointPatiently, jobMayStillRun, jobStillRuns } from "./checkpoints";
import type { Warn } from "./plan";

/**
 * Reference points on the host that this repository did not make break other products' chains
 * and ours: say so (they are left alone).
 */
export function reportForeignReferencePoints(catalog: Catalog, vm: HostVm, hostRps: readonly HostReferencePoint[], warn: Warn): void {
  const ours = new Set(catalog.points.map((p) => p.referencePoint?.instanceId).filter((x): x is string => !!x));
  for (const rp of hostRps) {
    if (!ours.has(rp.instanceId)) {
      warn(`VM '${vm.name}' has reference point '${rp.instanceId}' that this repository did not make (another backup product, or an interrupted run: see 'hvbackup cleanup'); it is left alone`, "ForeignReferencePoint");
    }
  }
}

/** What {@link rotateReferencePoints} works on. */
export interface RotateInput {
  host: HostApi;
  store: VmStore;
  /** The catalog as committed with the new point (updated in memory and written once here). */
  catalog: Catalog;
  /** The new point's record, held in `catalog`. */
  point: PointRecord;
  vm: HostVm;
  checkpoint: HostCheckpoint;
  /** Reference points on the host before the backup made anything. */
  hostReferencePointsBefore: readonly HostReferencePoint[];
  warn: Warn;
  /** Told of a ConvertToReferencePoint or DestroySnapshot job given up on while it may still run (recorded for the next run). */
  onJobLeft?: JobLeft;
}

/**
 * After the publish: the checkpoint becomes the reference point for the next incremental, and
 * the ones this repository made before are destroyed on the host. The catalog is then written
 * once, with the new reference point and without the destroyed ones (one it could not destroy
 * stays recorded, so the next backup tries again). A crash before that write leaves the new
 * reference point unrecorded, which the run clearing the stale lock removes (leftovers.ts).
 */
export async function rotateReferencePoints(input: RotateInput): Promise<void> {
  const rp = await convertOrDestroy(input.host, input.checkpoint, input.vm, input.warn, input.onJobLeft);
  if (!rp) return;
  await adoptReferencePoint(input, rp);
}

/**
 * Records `rp` as the reference point of `input.point` (the newest) and destroys the ones the
 * repository made before; writes the catalog once. Also used by the next run when a
 * ConvertToReferencePoint job it had to leave running completed meanwhile (pending_jobs.ts).
 */
export async function adoptReferencePoint(input: Omit<RotateInput, "checkpoint" | "onJobLeft">, rp: HostReferencePoint): Promise<void> {
  const { host, catalog, point, vm, warn } = input;
  // The reference point says what the host achieved (an application-consistent request on a
  // guest that cannot give it yields a crash-consistent checkpoint).
  if (rp.consistencyLevel === 2 && point.consistency !== "crash") {
    point.consistency = "crash";
    const msg = `The guest of '${vm.name}' gave a crash-consistent checkpoint, not the application-consistent one asked for`;
    point.warnings.push(msg);
    warn(msg, "ConsistencyDowngraded");
  }
  point.referencePoint = recordOf(rp, vm, warn);
  for (const old of catalog.points.filter((x) => x !== point && x.referencePoint)) {
    const alive = input.hostReferencePointsBefore.find((r) => r.instanceId === old.referencePoint!.instanceId);
    if (alive) {
      try {
        await host.destroyReferencePoint(alive);
      } catch (e) {
        warn(`Could not remove the previous reference point '${alive.instanceId}' of '${vm.name}': ${(e as Error).message}`, "ReferencePointNotRemoved");
        continue;
      }
    }
    old.referencePoint = null;
  }
  input.store.writeCatalog(catalog);
  crashPoint("backup-reference-point-recorded");
}

/**
 * What the catalog keeps of a new reference point: per disk index, the RCT id the next backup
 * asks changes from. ResilientChangeTrackingIdentifiers is index-aligned with
 * VirtualDiskIdentifiers (the disks' resource InstanceIDs), whose order the docs leave open:
 * each disk takes the id listed at its own location. A disk the reference point does not list
 * gets no id, so the next backup copies it in full with a warning, never a neighbour's id.
 */
export function recordOf(rp: HostReferencePoint, vm: HostVm, warn: Warn): OurReferencePoint {
  const rctIds: Record<string, string> = {};
  for (const d of vm.disks) {
    const id = rctIdAt(rp, d.location);
    if (id === undefined && !rctUnavailableReason(vm, d)) {
      warn(`Reference point '${rp.instanceId}' of '${vm.name}' lists no change tracking id for disk ${d.index} (location '${d.location}'); the next backup copies that disk in full`, "RctNoId");
    }
    rctIds[String(d.index)] = id ?? "";
  }
  return { instanceId: rp.instanceId, rctIds, diskPaths: Object.fromEntries(vm.disks.map((d) => [String(d.index), d.hostResource])) };
}

/**
 * DestroySnapshot after the publish: a failure is a warning. A job given up on that the host
 * still shows running is recorded (the next backup waits for it to end, then removes the
 * checkpoint if it is still there), never followed by another call on the checkpoint.
 */
async function destroyAfterPublish(host: HostApi, checkpoint: HostCheckpoint, vm: HostVm, warn: Warn, onJobLeft?: JobLeft): Promise<void> {
  try {
    await destroyCheckpointPatiently(host, checkpoint);
  } catch (cleanupError) {
    const jobPath = isHyperVMethodError(cleanupError) ? cleanupError.jobPath : undefined;
    if (jobPath && onJobLeft && (await jobStillRuns(host, cleanupError))) {
      onJobLeft({ jobPath, method: "DestroySnapshot", checkpointId: checkpoint.instanceId });
      warn(`Removing the recovery checkpoint of '${vm.name}' did not finish here (${(cleanupError as Error).message}); its job is recorded: the next backup waits for it to end, then removes the checkpoint if it is still there`, "CheckpointJobRunning");
      return;
    }
    warn(`Could not remove the recovery checkpoint of '${vm.name}': ${(cleanupError as Error).message}; run 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLeft");
  }
}

async function convertOrDestroy(host: HostApi, checkpoint: HostCheckpoint, vm: HostVm, warn: Warn, onJobLeft?: JobLeft): Promise<HostReferencePoint | undefined> {
  if (rctUnavailableReason(vm)) {
    // Without RCT a reference point would carry nothing useful. The point is published: a
    // checkpoint that will not go away is a warning, not a failed backup.
    await destroyAfterPublish(host, checkpoint, vm, warn, onJobLeft);
    return undefined;
  }
  try {
    return await host.convertToReferencePoint(checkpoint);
  } catch (e) {
    if (jobMayStillRun(e)) {
      // The merge may still be running on the checkpoint: touching it now could break the
      // VM's disk chain. Leave it, and record the job: the next backup waits for it to end,
      // then takes the reference point it made or removes the checkpoint (pending_jobs.ts).
      const jobPath = isHyperVMethodError(e) ? e.jobPath : undefined;
      // A job the user stopped is given its moment to show it stopped (Shutting Down, then
      // Terminated), so the next run finds it ended; it is recorded either way: the next run
      // removes what it made, or waits for it (pending_jobs.ts).
      await jobStillRuns(host, e);
      if (jobPath && onJobLeft) onJobLeft({ jobPath, method: "ConvertToReferencePoint", checkpointId: checkpoint.instanceId });
      warn(
        `Turning the recovery checkpoint of '${vm.name}' into a reference point did not finish here (${(e as Error).message}); the checkpoint is left alone while its job may still run. ${jobPath && onJobLeft ? "The job is recorded: the next backup finishes it (or removes the checkpoint) before anything else" : `The next backup is a full copy; remove the checkpoint with 'hvbackup cleanup --vm ${vm.name}' once the job has ended`}`,
        "ReferencePointJobRunning",
      );
      return undefined;
    }
    warn(`Could not turn the recovery checkpoint of '${vm.name}' into a reference point (${(e as Error).message}); the next backup will be a full copy (or, with --hash-changes, find changes by hashing)`, "ReferencePointFailed");
    await destroyAfterPublish(host, checkpoint, vm, warn, onJobLeft);
    return undefined;
  }
}
