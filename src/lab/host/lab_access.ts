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

/** The committed state, with the merges due by `clock()` applied. */
export function readSettledLab(dir: string, clock: () => number = Date.now): LabState {
  const state = readLabState(dir);
  if (!mergesDue(state, clock()) || lockHeldHere(dir)) return state;
  return mutateSettledLab(dir, (s) => s, clock);
}

/**
 * mutateLab, with the merges due by `clock()` applied before `fn` runs (and committed with it).
 * The clock is read once the lock is held: a call that waited for the lock applies what became
 * due meanwhile.
 */
export function mutateSettledLab<T>(dir: string, fn: (state: LabState) => T, clock: () => number = Date.now): T {
  let merged: string[] = [];
  const result = mutateLab(dir, (state) => {
    merged = settleMerges(state, clock());
    return fn(state);
  });
  deleteAfterCommit(merged);
  return result;
}
