/**
 * Msvm_ConcreteJob as the lab runs it.
 *
 * The work of a job-based method is done under the lab lock before the method returns 4096,
 * and committed with the state, except a merge (DestroySnapshot, ConvertToReferencePoint and
 * their group versions), which is done when its job completes (pending_merges.ts); a job that
 * is going to fail commits nothing.
 * The job object then reports progress as time passes: JobState 4 Running with a growing
 * PercentComplete for `jobDurationMs`, then 7 Completed, or 10 Exception (with ErrorCode and
 * ErrorDescription) when it reaches its failure percentage. A finished job stays visible for
 * TimeBeforeRemoval (5 minutes), then it is gone. So a client killed at any moment finds the
 * host either before or after the operation, never in between. A merge or export job holds
 * its VMs until it reaches a final state: the host refuses calls on their checkpoints meanwhile
 * (../services/busy_vms.ts), as Hyper-V refuses an operation on an object busy with another.
 */
import type { CimInstance } from "../../cim/mod";
import { JobState } from "../../cim/mod";
import { type JobRecord, type LabState, newGuid } from "./model";
import { cimDateTime, cimInterval, instanceIdPath } from "./paths";

export function jobPath(host: string, id: string): string {
  return instanceIdPath(host, "Msvm_ConcreteJob", id);
}

export interface NewJob {
  method: string;
  description: string;
  affected?: { path: string; effects: number[] }[];
  failAtPercent?: number;
  errorCode?: number;
  errorDescription?: string;
  /** The job stalls at this percentage and never ends on its own. */
  stallAtPercent?: number;
  errorDetails?: string[];
  /** VMs the job works on until it ends (JobRecord.holdsVms). */
  holdsVms?: string[];
}

/** Records a job that starts now. */
export function startJob(state: LabState, spec: NewJob, now: number): JobRecord {
  const job: JobRecord = {
    id: newGuid(),
    method: spec.method,
    description: spec.description,
    submittedAt: now,
    durationMs: state.config.jobDurationMs,
    failAtPercent: spec.failAtPercent,
    errorCode: spec.errorCode ?? 0,
    errorDescription: spec.errorDescription ?? "",
    affected: spec.affected ?? [],
    ...(spec.stallAtPercent === undefined ? {} : { stallAtPercent: spec.stallAtPercent }),
    ...(spec.errorDetails === undefined ? {} : { errorDetails: spec.errorDetails }),
    ...(spec.holdsVms === undefined || spec.holdsVms.length === 0 ? {} : { holdsVms: [...spec.holdsVms] }),
  };
  state.jobs.save(job);
  return job;
}

/** When the job reaches its final state (ms since the epoch). */
export function jobEndsAt(job: JobRecord): number {
  if (job.terminatedAt !== undefined) return job.terminatedAt;
  if (job.stallAtPercent !== undefined) return Number.POSITIVE_INFINITY;
  const fraction = job.failAtPercent === undefined ? 1 : job.failAtPercent / 100;
  return job.submittedAt + Math.round(job.durationMs * fraction);
}

/** True once the job is purged (TimeBeforeRemoval after its end). */
export function jobExpired(state: LabState, job: JobRecord, now: number): boolean {
  return now > jobEndsAt(job) + state.config.jobRetentionMs;
}

/** Drops purged jobs (every method call asks; the folder is swept only when one may be due: job_store.ts). */
export function purgeJobs(state: LabState, now: number): void {
  state.jobs.purge(now);
}

/** True once the job has reached its final state. */
export function jobFinished(job: JobRecord, now: number): boolean {
  return now >= jobEndsAt(job);
}

/**
 * The VMs a job still works on: every VM a job holds (JobRecord.holdsVms) that has not reached
 * its final state, i.e. one a client sees in JobState 4 Running (also stalled) or 6 Shutting
 * Down. A job that ended, or vanished in a host crash, holds nothing.
 */
export function vmsHeldByJobs(state: LabState, now: number): Set<string> {
  const held = new Set<string>();
  // Only the jobs lab.json lists as possibly unfinished are read (job_store.ts).
  for (const job of state.jobs.unfinished(now)) {
    for (const id of job.holdsVms ?? []) held.add(id.toLowerCase());
  }
  return held;
}

export function jobInstance(state: LabState, job: JobRecord, now: number): CimInstance {
  const end = jobEndsAt(job);
  const done = now >= end;
  const terminated = job.terminatedAt !== undefined;
  const failed = job.failAtPercent !== undefined || terminated;
  // A terminated job stops where it stood; a stalled one never gets past its stall point.
  const running = Math.min(99, job.stallAtPercent ?? 99, Math.floor(((Math.min(now, end) - job.submittedAt) / Math.max(1, job.durationMs)) * 100));
  const percent = done ? (terminated ? running : failed ? job.failAtPercent! : 100) : running;
  const jobState = !done ? (terminated ? JobState.ShuttingDown : JobState.Running) : terminated ? JobState.Terminated : failed ? JobState.Exception : JobState.Completed;
  return {
    __CLASS: "Msvm_ConcreteJob",
    __PATH: jobPath(state.hostName, job.id),
    InstanceID: job.id,
    Caption: job.description,
    Description: job.description,
    ElementName: job.method,
    Name: job.method,
    JobStatus: !done ? (terminated ? "Job is shutting down" : "Job is running") : terminated ? "Job was terminated" : failed ? "Job failed" : "Job completed successfully",
    JobState: jobState,
    OperationalStatus: !done ? [2] : failed ? [6, 17] : [2, 17],
    StatusDescriptions: !done ? ["OK"] : failed ? ["Error", "Completed"] : ["OK", "Completed"],
    PercentComplete: percent,
    ErrorCode: done && failed ? job.errorCode : 0,
    ErrorDescription: done && failed ? job.errorDescription : "",
    ErrorSummaryDescription: done && failed ? job.errorDescription : "",
    TimeSubmitted: cimDateTime(job.submittedAt),
    StartTime: cimDateTime(job.submittedAt),
    ElapsedTime: cimInterval(Math.max(0, Math.min(now, end) - job.submittedAt)),
    TimeOfLastStateChange: cimDateTime(done ? end : job.submittedAt),
    TimeBeforeRemoval: cimInterval(state.config.jobRetentionMs),
    DeleteOnCompletion: false,
    // Jobs can be terminated (RequestStateChange 4), as Msvm_ConcreteJob documents.
    Cancellable: true,
    JobType: 0,
    LocalOrUtcTime: 2,
  };
}
