/**
 * The CimSession seam: the one interface through which the product talks to a virtualization
 * host. On Windows it is backed by real WMI/CIM (src/hyperv/transports); on any machine it can be
 * backed by the lab host (src/lab). Everything above this seam runs unchanged on both.
 *
 * Value conventions (the Windows transport converts to and from these):
 * - scalars are strings, numbers and booleans; arrays are JS arrays; CIM datetimes are DMTF
 *   strings (`yyyymmddHHMMSS.mmmmmmsUUU`);
 * - REF parameters and REF properties are object-path strings (see object_path.ts);
 * - embedded-instance parameters (documented as "string ... embedded instance") are plain
 *   objects carrying `__CLASS` plus properties. Real WMI transports them as WMI DTD 2.0 /
 *   MOF text; the Windows transport serializes such objects on the way in and parses them on
 *   the way out, so callers never see the text form.
 *
 * Nothing in this file knows about Hyper-V; only CIM_ConcreteJob's generic state machine
 * (DMTF CIM_ConcreteJob.JobState) is used by {@link waitForJob}.
 */
import { HvbError } from "../base/mod";
import type { CimClassSchema } from "./class_schema";

/** A scalar CIM value as it crosses the seam. */
export type CimScalar = string | number | boolean | null;

/** An embedded instance: a property bag that names its class. */
export interface CimEmbeddedInstance {
  __CLASS: string;
  [property: string]: unknown;
}

/** Any value a property or parameter can hold. */
export type CimValue = CimScalar | CimScalar[] | CimEmbeddedInstance | CimEmbeddedInstance[];

/** One instance as returned by query/getInstance/associators: every property plus its path and class. */
export interface CimInstance {
  __CLASS: string;
  __PATH: string;
  [property: string]: unknown;
}

/** What a method returns: `ReturnValue` plus the out-parameters the method set. */
export interface CimMethodResult {
  ReturnValue: number;
  [outParameter: string]: unknown;
}

/** Filters for {@link CimSession.associators}, as in `ASSOCIATORS OF {path} WHERE ...`. */
export interface AssociatorsOptions {
  /** Only instances of this class (or a subclass of it). */
  resultClass?: string;
  /** Only through associations of this class (or a subclass of it). */
  assocClass?: string;
}

/** A connection to one namespace of one host. All calls may be remote, hence async. */
export interface CimSession {
  /** Runs a WQL query (the subset in wql.ts) and returns the matching instances. */
  query(wql: string): Promise<CimInstance[]>;
  /** Reads one instance by object path; rejects with code `CimNotFound` when it does not exist. */
  getInstance(path: string): Promise<CimInstance>;
  /** Instances associated with the instance at `path`. */
  associators(path: string, options?: AssociatorsOptions): Promise<CimInstance[]>;
  /**
   * Invokes a method on the instance (or singleton service) at `path`. A non-zero
   * `ReturnValue` is not an exception: it is the method's documented answer.
   * Rejects only when the call itself cannot be made (unknown class, method or path).
   */
  invokeMethod(path: string, method: string, args?: Record<string, unknown>): Promise<CimMethodResult>;
  /**
   * Deletes the instance at `path` (WMI's DeleteInstance; e.g. a Win32_ShadowCopy). Optional:
   * a transport that cannot delete leaves it out, and callers say what they could not remove.
   */
  deleteInstance?(path: string): Promise<void>;
  /**
   * The schema of `className` as this host declares it (properties, types). Hosts of different
   * versions declare different properties; rejects with `CimInvalidClass` for a class the host
   * does not have.
   */
  getClass(className: string): Promise<CimClassSchema>;
}

/** Failures of the session itself (not of a method: those are ReturnValues). */
export class CimError extends HvbError {
  /** The WBEM status a real WMI call would fail with, e.g. 0x80041002 (WBEM_E_NOT_FOUND). */
  readonly wbemStatus: number;
  constructor(code: CimErrorCode, message: string, target?: string) {
    super(code, message, { category: CIM_ERROR_CATEGORY[code], ...(target === undefined ? {} : { target }) });
    this.name = "CimError";
    this.wbemStatus = WBEM_STATUS[code];
  }
}

export type CimErrorCode = "CimNotFound" | "CimInvalidClass" | "CimInvalidMethod" | "CimInvalidParameter" | "CimInvalidQuery" | "CimTypeMismatch";

// WBEM_E_* values from the WMI error constants (wbemcli.h / "WMI Error Constants" page).
const WBEM_STATUS: Record<CimErrorCode, number> = {
  CimNotFound: 0x80041002,
  CimInvalidClass: 0x80041010,
  CimInvalidMethod: 0x80041055,
  CimInvalidParameter: 0x80041008,
  CimInvalidQuery: 0x80041017,
  CimTypeMismatch: 0x80041005,
};
const CIM_ERROR_CATEGORY = {
  CimNotFound: "ObjectNotFound",
  CimInvalidClass: "InvalidArgument",
  CimInvalidMethod: "InvalidArgument",
  CimInvalidParameter: "InvalidArgument",
  CimInvalidQuery: "InvalidArgument",
  CimTypeMismatch: "InvalidArgument",
} as const;

/** DMTF CIM_ConcreteJob.JobState values. */
export const JobState = {
  New: 2,
  Starting: 3,
  Running: 4,
  Suspended: 5,
  ShuttingDown: 6,
  Completed: 7,
  Terminated: 8,
  Killed: 9,
  Exception: 10,
  Service: 11,
} as const;

/** `ReturnValue` meaning "Method Parameters Checked - Job Started" in both Hyper-V families. */
export const JOB_STARTED = 4096;

/** True while a job has not reached a final state (New, Starting, Running, Suspended, Shutting Down). */
export function isJobActive(jobState: number): boolean {
  return jobState >= JobState.New && jobState <= JobState.ShuttingDown;
}

/** Options of {@link waitForJob}. */
export interface WaitForJobOptions {
  /** Delay between polls in milliseconds (default 100). */
  pollMs?: number;
  /** Give up after this many milliseconds (default: never). */
  timeoutMs?: number;
  /** Called after each poll with the job instance. */
  onProgress?: (job: CimInstance) => void;
}

/**
 * Polls the job at `jobPath` until it reaches a final state and returns the final instance.
 * The caller decides what the final state means (7 Completed is success; see also
 * {@link jobSucceeded}). A job that vanished (purged) rejects with `CimNotFound`.
 */
export async function waitForJob(session: CimSession, jobPath: string, options: WaitForJobOptions = {}): Promise<CimInstance> {
  const pollMs = options.pollMs ?? 100;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (;;) {
    const job = await session.getInstance(jobPath);
    options.onProgress?.(job);
    if (!isJobActive(Number(job["JobState"]))) return job;
    if (Date.now() >= deadline) {
      throw new HvbError("CimJobTimeout", `Job did not finish within ${options.timeoutMs} ms: '${jobPath}'`, {
        category: "OperationStopped",
        target: jobPath,
      });
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** True for a job that ended well: JobState 7 Completed (or 32768, seen as "completed with warnings"). */
export function jobSucceeded(job: CimInstance): boolean {
  const s = Number(job["JobState"]);
  return s === JobState.Completed || s === 32768;
}
