/**
 * Host jobs a backup had to leave running (issue 13 A6): a ConvertToReferencePoint that stopped
 * making progress, or that the user stopped, may still be merging the recovery checkpoint on
 * the host. Acting on that checkpoint meanwhile could break the VM's disk chain, so the job is
 * recorded in the VM's folder of the repository (`pending-jobs.json`), and the next backup of
 * the VM settles it before anything else: while the job still runs, the backup stops without
 * touching the host; once it completed, the reference point it made becomes the newest point's
 * (the next incremental uses it); once it failed or is gone, the checkpoint it worked on is
 * removed if it is still there.
 */
import { existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError, readRegularFile, writeFileAtomic } from "../../base/mod";
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
  method: "ConvertToReferencePoint";
  /** InstanceID of the recovery checkpoint it works on. */
  checkpointId: string;
  /** The point whose reference point it would make. */
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
    for (const k of ["jobPath", "checkpointId", "pointId", "recordedAt"]) if (typeof o?.[k] !== "string" || o[k] === "") bad(`jobs[${i}].${k} must be a non-empty string`);
    if (o["method"] !== "ConvertToReferencePoint") bad(`jobs[${i}].method must be ConvertToReferencePoint`);
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

/**
 * Settles the recorded jobs of `vm` before a backup makes anything (lock held, catalog read).
 * Throws `HostJobRunning` while one still runs: nothing is done on its checkpoint meanwhile.
 */
export async function settlePendingJobs(host: HostApi, store: VmStore, catalog: Catalog, vm: HostVm, warn: Warn, events: EngineEvents): Promise<void> {
  const jobs = readPendingJobs(store);
  for (const job of jobs) {
    const inst = await host.session.getInstance(job.jobPath).catch(() => undefined);
    const state = inst ? Number(inst["JobState"]) : undefined;
    if (state !== undefined && isJobActive(state)) {
      throw new HvbError(
        "HostJobRunning",
        `A ${job.method} job a backup of '${vm.name}' left on the host (${job.recordedAt}) still runs ('${job.jobPath}', ${String(inst?.["PercentComplete"] ?? "?")} %): its checkpoint is not touched and no backup of the VM starts until it ends; run the backup again later`,
        { category: "ResourceBusy", target: vm.name },
      );
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
      if (rp) await host.destroyReferencePoint(rp);
      warn(`The ${job.method} job left by the last backup of '${vm.name}' ${state === undefined ? "is gone from the host" : "did not complete"}; ${left ? "its checkpoint was removed" : "its checkpoint is gone"}`, "HostJobSettled");
    }
    writePendingJobs(store, readPendingJobs(store).filter((j) => j.jobPath !== job.jobPath));
  }
}
