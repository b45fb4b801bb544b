/**
 * What a Hyper-V method's return value (and a failed job's ErrorCode) means, and the error the
 * client throws for it. Hyper-V methods use one of two documented return-code families
 * (reference §0.2, Microsoft's Msvm_* method pages):
 *
 * - family A, "CIM style": 0 OK, 1 Not Supported, 2 Failed, 3 Timeout, 4 Invalid Parameter,
 *   5 Invalid State, 6 Invalid Type, 4096 Job Started, 32768..65535 Vendor Specific;
 * - family B, "Msvm style": 0 OK, 4096 Job Started, 32768 Failed, 32769 Access Denied,
 *   32770 Not Supported, 32771 Status is unknown, 32772 Timeout, 32773 Invalid parameter,
 *   32774 System is in use, 32775 Invalid state for this operation, 32776 Incorrect data type,
 *   32777 System is not available, 32778 Out of memory, 32779 File not found / File in use.
 *
 * Family A pages document 32768..65535 only as "Vendor Specific". Hyper-V's vendor codes are
 * the family-B values, so for those the family-B name is given and
 * {@link ReturnValueMeaning.source} says it was not documented for that method.
 */
import { HvbError, type HvbCategory } from "../base/mod";

/** The two return-code families. */
export type ReturnCodeFamily = "A" | "B";

/** Methods of Msvm_ImageManagementService: 32779 means "File not found" there. */
const IMAGE_MANAGEMENT_METHODS = new Set([
  "GetVirtualDiskChanges",
  "GetVirtualHardDiskSettingData",
  "GetVirtualHardDiskState",
  "MergeVirtualHardDisk",
  "CreateVirtualHardDisk",
  "SetVirtualHardDiskSettingData",
  "ValidateVirtualHardDisk",
  "ConvertVirtualHardDisk",
  "CompactVirtualHardDisk",
]);

/** Methods documented with 32779 "File in Use". */
const FILE_IN_USE_METHODS = new Set([
  "ImportSystemDefinition",
  "ImportSnapshotDefinitions",
  "ValidatePlannedSystem",
  "RealizePlannedSystem",
]);

/** Family-A methods (the CIM_* base-class style tables). */
const FAMILY_A = new Set([
  "CreateSnapshot",
  "DestroySnapshot",
  "DestroySnapshotTree",
  "ApplySnapshot",
  "ConvertToReferencePoint",
  "CreateReferencePoint",
  "ModifyResourceSettings",
  "AddResourceSettings",
  "RemoveResourceSettings",
  "ModifySystemSettings",
  "DestroySystem",
  "DefineSystem",
]);

/** Family-A methods whose page has no value 6. */
const FAMILY_A_WITHOUT_6 = new Set(["DestroySystem", "AddResourceSettings"]);

/** The family a method's return value follows; unknown methods are treated as family B (Msvm style). */
export function returnCodeFamily(method: string): ReturnCodeFamily {
  return FAMILY_A.has(method) ? "A" : "B";
}

const FAMILY_A_NAMES: Record<number, string> = {
  0: "Completed with No Error",
  1: "Not Supported",
  2: "Failed",
  3: "Timeout",
  4: "Invalid Parameter",
  5: "Invalid State",
  6: "Invalid Type",
  4096: "Method Parameters Checked - Job Started",
};

const FAMILY_B_NAMES: Record<number, string> = {
  0: "Completed with No Error",
  4096: "Method Parameters Checked - Job Started",
  32768: "Failed",
  32769: "Access Denied",
  32770: "Not Supported",
  32771: "Status is unknown",
  32772: "Timeout",
  32773: "Invalid parameter",
  32774: "System is in use",
  32775: "Invalid state for this operation",
  32776: "Incorrect data type",
  32777: "System is not available",
  32778: "Out of memory",
};

/** The meaning of one return value for one method. */
export interface ReturnValueMeaning {
  /** Short name, e.g. "Invalid state for this operation". */
  text: string;
  /**
   * `method`: the method's own page names this value; `vendor`: a family-A page lists it only
   * as Vendor Specific and `text` is Hyper-V's family-B name for it; `undocumented`: no page
   * names it.
   */
  source: "method" | "vendor" | "undocumented";
}

/**
 * The documented meaning of `value` returned by `method`.
 *
 * @example
 * describeReturnValue("GetVirtualDiskChanges", 32779).text; // "File not found"
 * describeReturnValue("RealizePlannedSystem", 32779).text; // "File in use"
 * describeReturnValue("CreateSnapshot", 5).text; // "Invalid State"
 */
export function describeReturnValue(method: string, value: number): ReturnValueMeaning {
  if (returnCodeFamily(method) === "A") {
    if (value === 6 && (method === "ModifyResourceSettings" || method === "ModifySystemSettings")) return { text: "Incompatible Parameters", source: "method" };
    if (value === 6 && FAMILY_A_WITHOUT_6.has(method)) return { text: "Invalid Type (not documented for this method)", source: "undocumented" };
    const a = FAMILY_A_NAMES[value];
    if (a !== undefined) return { text: a, source: "method" };
    if (value >= 7 && value <= 4095) return { text: "DMTF Reserved", source: "undocumented" };
    if (value >= 4097 && value <= 32767) return { text: "Method Reserved", source: "undocumented" };
    const vendor = vendorName(method, value);
    return vendor === undefined ? { text: "Vendor Specific", source: "undocumented" } : { text: vendor, source: "vendor" };
  }
  if (value === 32779) {
    if (IMAGE_MANAGEMENT_METHODS.has(method)) return { text: "File not found", source: "method" };
    if (FILE_IN_USE_METHODS.has(method)) return { text: "File in use", source: "method" };
    return { text: "File not found or in use (not documented for this method)", source: "undocumented" };
  }
  const b = FAMILY_B_NAMES[value];
  if (b !== undefined) return { text: b, source: "method" };
  return { text: "Unknown return value", source: "undocumented" };
}

/** Hyper-V's name for a vendor code (32768..): the family-B table, 32779 by method. */
function vendorName(method: string, value: number): string | undefined {
  if (value === 32779) {
    if (IMAGE_MANAGEMENT_METHODS.has(method)) return "File not found";
    if (FILE_IN_USE_METHODS.has(method)) return "File in use";
    return "File not found or in use";
  }
  return value >= 32768 ? FAMILY_B_NAMES[value] : undefined;
}

/**
 * The meaning of a failed job's ErrorCode. Hyper-V jobs report the family-B values
 * (32768 Failed, 32775 Invalid state for this operation, ...); other values have no documented name.
 *
 * @example
 * describeJobErrorCode("CreateSnapshot", 32768); // "Failed"
 */
export function describeJobErrorCode(method: string, errorCode: number): string {
  return vendorName(method, errorCode) ?? "Unknown error";
}

/** Stable error codes of {@link HyperVMethodError}. */
export type HyperVMethodErrorCode =
  | "HyperVMethodFailed"
  | "HyperVAccessDenied"
  | "HyperVJobTimeout"
  | "HyperVJobCancelled"
  | "HyperVJobLost"
  | "RctIdInvalid"
  | "RctNotSupported";

/** Everything known about one failed call. */
export interface HyperVMethodFailure {
  /** Method name, e.g. "CreateSnapshot". */
  method: string;
  /** What the call addressed, for the message: e.g. "VM 'web01'" or "disk '/x/a.avhdx'". */
  subject: string;
  /** The error's target (VM name, file, id); `subject` when omitted. */
  target?: string | undefined;
  /** The method's ReturnValue (4096 when a job was started and the job failed). */
  returnValue: number;
  /** Msvm_ConcreteJob.JobState of the final job instance, when a job was started. */
  jobState?: number | undefined;
  /** Msvm_ConcreteJob.ErrorCode, when a job was started. */
  jobErrorCode?: number | undefined;
  /** Msvm_ConcreteJob.ErrorDescription (or ErrorSummaryDescription), when present. */
  jobErrorDescription?: string | undefined;
  /** The job's path, when a job was started. */
  jobPath?: string | undefined;
  /** Further messages from Msvm_ConcreteJob.GetErrorEx (e.g. the guest VSS writer's reason). */
  jobErrors?: string[] | undefined;
  /** Overrides the code chosen from the values (e.g. RctIdInvalid, HyperVJobTimeout). */
  code?: HyperVMethodErrorCode;
  /** Overrides the message detail (after the colon). */
  detail?: string;
  cause?: unknown;
}

const JOB_STATE_NAMES: Record<number, string> = {
  2: "New",
  3: "Starting",
  4: "Running",
  5: "Suspended",
  6: "Shutting Down",
  7: "Completed",
  8: "Terminated",
  9: "Killed",
  10: "Exception",
  11: "Service",
};

/** The name of a CIM_ConcreteJob.JobState value. */
export function jobStateName(state: number): string {
  return JOB_STATE_NAMES[state] ?? `state ${state}`;
}

const CATEGORY: Record<HyperVMethodErrorCode, HvbCategory> = {
  HyperVMethodFailed: "InvalidOperation",
  HyperVAccessDenied: "PermissionDenied",
  HyperVJobTimeout: "OperationStopped",
  HyperVJobCancelled: "OperationStopped",
  HyperVJobLost: "OperationStopped",
  RctIdInvalid: "InvalidData",
  RctNotSupported: "NotImplemented",
};

/**
 * A Hyper-V method returned an error or its job did not complete. Carries the method, the raw
 * return value, the effective error code (the return value, or the job's ErrorCode when a
 * job failed), its documented meaning and the job's own description.
 *
 * @example
 * // CreateSnapshot failed on VM 'web01': 32775 Invalid state for this operation (job: The guest's VSS writer failed)
 */
export class HyperVMethodError extends HvbError {
  readonly method: string;
  readonly returnValue: number;
  /** The value that says what went wrong: `returnValue`, or the job's ErrorCode when a job failed. */
  readonly errorCode: number;
  /** Documented meaning of {@link errorCode}. */
  readonly meaning: string;
  /** Where {@link meaning} comes from (see {@link ReturnValueMeaning.source}). */
  readonly meaningSource: ReturnValueMeaning["source"];
  readonly jobState: number | undefined;
  readonly jobErrorCode: number | undefined;
  readonly jobErrorDescription: string | undefined;
  readonly jobPath: string | undefined;
  /** Messages GetErrorEx added to {@link jobErrorDescription}. */
  readonly jobErrors: string[];

  constructor(f: HyperVMethodFailure) {
    const jobFailed = f.returnValue === 4096;
    const errorCode = jobFailed && f.jobErrorCode !== undefined && f.jobErrorCode !== 0 ? f.jobErrorCode : f.returnValue;
    const meaning: ReturnValueMeaning = jobFailed
      ? errorCode === 4096
        ? { text: `job ended in state ${f.jobState === undefined ? "unknown" : jobStateName(f.jobState)}`, source: "undocumented" }
        : { text: describeJobErrorCode(f.method, errorCode), source: errorCode >= 32768 ? "vendor" : "undocumented" }
      : describeReturnValue(f.method, errorCode);
    const code: HyperVMethodErrorCode = f.code ?? (errorCode === 32769 ? "HyperVAccessDenied" : "HyperVMethodFailed");
    let detail = f.detail;
    if (detail === undefined) {
      detail = errorCode === 4096 ? meaning.text : `${errorCode} ${meaning.text}`;
      const job = [f.jobErrorDescription, ...(f.jobErrors ?? [])].filter((x): x is string => !!x);
      if (job.length > 0) detail += ` (job: ${job.join("; ")})`;
    }
    super(code, `${f.method} failed on ${f.subject}: ${detail}`, {
      category: CATEGORY[code],
      target: f.target ?? f.subject,
      ...(f.cause === undefined ? {} : { cause: f.cause }),
    });
    this.name = "HyperVMethodError";
    this.method = f.method;
    this.returnValue = f.returnValue;
    this.errorCode = errorCode;
    this.meaning = meaning.text;
    this.meaningSource = meaning.source;
    this.jobState = f.jobState;
    this.jobErrorCode = f.jobErrorCode;
    this.jobErrorDescription = f.jobErrorDescription;
    this.jobPath = f.jobPath;
    this.jobErrors = f.jobErrors ?? [];
  }
}

/** True for an error thrown because a Hyper-V method or its job failed. */
export function isHyperVMethodError(e: unknown): e is HyperVMethodError {
  return e instanceof HyperVMethodError;
}
