/**
 * The lab's state as callers above the host's own operations read and change it: with the
 * merges whose jobs completed by `now` applied first (pending_merges.ts), so that a query, a
 * method call and a lab command all see the host before or after a merge, never a job that
 * completed with its checkpoint still there.
 *
 * A reader normally takes no lock; one that finds a merge due takes the lock once to apply and
 * commit it, as the host would have done when the job completed (the merge changes disk files,
 * which only a locked call may do). Inside a call that holds the lock already, the state is
 * returned as read: that call applied the due merges when it began.
 */
import { deleteAfterCommit } from "./host_ops";
import type { LabState } from "./model";
import { mergesDue, settleMerges } from "./pending_merges";
import { lockHeldHere, mutateLab, readLabState } from "./state_store";

/** The committed state, with the merges due by `now` applied. */
export function readSettledLab(dir: string, now: number = Date.now()): LabState {
  const state = readLabState(dir);
  if (!mergesDue(state, now) || lockHeldHere(dir)) return state;
  return mutateSettledLab(dir, (s) => s, now);
}

/** mutateLab, with the merges due by `now` applied before `fn` runs (and committed with it). */
export function mutateSettledLab<T>(dir: string, fn: (state: LabState) => T, now: number = Date.now()): T {
  let merged: string[] = [];
  const result = mutateLab(dir, (state) => {
    merged = settleMerges(state, now);
    return fn(state);
  });
  deleteAfterCommit(merged);
  return result;
}
