/**
 * The one error type that reaches users. Every failure the product reports carries a stable
 * `code` (used as the PowerShell ErrorId), a `category` (mapped to PowerShell's ErrorCategory)
 * and, where it helps, the `target` it concerns (a file, a VM, a parameter).
 *
 * Anything that is not an {@link HvbError} is a bug and is reported as such by the CLI.
 */
export class HvbError extends Error {
  /** Stable machine-readable identifier, e.g. `VhdxFormat`, `Usage`, `NotFound`. */
  readonly code: string;
  /** Broad class of failure; mirrors PowerShell's ErrorCategory names. */
  readonly category: HvbCategory;
  /** The file, VM, parameter or object the error concerns. */
  readonly target: string | undefined;

  constructor(code: string, message: string, details: HvbErrorDetails = {}) {
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
