/**
 * Msvm_ConcreteJob.GetError and GetErrorEx (family B without 32779): the error objects of a
 * failed job as embedded Msvm_Error instances; null while the job runs or when it succeeded.
 */
import { jobFinished } from "../host/jobs";
import { B, type MethodHandler, sync } from "./method_support";
import type { JobRecord } from "../host/model";
import { dropMerge } from "../host/pending_merges";

function errorsOf(ctx: Parameters<MethodHandler>[0]): Record<string, unknown>[] {
  const job: JobRecord | undefined = ctx.state.jobs.get(String(ctx.target["InstanceID"]));
  if (!job || job.failAtPercent === undefined || !jobFinished(job, ctx.now)) return [];
  return [job.errorDescription, ...(job.errorDetails ?? [])].map((message) => ({
    __CLASS: "Msvm_Error",
    ErrorType: 1, // Other
    OtherErrorType: "Hyper-V job error",
    OwningEntity: "Microsoft-Windows-Hyper-V-VMMS",
    MessageID: String(job.errorCode),
    Message: message,
    MessageArguments: [],
    PerceivedSeverity: 5, // Major
    ProbableCause: 1, // Other
    ErrorSource: ctx.target.__PATH,
    ErrorSourceFormat: 2, // CIMObjectPath
    CIMStatusCode: 1, // CIM_ERR_FAILED
  }));
}

/**
 * Msvm_ConcreteJob.RequestStateChange (CIM_ConcreteJob): 4 Terminate and 5 Kill end a running
 * job in state 8 Terminated where it stands, after showing 6 Shutting Down for the lab's
 * `jobTerminateMs`. A merge it was doing is dropped: the checkpoint stays as it was
 * (host/pending_merges.ts; other methods' work was done when they were called and is not
 * undone: docs/lab-fidelity.md §8 A6). While it shuts down it still holds its VMs
 * (busy_vms.ts). A finished job answers 32775.
 */
export const requestJobStateChange: MethodHandler = (ctx, args) => {
  const requested = args.uint("RequestedState");
  if (requested !== 4 && requested !== 5) return sync(B.InvalidParameter);
  const job = ctx.state.jobs.get(String(ctx.target["InstanceID"]));
  if (!job || jobFinished(job, ctx.now)) return sync(B.InvalidState);
  // Asked again while it shuts down: it is stopping already.
  if (job.terminatedAt !== undefined) return sync(B.Ok);
  ctx.state.jobs.save({ ...job, terminatedAt: ctx.now + (ctx.state.config.jobTerminateMs ?? 0) });
  dropMerge(ctx.state, job.id);
  return sync(B.Ok);
};

export const getError: MethodHandler = (ctx) => sync(B.Ok, { Error: errorsOf(ctx)[0] ?? null });

export const getErrorEx: MethodHandler = (ctx) => {
  const e = errorsOf(ctx);
  return sync(B.Ok, { Errors: e.length > 0 ? e : null });
};
