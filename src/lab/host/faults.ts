/**
 * Injected failures: "the next K calls of method M fail with code C", optionally "by starting
 * a job that fails at P percent with ErrorCode C" instead of returning C at once; optionally
 * "after N calls that succeed".
 */
import type { FaultRecord, LabState } from "./model";

/** Arms a fault (replacing none: faults for one method queue up in order). */
export function addFault(state: LabState, fault: { method: string; code: number; times: number; atPercent?: number; skip?: number }): void {
  state.faults.push({ method: fault.method, code: fault.code, remaining: fault.times, atPercent: fault.atPercent, ...(fault.skip ? { skip: fault.skip } : {}) });
}

/**
 * Takes one shot of the first armed fault for `method`, if any. A fault names a method alone
 * (`CreateSnapshot`: whichever class's CreateSnapshot is called next) or with its class
 * (`Msvm_CollectionSnapshotService.CreateSnapshot`), since several services share method names.
 */
export function takeFault(state: LabState, method: string, className = ""): FaultRecord | undefined {
  const names = [method.toLowerCase(), `${className}.${method}`.toLowerCase()];
  const f = state.faults.find((x) => names.includes(x.method.toLowerCase()) && x.remaining > 0);
  if (!f) return undefined;
  // `--skip N`: the first N calls pass (to fail, say, the second VM's import of a set restore).
  if (f.skip !== undefined && f.skip > 0) {
    f.skip--;
    return undefined;
  }
  f.remaining--;
  state.faults = state.faults.filter((x) => x.remaining > 0);
  return { ...f };
}
