/**
 * Job answers where the docs allow them: GetVirtualDiskChanges, GetVirtualHardDiskSettingData,
 * GetVirtualHardDiskState, ModifyResourceSettings and ModifySystemSettings are documented to
 * return 0, or 4096 with a Job. Real hosts mostly answer the queries at once, so a client that
 * only ever saw 0 breaks on the host that does not: the lab answers a seeded share of these
 * calls with a job (`lab jobs --share`).
 *
 * What the out-parameters hold when a query answers 4096 is not documented (working code reads
 * them after the job; the reference marks it "verify"). The lab does either, drawn from the
 * seed: half of its job answers carry the data, half leave it null. A query left without data
 * is answered at once when asked again with the same parameters (the host has the result by
 * then), so a client that asks again after the job always gets its answer, also when other
 * clients' queries were answered in between.
 */
import type { LabState } from "./model";
import { labSeed, mixSeed, seededRandom } from "./order";

/** Methods that may answer with a job, and the out-parameters that carry their data. */
const JOB_CAPABLE: Record<string, string[]> = {
  getvirtualdiskchanges: ["ProcessedByteLength", "ChangedByteOffsets", "ChangedByteLengths"],
  getvirtualharddisksettingdata: ["SettingData"],
  getvirtualharddiskstate: ["State"],
  modifyresourcesettings: ["ResultingResourceSettings"],
  modifysystemsettings: [],
};

/** How a successful synchronous answer is to be given instead. */
export interface JobAnswer {
  /** The out-parameters to return with 4096 (data left null when drawn so). */
  out: Record<string, unknown>;
}

/**
 * Whether this successful call of `method` answers with a job instead (and with which
 * out-parameters); undefined to answer at once. Advances the seeded draw in `state`.
 */
export function drawJobAnswer(state: LabState, method: string, args: Record<string, unknown>, out: Record<string, unknown>): JobAnswer | undefined {
  const data = JOB_CAPABLE[method.toLowerCase()];
  const share = state.config.jobShare ?? 0;
  if (data === undefined || share <= 0) return undefined;
  const key = `${method.toLowerCase()} ${JSON.stringify(Object.entries(args).map(([k, v]) => [k.toLowerCase(), v]).sort())}`;
  // Each caller that got a job without data is owed its answer, whatever other VMs asked
  // meanwhile (one remembered key was overwritten by a concurrent VM's draw, so a VM could be
  // answered without data again and again, as no host does).
  if (state.datalessJobAnswer !== undefined) {
    state.datalessJobAnswers = [...(state.datalessJobAnswers ?? []), state.datalessJobAnswer];
    delete state.datalessJobAnswer;
  }
  const owed = (state.datalessJobAnswers ?? []).indexOf(key);
  if (owed >= 0) {
    state.datalessJobAnswers!.splice(owed, 1);
    if (state.datalessJobAnswers!.length === 0) delete state.datalessJobAnswers;
    return undefined;
  }
  const draw = (state.jobDraws ?? 0) + 1;
  state.jobDraws = draw;
  const rand = seededRandom(mixSeed(labSeed(state.config), `job:${draw}`));
  if (rand() * 100 >= share) return undefined;
  if (data.length === 0 || rand() < 0.5) return { out };
  // Bounded: a caller that never asked again (it failed) is forgotten after 256 newer ones.
  state.datalessJobAnswers = [...(state.datalessJobAnswers ?? []), key].slice(-256);
  return { out: { ...out, ...Object.fromEntries(data.map((n) => [n, null])) } };
}

/** Whether jobs of `method` stall (`lab jobs --stall METHOD`). */
export function stallsJobsOf(state: LabState, method: string): boolean {
  return (state.config.stallMethods ?? []).some((m) => m.toLowerCase() === method.toLowerCase());
}

/** Where a stalled job stops moving. */
export const STALL_PERCENT = 50;
