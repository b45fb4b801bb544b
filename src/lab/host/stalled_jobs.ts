/**
 * Releasing stalled jobs (`lab jobs --no-stall`): a job stalled by `lab jobs --stall METHOD`
 * moves again from where it stopped and completes after the rest of its duration; a merge it
 * was doing then happens when it completes (pending_merges.ts).
 */
import type { LabState } from "./model";
import { rescheduleMerge } from "./pending_merges";

/** Where a released stalled job resumes (it had stopped half way). */
const STALL_RESUME_PERCENT = 50;

export function releaseStalledJobs(state: LabState, now: number): void {
  for (const j of state.jobs.unfinished(now)) {
    if (j.stallAtPercent === undefined) continue;
    const { stallAtPercent: _released, ...moving } = j;
    const released = { ...moving, submittedAt: now - Math.round((j.durationMs * STALL_RESUME_PERCENT) / 100) };
    state.jobs.save(released);
    rescheduleMerge(state, released);
  }
}
