import { isHvbError } from "../../base/mod";
import { JOB_STARTED, isJobActive } from "../../cim/mod";
import { isHyperVMethodError } from "../../hyperv/mod";
import type { Consistency } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostCheckpoint, HostVm } from "../host_api";
import type { Warn } from "./plan";
import { achievedConsistency, requestedLevel } from "./consistency";

/**
 * DestroySnapshot, tried again after a pause when the host refuses (a VM busy with another
 * operation refuses for a moment): a checkpoint left behind makes the VM's disks grow and
 * blocks later backups, so it is worth a few seconds.
 */
export async function destroyCheckpointPatiently(host: HostApi, checkpoint: HostCheckpoint): Promise<void> {
  const pauses = [500, 2000];
  for (let attempt = 0; ; attempt++) {
    try {
      await host.destroyCheckpoint(checkpoint);
      return;
    } catch (e) {
      // A job that timed out or was stopped may still be merging: never start another on it.
      if (attempt >= pauses.length || !isHvbError(e) || jobMayStillRun(e)) throw e;
      await new Promise((r) => setTimeout(r, pauses[attempt]));
      // Already gone (e.g. the failed call did remove it): done.
      const still = await host.listCheckpoints({ id: checkpoint.vmId, name: checkpoint.vmName, path: checkpoint.vmPath }, "recovery").catch(() => undefined);
      if (still && !still.some((c) => c.instanceId === checkpoint.instanceId)) return;
    }
  }
}

/** What {@link createBackupCheckpoint} needs. */
export interface BackupCheckpointRequest {
  host: HostApi;
  vm: HostVm;
  wanted: Consistency;
  /** Retry crash-consistent when the guest could not take part in an application-consistent one. */
  fallbackToCrash: boolean;
  /** InstanceIDs of the VM's recovery checkpoints before this run (never touched). */
  before: readonly string[];
  warn: Warn;
  events: EngineEvents;
  /** Told of a CreateSnapshot job given up on that still runs (recorded for the next run: pending_jobs.ts). */
  onJobLeft?: JobLeft;
}

/** Receives a job given up on that the host still shows running, to be recorded (pending_jobs.ts). */
export type JobLeft = (job: { jobPath: string; method: string; checkpointId: string }) => void;

/**
 * CreateSnapshot with the consistency policy, covering every way it can fail after the host
 * made a checkpoint. After any failure the VM's recovery checkpoints are searched for one this
 * call made (a job lost in a host crash, a job that failed after the checkpoint was taken) and
 * each is removed; a job that still runs is left alone (acting on its checkpoint meanwhile is
 * unsafe) and said. Crash consistency is tried instead only when the CreateSnapshot job itself
 * ran and failed (the guest could not take part: its VSS) and no checkpoint was made; a refused
 * call, a timeout, a lost job or any other error fails the backup.
 */
export async function createBackupCheckpoint(r: BackupCheckpointRequest): Promise<{ checkpoint: HostCheckpoint; consistency: Consistency }> {
  try {
    const level = requestedLevel(r.wanted);
    return { checkpoint: await r.host.createRecoveryCheckpoint(r.vm, level), consistency: achievedConsistency(r.vm, level) };
  } catch (e) {
    const made = await removeCheckpointsMadeBy(r, e);
    if (r.wanted === "crash" || !r.fallbackToCrash || !guestCouldNotTakePart(e) || made !== 0) throw e;
    r.warn(`${r.wanted === "file-system" ? "File-system" : "Application"}-consistent checkpoint of '${r.vm.name}' failed (${(e as Error).message}); taking a crash-consistent one instead`, "ConsistencyFallback");
  }
  try {
    return { checkpoint: await r.host.createRecoveryCheckpoint(r.vm, "crash"), consistency: "crash" };
  } catch (e) {
    await removeCheckpointsMadeBy(r, e);
    throw e;
  }
}

/**
 * True when the CreateSnapshot job ran and ended in failure (JobState 10 Exception, or another
 * final state that is not success): what Hyper-V answers when the guest's VSS cannot produce
 * an application-consistent checkpoint. Not for a refused call (a ReturnValue), a job that
 * timed out or vanished, or an error of the client.
 */
export function guestCouldNotTakePart(e: unknown): boolean {
  return isHyperVMethodError(e) && e.code === "HyperVMethodFailed" && e.returnValue === JOB_STARTED && e.jobState !== undefined && !isJobActive(e.jobState);
}

/**
 * After a failed CreateSnapshot: removes the recovery checkpoints that were not there before
 * (the call made them) and returns how many it found. When the job still runs (a timeout), or
 * the checkpoints cannot be listed, nothing is touched, a warning says so and the answer is
 * undefined: not knowing whether a checkpoint was made rules out a crash-consistent retry.
 */
async function removeCheckpointsMadeBy(r: BackupCheckpointRequest, error: unknown): Promise<number | undefined> {
  // A job given up on (timed out, or stopped by the user and not yet ended) may still be making
  // its checkpoint: nothing is touched while the host shows it running.
  if (await jobStillRuns(r.host, error)) {
    const jobPath = isHyperVMethodError(error) ? error.jobPath : undefined;
    if (jobPath && r.onJobLeft) r.onJobLeft({ jobPath, method: "CreateSnapshot", checkpointId: "" });
    r.warn(
      `The CreateSnapshot job on '${r.vm.name}' is still running on the host ('${jobPath ?? "?"}'); the checkpoint it makes is left to it: ` +
        (jobPath && r.onJobLeft ? "the job is recorded, and the next backup waits for it to end, then removes that checkpoint" : `once the job has ended, 'hvbackup cleanup --vm ${r.vm.name}' removes it`),
      "CheckpointJobRunning",
    );
    return undefined;
  }
  let now: HostCheckpoint[];
  try {
    now = await r.host.listCheckpoints(r.vm, "recovery");
  } catch (listError) {
    r.warn(`Could not check whether the failed CreateSnapshot left a recovery checkpoint on '${r.vm.name}' (${(listError as Error).message}); run 'hvbackup cleanup --vm ${r.vm.name}'`, "CheckpointLeft");
    return undefined;
  }
  const before = new Set(r.before);
  const made = now.filter((c) => !before.has(c.instanceId));
  for (const cp of made) {
    try {
      await destroyCheckpointPatiently(r.host, cp);
      r.events.info(`Removed recovery checkpoint '${cp.name || cp.instanceId}' of '${r.vm.name}', made by the CreateSnapshot that failed`);
    } catch (destroyError) {
      r.warn(`Could not remove the recovery checkpoint '${cp.name || cp.instanceId}' that the failed CreateSnapshot made on '${r.vm.name}': ${(destroyError as Error).message}; run 'hvbackup cleanup --vm ${r.vm.name}'`, "CheckpointLeft");
    }
  }
  return made.length;
}

/**
 * True when a Hyper-V job was given up on (no progress for the stall period, or stopped by the
 * user) rather than seen to fail: it may still be working on its checkpoint.
 */
export function jobMayStillRun(e: unknown): boolean {
  return isHyperVMethodError(e) && (e.code === "HyperVJobTimeout" || e.code === "HyperVJobCancelled");
}

/** How long a job asked to terminate is given to show a final state before it counts as running. */
const TERMINATION_WAIT_MS = 10_000;

/**
 * Whether the job behind `e`, given up on ({@link jobMayStillRun}), still runs on the host: the
 * rule for touching its checkpoint is what the host shows, not why the wait ended. A job the
 * user stopped was asked to terminate and usually ends at once (JobState 8), after which its
 * checkpoint is cleaned up as after any failure; it is given a few seconds to get there
 * (Shutting Down). A job the host no longer lists has ended; one whose state cannot be read
 * counts as running.
 */
export async function jobStillRuns(host: HostApi, e: unknown): Promise<boolean> {
  if (!jobMayStillRun(e)) return false;
  const jobPath = isHyperVMethodError(e) ? e.jobPath : undefined;
  if (!jobPath) return true;
  const deadline = Date.now() + (isHyperVMethodError(e) && e.code === "HyperVJobCancelled" ? TERMINATION_WAIT_MS : 0);
  for (;;) {
    let state: number;
    try {
      state = Number((await host.session.getInstance(jobPath))["JobState"]);
    } catch (readError) {
      return !(isHvbError(readError) && readError.code === "CimNotFound");
    }
    if (!isJobActive(state)) return false;
    if (Date.now() >= deadline) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
}
