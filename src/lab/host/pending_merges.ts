/**
 * Merges that happen while their job runs (issue 13 B).
 *
 * DestroySnapshot and ConvertToReferencePoint, and their group versions, merge a checkpoint's
 * differencing files into their parents while the job runs (a live merge, with the VM still
 * writing to the .avhdx). Until the job completes a host still lists the checkpoint, the VM
 * still runs on the .avhdx, and the reference point does not exist yet; a merge whose job fails
 * or is terminated leaves the checkpoint where it was (lab assumption, docs/lab-fidelity.md §8
 * A6: Hyper-V documents no partial result). So the lab checks a call when it is made, records
 * here what the merge will do, keyed by its job, and does it when the job completes: the first
 * call after the job's end, a read or a change, applies it under the lab lock and commits it
 * (lab_access.ts), so every caller sees the host before or after the merge, never a mix.
 *
 * A stalled job never completes (its merge waits); a terminated job drops its merge, as does a
 * host crash (`lab crash`, which ends every job). A job purged before anyone looked had
 * completed: its merge is applied.
 */
import { dropVhdSetSnapshots } from "./vhd_sets";
import { checkpointToReferencePoint, referencePointCollectionsOf, snapshotCollectionsOf, collectionSnapshots } from "./groups";
import { removeCheckpoint } from "./host_ops";
import { jobEndsAt, jobFinished } from "./jobs";
import type { JobRecord, LabState } from "./model";
import { labSeed, mixSeed, shuffled, shufflesOrder } from "./order";

/** What a merge job does when it completes. Ids of what it creates are drawn when it is called (its out-parameters name them). */
export type MergeChange =
  | { kind: "destroy-checkpoint"; snapshotId: string }
  | { kind: "convert-checkpoint"; snapshotId: string; referencePointId: string }
  | { kind: "destroy-group-checkpoint"; collectionId: string }
  | { kind: "convert-group-checkpoint"; collectionId: string; referencePointCollectionId: string; referencePointIds: string[] };

/** A merge waiting for its job: `endsAt` is when the job completes (null: stalled, never). */
export interface PendingMerge {
  job: string;
  endsAt: number | null;
  change: MergeChange;
}

/** Records that `job`'s change happens when the job completes. */
export function deferToJob(state: LabState, job: JobRecord, change: MergeChange): void {
  const end = jobEndsAt(job);
  (state.pendingMerges ??= []).push({ job: job.id, endsAt: Number.isFinite(end) ? end : null, change });
}

/** After `job`'s end moved (a stalled job released): its merge happens at the new end. */
export function rescheduleMerge(state: LabState, job: JobRecord): void {
  const end = jobEndsAt(job);
  for (const m of state.pendingMerges ?? []) if (m.job.toLowerCase() === job.id.toLowerCase()) m.endsAt = Number.isFinite(end) ? end : null;
}

/** True when some pending merge's job may have ended by `now` (cheap: no job file is read). */
export function mergesDue(state: LabState, now: number): boolean {
  return (state.pendingMerges ?? []).some((m) => m.endsAt !== null && m.endsAt <= now);
}

/** Drops the merge of a job that was terminated: the checkpoint stays as it was. */
export function dropMerge(state: LabState, jobId: string): void {
  if (!state.pendingMerges) return;
  const left = state.pendingMerges.filter((m) => m.job.toLowerCase() !== jobId.toLowerCase());
  if (left.length > 0) state.pendingMerges = left;
  else delete state.pendingMerges;
}

/**
 * Applies the merges whose jobs completed by `now`, oldest first, and drops those whose jobs
 * ended otherwise. The caller holds the lab lock and commits; returns the files to delete after
 * the commit.
 */
export function settleMerges(state: LabState, now: number): string[] {
  if (!mergesDue(state, now)) return [];
  const files: string[] = [];
  const left: PendingMerge[] = [];
  for (const m of state.pendingMerges!) {
    if (m.endsAt === null || m.endsAt > now) {
      left.push(m);
      continue;
    }
    const job = state.jobs.get(m.job);
    // Gone: purged after it completed (a crash drops the merges with the jobs). Otherwise only
    // a job that completed (not terminated, not failed) did its merge.
    if (job !== undefined && !jobFinished(job, now)) {
      left.push(m);
      continue;
    }
    if (job === undefined || (job.terminatedAt === undefined && job.failAtPercent === undefined)) files.push(...apply(state, m.change, m.endsAt));
  }
  if (left.length > 0) state.pendingMerges = left;
  else delete state.pendingMerges;
  return files;
}

function apply(state: LabState, change: MergeChange, at: number): string[] {
  switch (change.kind) {
    case "destroy-checkpoint": {
      const snapshot = state.snapshots.find((s) => s.id === change.snapshotId);
      return snapshot ? removeCheckpoint(state, snapshot) : [];
    }
    case "convert-checkpoint": {
      const snapshot = state.snapshots.find((s) => s.id === change.snapshotId);
      const vm = snapshot ? state.vms.find((v) => v.id === snapshot.vmId) : undefined;
      if (!snapshot || !vm) return [];
      const { rp, files } = checkpointToReferencePoint(state, vm, snapshot, at, change.referencePointId);
      // The two arrays are index-aligned with each other, in no documented order relative to the
      // VM's disks: the lab draws one, so a client must pair them by disk identifier.
      if (shufflesOrder(state.config)) {
        const order = shuffled(rp.diskIds.map((_, i) => i), mixSeed(labSeed(state.config), rp.id));
        const [diskIds, rctIds] = [rp.diskIds, rp.rctIds];
        rp.diskIds = order.map((i) => diskIds[i]!);
        rp.rctIds = order.map((i) => rctIds[i]!);
      }
      return files;
    }
    case "destroy-group-checkpoint": {
      const c = snapshotCollectionsOf(state).find((x) => x.id === change.collectionId);
      if (!c) return [];
      const files = collectionSnapshots(state, c).flatMap((s) => removeCheckpoint(state, s));
      files.push(...dropVhdSetSnapshots(state, c.vhdSetSnapshots, false));
      state.snapshotCollections = snapshotCollectionsOf(state).filter((x) => x !== c);
      return files;
    }
    case "convert-group-checkpoint": {
      const c = snapshotCollectionsOf(state).find((x) => x.id === change.collectionId);
      if (!c) return [];
      const files: string[] = [];
      let level: 1 | 2 = 1;
      collectionSnapshots(state, c).forEach((s, i) => {
        const vm = state.vms.find((v) => v.id === s.vmId);
        if (!vm) return;
        const { rp, files: merged } = checkpointToReferencePoint(state, vm, s, at, change.referencePointIds[i]);
        files.push(...merged);
        if (rp.consistencyLevel === 2) level = 2;
      });
      // Each VHD Set snapshot becomes reference-only: its RCT id stays for the next backup's changes.
      files.push(...dropVhdSetSnapshots(state, c.vhdSetSnapshots, true));
      state.snapshotCollections = snapshotCollectionsOf(state).filter((x) => x !== c);
      referencePointCollectionsOf(state).push({
        id: change.referencePointCollectionId,
        groupId: c.groupId,
        createdAt: at,
        consistencyLevel: level,
        referencePointIds: change.referencePointIds,
        ...(c.vhdSetSnapshots ? { vhdSetSnapshots: c.vhdSetSnapshots } : {}),
      });
      return files;
    }
  }
}
