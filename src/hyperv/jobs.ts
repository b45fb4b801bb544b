/**
 * Calling a Hyper-V method and waiting for its job (reference §8): ReturnValue 0 = done, 4096 =
 * poll the Msvm_ConcreteJob until it leaves New/Starting/Running/Suspended/Shutting Down;
 * JobState 7 Completed (or 32768, seen as "completed with warnings") is success, anything else
 * a {@link HyperVMethodError}. Waits are bounded and report PercentComplete as they go.
 */
import { HvbError } from "../base/mod";
import { type CimInstance, type CimMethodResult, type CimSession, JOB_STARTED, jobSucceeded, waitForJob } from "../cim/mod";
import { HyperVMethodError, type HyperVMethodErrorCode, jobStateName } from "./method_errors";
import { numberOrUndefined, stringOrUndefined } from "../cim/mod";

/** Shared state of one {@link HyperVClient}: the session, job-wait settings and service paths. */
export interface ClientContext {
  session: CimSession;
  /** Longest wait for one job (ms). */
  jobTimeoutMs: number;
  /** Delay between job polls (ms). */
  pollMs: number;
  onJobProgress: ((percent: number, description: string) => void) | undefined;
  /** Object paths of the singleton services, looked up once. */
  servicePaths: Map<string, string>;
}

/** Default job timeout: 30 minutes. */
export const DEFAULT_JOB_TIMEOUT_MS = 30 * 60 * 1000;
/** Default poll interval: 250 ms. */
export const DEFAULT_POLL_MS = 250;

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
    throw new HyperVMethodError({
      method,
      subject,
      target,
      returnValue,
      jobState,
      jobErrorCode,
      jobErrorDescription,
      jobPath,
      ...(code ? { code } : {}),
    });
  }
  return { out, job };
}

async function waitJob(ctx: ClientContext, jobPath: string, method: string, subject: string, target: string | undefined): Promise<CimInstance> {
  let last: CimInstance | undefined;
  let lastReported = "";
  try {
    return await waitForJob(ctx.session, jobPath, {
      pollMs: ctx.pollMs,
      timeoutMs: ctx.jobTimeoutMs,
      onProgress: (job) => {
        last = job;
        if (!ctx.onJobProgress) return;
        const percent = numberOrUndefined(job["PercentComplete"]) ?? 0;
        const description = jobDescription(job, method);
        const key = `${percent}\u0000${description}`;
        if (key === lastReported) return;
        lastReported = key;
        ctx.onJobProgress(percent, description);
      },
    });
  } catch (e) {
    if (e instanceof HvbError && e.code === "CimJobTimeout") {
      const state = numberOrUndefined(last?.["JobState"]);
      const percent = numberOrUndefined(last?.["PercentComplete"]);
      throw new HyperVMethodError({
        method,
        subject,
        target,
        returnValue: JOB_STARTED,
        jobState: state,
        jobPath,
        code: "HyperVJobTimeout",
        detail:
          `the job did not finish within ${formatMs(ctx.jobTimeoutMs)}` +
          (state === undefined ? "" : ` (last seen ${jobStateName(state)}${percent === undefined ? "" : `, ${percent}%`})`),
        cause: e,
      });
    }
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
 * The objects a finished job created or changed (CIM_AffectedJobElement), of class
 * `resultClass`; empty when there was no job.
 */
export async function affectedElements(ctx: ClientContext, outcome: MethodOutcome, resultClass: string): Promise<CimInstance[]> {
  if (!outcome.job) return [];
  return ctx.session.associators(outcome.job.__PATH, { resultClass });
}

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
