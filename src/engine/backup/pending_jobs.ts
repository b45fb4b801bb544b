/**
 * Host jobs a backup had to leave running (issue 13 A6): a job that stopped making progress, or
 * that the user stopped and the host still shows running, may still work on the recovery
 * checkpoint (a ConvertToReferencePoint or DestroySnapshot merging it, a CreateSnapshot making
 * it, an export or a query reading it). Acting on that checkpoint meanwhile could break the VM's
 * disk chain, so the job is recorded in the VM's folder of the repository (`pending-jobs.json`),
 * and the next backup of the VM (alone or in its group), or a cleanup given the repository,
 * settles it before anything else: while the job still runs, they stop without touching the
 * host. Once it ended: a completed ConvertToReferencePoint's reference point becomes the newest
 * point's (the next incremental uses it); otherwise the checkpoint it worked on (for a
 * CreateSnapshot, the one the job made) is removed if it is still there.
 */
import { existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError, isHvbError, readRegularFile, writeFileAtomic } from "../../base/mod";
import { isJobActive } from "../../cim/mod";
import type { Catalog, VmStore } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostVm } from "../host_api";
import { destroyCheckpointPatiently } from "./checkpoints";
import type { Warn } from "./plan";
import { adoptReferencePoint } from "./reference_points";

const FILE = "pending-jobs.json";
/** JobState 7 Completed and 32768 (completed with warnings, Microsoft's WmiUtilities). */
const COMPLETED = new Set([7, 32768]);

/** One job left running. */
export interface PendingJob {
  /** Object path of the Msvm_ConcreteJob. */
  jobPath: string;
  /** The method that started it (ConvertToReferencePoint, DestroySnapshot, CreateSnapshot, ExportSystemDefinition...). */
  method: string;
  /** InstanceID of the recovery checkpoint it works on; "" for a CreateSnapshot (the job names what it made). */
  checkpointId: string;
  /** For a ConvertToReferencePoint: the point whose reference point it would make; "" otherwise. */
  pointId: string;
  recordedAt: string;
}

function fileOf(store: VmStore): string {
  return path.join(store.dir, FILE);
}

/** The recorded jobs; a file that is not what this module writes is refused, naming the field. */
export function readPendingJobs(store: VmStore): PendingJob[] {
  const file = fileOf(store);
  if (!existsSync(file)) return [];
  const bad = (what: string): never => {
    throw new HvbError("RepositoryInconsistent", `'${file}': ${what}; remove the file once no job of this VM runs on the host`, { category: "InvalidData", target: file });
  };
  let doc: unknown;
  try {
    doc = JSON.parse(readRegularFile(file, 1024 * 1024, "pending jobs file").toString("utf8"));
  } catch (e) {
    return bad(`not JSON (${(e as Error).message})`);
  }
  const jobs = (doc as { jobs?: unknown })?.jobs;
  if ((doc as { version?: unknown })?.version !== 1 || !Array.isArray(jobs)) return bad("expected { version: 1, jobs: [...] }");
  return jobs.map((j, i) => {
    const o = j as Record<string, unknown>;
    for (const k of ["jobPath", "method", "recordedAt"]) if (typeof o?.[k] !== "string" || o[k] === "") bad(`jobs[${i}].${k} must be a non-empty string`);
    for (const k of ["checkpointId", "pointId"]) if (typeof o[k] !== "string") bad(`jobs[${i}].${k} must be a string`);
    if (o["method"] === "ConvertToReferencePoint" && (o["checkpointId"] === "" || o["pointId"] === "")) bad(`jobs[${i}]: a ConvertToReferencePoint names its checkpoint and point`);
    if (o["method"] !== "CreateSnapshot" && o["checkpointId"] === "") bad(`jobs[${i}].checkpointId must name the checkpoint the job works on`);
    return o as unknown as PendingJob;
  });
}

function writePendingJobs(store: VmStore, jobs: readonly PendingJob[]): void {
  if (jobs.length === 0) rmSync(fileOf(store), { force: true });
  else writeFileAtomic(fileOf(store), JSON.stringify({ version: 1, jobs }, null, 1));
}

/** Records a job given up on while it may still run. */
export function recordPendingJob(store: VmStore, job: Omit<PendingJob, "recordedAt">): void {
  writePendingJobs(store, [...readPendingJobs(store), { ...job, recordedAt: new Date().toISOString() }]);
}

/** The state of a recorded job on the host: undefined when the host no longer lists it. */
async function jobNow(host: HostApi, job: PendingJob): Promise<{ state: number | undefined; percent: unknown }> {
  try {
    const inst = await host.session.getInstance(job.jobPath);
    return { state: Number(inst["JobState"]), percent: inst["PercentComplete"] };
  } catch (e) {
    // Gone (purged after TimeBeforeRemoval, or lost in a host crash): it runs no more. Any
    // other failure says nothing about it: the caller must not act as if it had ended.
    if (isHvbError(e) && e.code === "CimNotFound") return { state: undefined, percent: undefined };
    throw e;
  }
}

/**
 * Throws `HostJobRunning` when a job recorded for `vm` still runs on the host: nothing may be
 * done on its checkpoint (nor on the VM's) until it ends. `what` says who stops ("no backup of
 * the VM starts").
 */
export async function refuseWhilePendingJobsRun(host: HostApi, store: VmStore, vm: HostVm, what = "no backup of the VM starts"): Promise<void> {
  for (const job of readPendingJobs(store)) {
    const { state, percent } = await jobNow(host, job);
    if (state !== undefined && isJobActive(state)) {
      throw new HvbError(
        "HostJobRunning",
        `A ${job.method} job a backup of '${vm.name}' left on the host (${job.recordedAt}) still runs ('${job.jobPath}', ${String(percent ?? "?")} %): its checkpoint is not touched and ${what} until it ends; run it again later`,
        { category: "ResourceBusy", target: vm.name },
      );
    }
  }
}

/**
 * Settles the recorded jobs of `vm` before a backup makes anything (lock held, catalog read).
 * Throws `HostJobRunning` while one still runs: nothing is done on its checkpoint meanwhile.
 * True when a checkpoint was removed: the VM's disks were merged back, so the caller reads the
 * VM again for its current files.
 */
export async function settlePendingJobs(host: HostApi, store: VmStore, catalog: Catalog, vm: HostVm, warn: Warn, events: EngineEvents): Promise<boolean> {
  await refuseWhilePendingJobsRun(host, store, vm);
  const jobs = readPendingJobs(store);
  let removed = false;
  for (const job of jobs) {
    const { state } = await jobNow(host, job);
    if (job.method !== "ConvertToReferencePoint") {
      removed = (await settleOtherJob(host, job, state, vm, warn, events)) || removed;
      writePendingJobs(store, readPendingJobs(store).filter((j) => j.jobPath !== job.jobPath));
      continue;
    }
    const point = catalog.points[catalog.points.length - 1];
    // What the job made (a terminated job may have made it too before it stopped).
    const made = state !== undefined
      ? (await host.session.associators(job.jobPath, { assocClass: "Msvm_AffectedJobElement", resultClass: "Msvm_VirtualSystemReferencePoint" }).catch(() => []))[0]
      : undefined;
    const rps = made ? await host.listReferencePoints(vm) : [];
    const rp = made ? rps.find((r) => r.instanceId === String(made["InstanceID"])) : undefined;
    if (rp && state !== undefined && COMPLETED.has(state) && point && point.id === job.pointId) {
      await adoptReferencePoint({ host, store, catalog, point, vm, hostReferencePointsBefore: rps, warn }, rp);
      events.info(`The ${job.method} job left by the last backup of '${vm.name}' completed: its reference point '${rp.instanceId}' is now the last point's`);
    } else {
      const left = (await host.listCheckpoints(vm, "recovery")).find((c) => c.instanceId === job.checkpointId);
      if (left) await destroyCheckpointPatiently(host, left);
      if (left) removed = true;
      if (rp) await host.destroyReferencePoint(rp);
      warn(`The ${job.method} job left by the last backup of '${vm.name}' ${state === undefined ? "is gone from the host" : "did not complete"}; ${left ? "its checkpoint was removed" : "its checkpoint is gone"}`, "HostJobSettled");
    }
    writePendingJobs(store, readPendingJobs(store).filter((j) => j.jobPath !== job.jobPath));
  }
  return removed;
}

/**
 * A job other than ConvertToReferencePoint, ended: the checkpoint it worked on goes if it is
 * still there (a completed DestroySnapshot has removed it already). For a CreateSnapshot the
 * checkpoint is the one the job names as made (Msvm_AffectedJobElement); a CreateSnapshot job
 * the host no longer lists names nothing, and its checkpoint, if any, is left to cleanup.
 */
async function settleOtherJob(host: HostApi, job: PendingJob, state: number | undefined, vm: HostVm, warn: Warn, events: EngineEvents): Promise<boolean> {
  let checkpointId = job.checkpointId;
  if (job.method === "CreateSnapshot") {
    const made = state === undefined ? [] : await host.session.associators(job.jobPath, { assocClass: "Msvm_AffectedJobElement", resultClass: "Msvm_VirtualSystemSettingData" });
    checkpointId = String(made[0]?.["InstanceID"] ?? "");
  }
  const left = checkpointId === "" ? undefined : (await host.listCheckpoints(vm, "recovery")).find((c) => c.instanceId.toLowerCase() === checkpointId.toLowerCase());
  if (left) await destroyCheckpointPatiently(host, left);
  const how = state === undefined ? "is gone from the host" : COMPLETED.has(state) ? "completed" : "did not complete";
  if (left) {
    warn(`The ${job.method} job left by the last backup of '${vm.name}' ${how}; the recovery checkpoint it worked on was removed`, "HostJobSettled");
  } else if (job.method === "CreateSnapshot" && checkpointId === "") {
    warn(`The CreateSnapshot job left by the last backup of '${vm.name}' ${how}; a recovery checkpoint it made, if any, is reported below and goes with 'hvbackup cleanup --vm ${vm.name}'`, "HostJobSettled");
  } else {
    events.info(`The ${job.method} job left by the last backup of '${vm.name}' ${how}; the checkpoint it worked on is gone`);
  }
  return left !== undefined;
}
