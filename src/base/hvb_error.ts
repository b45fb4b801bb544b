import type { HvbErrorCode } from "./error_codes";

/**
 * The one error type that reaches users. Every failure the product reports carries a stable
 * `code` (used as the PowerShell ErrorId), a `category` (mapped to PowerShell's ErrorCategory)
 * and, where it helps, the `target` it concerns (a file, a VM, a parameter).
 *
 * Anything that is not an {@link HvbError} is a bug and is reported as such by the CLI.
 */
export class HvbError extends Error {
  /** Stable machine-readable identifier, e.g. `VhdxFormat`, `Usage`, `NotFound`. */
  readonly code: HvbErrorCode;
  /** Broad class of failure; mirrors PowerShell's ErrorCategory names. */
  readonly category: HvbCategory;
  /** The file, VM, parameter or object the error concerns. */
  readonly target: string | undefined;

  constructor(code: HvbErrorCode, message: string, details: HvbErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "HvbError";
    this.code = code;
    this.category = details.category ?? "NotSpecified";
    this.target = details.target;
  }
}

/** Optional details of an {@link HvbError}. */
export interface HvbErrorDetails {
  category?: HvbCategory;
  target?: string;
  cause?: unknown;
}

/** The subset of PowerShell's ErrorCategory values the product uses. */
export type HvbCategory =
  | "NotSpecified"
  | "InvalidArgument"
  | "InvalidData"
  | "InvalidOperation"
  | "ObjectNotFound"
  | "ResourceUnavailable"
  | "ResourceBusy"
  | "ReadError"
  | "WriteError"
  | "OperationStopped"
  | "DeviceError"
  | "NotImplemented"
  | "PermissionDenied";

/** Thrown for a wrong command line; the CLI exits with code 2. */
export class UsageError extends HvbError {
  constructor(message: string) {
    super("Usage", message, { category: "InvalidArgument" });
    this.name = "UsageError";
  }
}

/** True when `e` is an error the product raised on purpose (as opposed to a bug). */
export function isHvbError(e: unknown): e is HvbError {
  return e instanceof HvbError;
}

/**
 * Turns anything thrown into an {@link HvbError} for reporting: operating-system errors keep
 * their message (it names the path) under a code that says what happened; anything else is an
 * internal error (a bug).
 */
export function toHvbError(e: unknown): HvbError {
  if (isHvbError(e)) return e;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string" && typeof err.message === "string") {
    const byCode: Record<string, [HvbErrorCode, HvbCategory]> = {
      ENOENT: ["FileNotFound", "ObjectNotFound"],
      EACCES: ["AccessDenied", "PermissionDenied"],
      EPERM: ["AccessDenied", "PermissionDenied"],
      ENOSPC: ["DiskFull", "WriteError"],
      EEXIST: ["FileExists", "ResourceUnavailable"],
      EISDIR: ["IsADirectory", "InvalidArgument"],
      ENOTDIR: ["NotADirectory", "InvalidArgument"],
    };
    const [code, category] = byCode[err.code] ?? ["IoError", "NotSpecified"] as [HvbErrorCode, HvbCategory];
    return new HvbError(code, err.message, { category, ...(err.path ? { target: err.path } : {}), cause: e });
  }
  if (e instanceof RangeError && /Array buffer allocation failed|Invalid array length/.test(e.message)) {
    return new HvbError("OutOfMemory", `Cannot allocate memory: ${e.message}`, { category: "ResourceUnavailable", cause: e });
  }
  return new HvbError("InternalError", `internal error: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
