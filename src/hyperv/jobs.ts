/**
 * Calling a Hyper-V method and waiting for its job (reference §8): ReturnValue 0 = done, 4096 =
 * poll the Msvm_ConcreteJob until it leaves New/Starting/Running/Suspended/Shutting Down;
 * JobState 7 Completed (or 32768, seen as "completed with warnings") is success, anything else
 * a {@link HyperVMethodError}. Waits report PercentComplete as they go.
 *
 * No wait has a fixed limit: ConvertToReferencePoint and DestroySnapshot merge the recovery
 * .avhdx while the VM runs and may take hours on a big busy VM. A job times out only when it
 * stops moving (JobState and PercentComplete unchanged) for the stall period; the error names
 * the job, which may still finish. When the user stops the run ({@link ClientContext.cancel}),
 * the job being waited for is terminated the documented way (Msvm_ConcreteJob.RequestStateChange
 * with RequestedState 4 Terminate) before the wait gives up.
 */
import { HvbError } from "../base/mod";
import { type CimInstance, type CimMethodResult, type CimSession, JOB_STARTED, isJobActive, jobSucceeded } from "../cim/mod";
import { HyperVMethodError, type HyperVMethodErrorCode, jobStateName } from "./method_errors";
import { embeddedInstance, numberOrUndefined, stringOrUndefined } from "../cim/mod";

/** Shared state of one {@link HyperVClient}: the session, job-wait settings and service paths. */
export interface ClientContext {
  session: CimSession;
  /** How long a job may show no progress (JobState and PercentComplete unchanged) before the wait gives up (ms). */
  jobStallMs: number;
  /** The longest delay between job polls (ms): see {@link jobPollDelay}. */
  pollMs: number;
  onJobProgress: ((percent: number, description: string) => void) | undefined;
  /** Object paths of the singleton services, looked up once. */
  servicePaths: Map<string, string>;
  /** Set when the user stopped the run: the job being waited for is terminated, once. */
  cancel: CancelRequest;
}

/** A stop request shared by a client and whoever stops it (a signal handler). */
export interface CancelRequest {
  requested: boolean;
  /** Why, for the error message (e.g. "SIGINT"). */
  reason?: string;
  /** How many job waits are under way (a stop request is only delivered to one of those). */
  waiting?: number;
}

/** Default stall period: a job showing no progress for 30 minutes is given up on. */
export const DEFAULT_JOB_STALL_MS = 30 * 60 * 1000;

/** Msvm_ConcreteJob.RequestStateChange RequestedState 4: Terminate (CIM_ConcreteJob). */
const REQUEST_TERMINATE = 4;
/** Default poll interval: 250 ms. */
export const DEFAULT_POLL_MS = 250;
/** The first wait between polls of a job; each later one doubles, up to the poll interval. */
const FIRST_POLL_MS = 20;

/**
 * How long to wait before poll number `polls + 1` of a job: 20 ms, then doubling up to
 * `pollMs` (20, 40, 80, 160, 250, 250 ... with the default). Most of a backup's jobs on a host
 * (a checkpoint of an idle VM, a reference point's merge of a small .avhdx, an export of the
 * configuration) end well under a second; a fixed 250 ms poll made each of them cost 125 ms
 * more on average, several times per VM. Long jobs are still polled at `pollMs`.
 */
export function jobPollDelay(polls: number, pollMs: number): number {
  return Math.min(pollMs, FIRST_POLL_MS * 2 ** Math.min(polls, 16));
}

/** What a successful call produced. */
export interface MethodOutcome {
  /** ReturnValue and out-parameters of the call itself. */
  out: CimMethodResult;
  /** The final job instance when the method started a job. */
  job: CimInstance | undefined;
}

/** What a call addresses: the text for messages ("VM 'web01'") and the error's target ("web01"). */
export interface Subject {
  text: string;
  target: string;
}

/** Subjects of the usual kinds. */
export const subjects = {
  vm: (name: string): Subject => ({ text: `VM '${name}'`, target: name }),
  plannedVm: (name: string): Subject => ({ text: `planned VM '${name}'`, target: name }),
  checkpoint: (name: string, vmName: string): Subject => ({ text: `checkpoint '${name}' of VM '${vmName}'`, target: vmName }),
  referencePoint: (instanceId: string): Subject => ({ text: `reference point '${instanceId}'`, target: instanceId }),
  file: (kind: string, path: string): Subject => ({ text: `${kind} '${path}'`, target: path }),
};

/** Options of {@link runMethod}. */
export interface RunMethodOptions {
  /** Picks a more specific error code for a failure, from the effective error code. */
  errorCodeFor?: (errorCode: number) => HyperVMethodErrorCode | undefined;
}

/**
 * Invokes `method` on the instance at `path`, waits for its job if it starts one, and throws a
 * {@link HyperVMethodError} naming `about` when the call or the job fails.
 */
export async function runMethod(
  ctx: ClientContext,
  path: string,
  method: string,
  args: Record<string, unknown>,
  about: string | Subject,
  options: RunMethodOptions = {},
): Promise<MethodOutcome> {
  const { text: subject, target } = typeof about === "string" ? { text: about, target: undefined } : about;
  const out = await ctx.session.invokeMethod(path, method, args);
  const returnValue = Number(out.ReturnValue);
  const pick = (errorCode: number) => options.errorCodeFor?.(errorCode);
  if (returnValue === 0) return { out, job: undefined };
  if (returnValue !== JOB_STARTED) {
    const code = pick(returnValue);
    throw new HyperVMethodError({ method, subject, target, returnValue, ...(code ? { code } : {}) });
  }
  const jobPath = stringOrUndefined(out["Job"]);
  if (jobPath === undefined) {
    throw new HyperVMethodError({ method, subject, target, returnValue, detail: "the method reported a started job but returned no Job reference" });
  }
  const job = await waitJob(ctx, jobPath, method, subject, target);
  if (!jobSucceeded(job)) {
    const jobState = numberOrUndefined(job["JobState"]);
    const jobErrorCode = numberOrUndefined(job["ErrorCode"]);
    const jobErrorDescription = stringOrUndefined(job["ErrorDescription"]) ?? stringOrUndefined(job["ErrorSummaryDescription"]);
    const code = jobErrorCode !== undefined && jobErrorCode !== 0 ? pick(jobErrorCode) : undefined;
    const jobErrors = await jobErrorMessages(ctx, jobPath, jobErrorDescription);
    throw new HyperVMethodError({
      method,
      subject,
      target,
      returnValue,
      jobState,
      jobErrorCode,
      jobErrorDescription,
      jobErrors,
      jobPath,
      ...(code ? { code } : {}),
    });
  }
  return { out, job };
}

/**
 * The messages of a failed job's Msvm_Error instances (Msvm_ConcreteJob.GetErrorEx) that
 * ErrorDescription does not already say: where Hyper-V puts the reason behind a generic
 * failure, such as the guest VSS writer that refused a freeze. Best effort: a host or job
 * that cannot answer gives nothing more.
 */
async function jobErrorMessages(ctx: ClientContext, jobPath: string, known: string | undefined): Promise<string[]> {
  let out: CimMethodResult;
  try {
    out = await ctx.session.invokeMethod(jobPath, "GetErrorEx", {});
  } catch {
    return [];
  }
  if (Number(out.ReturnValue) !== 0 || !Array.isArray(out["Errors"])) return [];
  const messages: string[] = [];
  for (const e of out["Errors"] as unknown[]) {
    try {
      const message = stringOrUndefined(embeddedInstance(e, "GetErrorEx Errors")["Message"]);
      if (message && message !== known && !messages.includes(message)) messages.push(message);
    } catch {
      // An entry of another shape says nothing we can show.
    }
  }
  return messages;
}

/** How many times {@link runQuery} asks when the host answers with a job but without the data. */
const QUERY_ATTEMPTS = 3;

/**
 * {@link runMethod} for a query whose answer is in out-parameters (`outputs`), for methods
 * documented to answer 0 or 4096 + Job (GetVirtualDiskChanges, GetVirtualHardDiskSettingData,
 * GetVirtualHardDiskState). After a job the out-parameters of the call are used when the host
 * filled them (working code reads them there); what they hold then is not documented, so when
 * the data is missing the query is asked again (it only reads) instead of being misread.
 */
export async function runQuery(
  ctx: ClientContext,
  path: string,
  method: string,
  args: Record<string, unknown>,
  about: Subject,
  outputs: readonly string[],
  options: RunMethodOptions = {},
): Promise<MethodOutcome> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await runMethod(ctx, path, method, args, about, options);
    const missing = outputs.filter((n) => outcome.out[n] === undefined || outcome.out[n] === null);
    if (missing.length === 0) return outcome;
    if (!outcome.job || attempt >= QUERY_ATTEMPTS) {
      throw new HvbError(
        "HyperVUnexpectedData",
        `${method} on ${about.text} ${outcome.job ? `completed its job ${attempt} time(s)` : "succeeded"} but returned no ${missing.join(", ")}`,
        { category: "InvalidData", target: about.target },
      );
    }
  }
}

async function waitJob(ctx: ClientContext, jobPath: string, method: string, subject: string, target: string | undefined): Promise<CimInstance> {
  ctx.cancel.waiting = (ctx.cancel.waiting ?? 0) + 1;
  try {
    return await pollJob(ctx, jobPath, method, subject, target);
  } finally {
    ctx.cancel.waiting = (ctx.cancel.waiting ?? 1) - 1;
    // A stop that came during waits that all ended on their own is not carried over to the next
    // job waited for (the cleanup's own, e.g. the DestroySnapshot removing the run's checkpoint,
    // which a terminate would leave on the VM): the run stops at its next safe point.
    if (ctx.cancel.waiting <= 0) ctx.cancel.requested = false;
  }
}

async function pollJob(ctx: ClientContext, jobPath: string, method: string, subject: string, target: string | undefined): Promise<CimInstance> {
  let lastReported = "";
  let lastMove = "";
  let movedAt = Date.now();
  for (let polls = 0; ; polls++) {
    let job: CimInstance;
    try {
      job = await ctx.session.getInstance(jobPath);
    } catch (e) {
      if (e instanceof HvbError && e.code === "CimNotFound") {
        throw new HyperVMethodError({
          method,
          subject,
          target,
          returnValue: JOB_STARTED,
          jobPath,
          code: "HyperVJobLost",
          detail: `the job '${jobPath}' vanished before it was seen finished`,
          cause: e,
        });
      }
      throw e;
    }
    const state = numberOrUndefined(job["JobState"]);
    const percent = numberOrUndefined(job["PercentComplete"]);
    if (ctx.onJobProgress) {
      const description = jobDescription(job, method);
      const key = `${percent ?? 0}\u0000${description}`;
      if (key !== lastReported) {
        lastReported = key;
        ctx.onJobProgress(percent ?? 0, description);
      }
    }
    if (!isJobActive(Number(job["JobState"]))) return job;
    const move = `${state}\u0000${percent}`;
    if (move !== lastMove) {
      lastMove = move;
      movedAt = Date.now();
    }
    if (ctx.cancel.requested) {
      // Delivered once: the cleanup after this error may need jobs of its own.
      ctx.cancel.requested = false;
      await terminateJob(ctx, jobPath);
      throw new HyperVMethodError({
        method,
        subject,
        target,
        returnValue: JOB_STARTED,
        jobState: state,
        jobPath,
        code: "HyperVJobCancelled",
        detail: `${ctx.cancel.reason ?? "stopped by the user"}; the job was asked to terminate at ${percent ?? 0}%`,
      });
    }
    if (Date.now() - movedAt >= ctx.jobStallMs) {
      throw new HyperVMethodError({
        method,
        subject,
        target,
        returnValue: JOB_STARTED,
        jobState: state,
        jobPath,
        code: "HyperVJobTimeout",
        detail:
          `the job made no progress for ${formatMs(ctx.jobStallMs)}` +
          (state === undefined ? "" : ` (still ${jobStateName(state)}${percent === undefined ? "" : ` at ${percent}%`}; it may yet finish: '${jobPath}')`),
      });
    }
    await new Promise((r) => setTimeout(r, jobPollDelay(polls, ctx.pollMs)));
  }
}

/**
 * Asks a job to terminate (RequestStateChange 4). A job that cannot be terminated, or has
 * finished meanwhile, is left as it is: the caller's error says the run was stopped.
 */
async function terminateJob(ctx: ClientContext, jobPath: string): Promise<void> {
  try {
    await ctx.session.invokeMethod(jobPath, "RequestStateChange", { RequestedState: REQUEST_TERMINATE });
  } catch {
    // Not cancellable (Cancellable FALSE) or already gone: nothing more to do.
  }
}

function jobDescription(job: CimInstance, method: string): string {
  // Description says what the job does ("Creating recovery checkpoint"); JobStatus only how it goes.
  return stringOrUndefined(job["Description"]) ?? stringOrUndefined(job["Caption"]) ?? stringOrUndefined(job["JobStatus"]) ?? method;
}

function formatMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/**
 * The objects a finished job created or changed (Msvm_AffectedJobElement), of class
 * `resultClass`; empty when there was no job. The association is named: without it the
 * provider walks every association class that can hold a job (WMI's ASSOCIATORS OF without
 * AssocClass), which in the lab cost 8-16 ms per call against under 1 ms with it (bench/README.md,
 * "Where a VM's seconds on a checkpoint go").
 */
export async function affectedElements(ctx: ClientContext, outcome: MethodOutcome, resultClass: string): Promise<CimInstance[]> {
  if (!outcome.job) return [];
  return ctx.session.associators(outcome.job.__PATH, { assocClass: AFFECTED_JOB_ELEMENT, resultClass });
}

/** The association between a job and what it made or changed (CIM_AffectedJobElement in Hyper-V's namespace). */
const AFFECTED_JOB_ELEMENT = "Msvm_AffectedJobElement";

/** The object path of the singleton service `className` (e.g. Msvm_VirtualSystemSnapshotService). */
export async function servicePath(ctx: ClientContext, className: string): Promise<string> {
  const cached = ctx.servicePaths.get(className);
  if (cached) return cached;
  const found = await ctx.session.query(`SELECT * FROM ${className}`);
  const first = found[0];
  if (!first) {
    throw new HvbError("HyperVServiceNotFound", `Cannot find the ${className} on the host: is Hyper-V installed and is the caller an administrator?`, {
      category: "ResourceUnavailable",
      target: className,
    });
  }
  ctx.servicePaths.set(className, first.__PATH);
  return first.__PATH;
}
