/**
 * What every emulated method shares: how it sees its call (context, arguments) and what it
 * returns (a synchronous ReturnValue, or a job).
 */
import type { CimInstance } from "../../cim/mod";
import { CimError } from "../../cim/mod";
import type { LabState } from "../host/model";
import type { MergeChange } from "../host/pending_merges";

/** Family A ("CIM style") return codes. */
export const A = { Ok: 0, NotSupported: 1, Failed: 2, Timeout: 3, InvalidParameter: 4, InvalidState: 5, IncompatibleParameters: 6 } as const;
/** Family B ("Msvm style") return codes. */
export const B = {
  Ok: 0,
  Failed: 32768,
  AccessDenied: 32769,
  NotSupported: 32770,
  StatusUnknown: 32771,
  Timeout: 32772,
  InvalidParameter: 32773,
  SystemInUse: 32774,
  InvalidState: 32775,
  IncorrectDataType: 32776,
  SystemNotAvailable: 32777,
  OutOfMemory: 32778,
  FileNotFoundOrInUse: 32779,
} as const;

/** CIM_AffectedJobElement.ElementEffects values used by the lab (5 = Create, 1 = Other = changed). */
export const EFFECT_CREATE = 5;
export const EFFECT_CHANGE = 1;

export interface MethodContext {
  state: LabState;
  dir: string;
  now: number;
  /** The instance the method was invoked on. */
  target: CimInstance;
  /** Looks up an instance by path (undefined when there is none). */
  resolve(path: string): CimInstance | undefined;
  /** Files to delete once the new state is committed (merged children). */
  deleteAfterCommit(files: readonly string[]): void;
}

export type MethodOutcome =
  | { kind: "sync"; returnValue: number; out?: Record<string, unknown> }
  | {
      kind: "job";
      description: string;
      affected: { path: string; effects: number[] }[];
      out?: Record<string, unknown>;
      /** The job ends in Exception at this percentage with this error; nothing was done. */
      fail?: { code: number; description: string; atPercent: number; details?: string[] };
      /** A merge the job does while it runs: applied when it completes (host/pending_merges.ts). */
      completes?: MergeChange;
    };

export type MethodHandler = (ctx: MethodContext, args: Args) => MethodOutcome;

export function sync(returnValue: number, out?: Record<string, unknown>): MethodOutcome {
  return out === undefined ? { kind: "sync", returnValue } : { kind: "sync", returnValue, out };
}

/** Method arguments with case-insensitive names, as WMI treats parameter names. */
export class Args {
  readonly #map = new Map<string, unknown>();
  constructor(raw: Record<string, unknown>) {
    for (const [k, v] of Object.entries(raw)) this.#map.set(k.toLowerCase(), v);
  }
  has(name: string): boolean {
    const v = this.#map.get(name.toLowerCase());
    return v !== undefined && v !== null;
  }
  raw(name: string): unknown {
    return this.#map.get(name.toLowerCase());
  }
  /** A string parameter; undefined when absent or null. */
  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw badType(name, "a string", v);
    return v;
  }
  /** A REF parameter: an object path, or an instance object carrying `__PATH`. */
  ref(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "object" && typeof (v as { __PATH?: unknown }).__PATH === "string") return (v as { __PATH: string }).__PATH;
    throw badType(name, "an object path", v);
  }
  /** An unsigned whole-number parameter. */
  uint(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw badType(name, "an unsigned integer", v);
    return n;
  }
  boolean(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "TRUE") return true;
    if (v === "false" || v === "FALSE") return false;
    throw badType(name, "a boolean", v);
  }
  /**
   * An embedded-instance parameter: an object with `__CLASS`, or JSON text of one. (Real WMI
   * carries MOF / DTD 2.0 text; the Windows transport converts, the seam takes objects.)
   */
  embedded(name: string): Record<string, unknown> | undefined {
    return toEmbedded(name, this.raw(name));
  }
  embeddedArray(name: string): Record<string, unknown>[] | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw badType(name, "an array of embedded instances", v);
    return v.map((x, i) => toEmbedded(`${name}[${i}]`, x)!).filter((x) => x !== undefined);
  }
}

function toEmbedded(name: string, v: unknown): Record<string, unknown> | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  let obj = v;
  if (typeof v === "string") {
    try {
      obj = JSON.parse(v);
    } catch {
      throw badType(name, "an embedded instance (object with __CLASS)", v);
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj) || typeof (obj as { __CLASS?: unknown }).__CLASS !== "string") {
    throw badType(name, "an embedded instance (object with __CLASS)", v);
  }
  return obj as Record<string, unknown>;
}

/** A parameter of the wrong CIM type: the call itself is rejected, as WMI does. */
export class ArgTypeError extends CimError {}

function badType(name: string, want: string, got: unknown): ArgTypeError {
  return new ArgTypeError("CimInvalidParameter", `Parameter ${name} must be ${want}, got ${JSON.stringify(got)}`, name);
}

/** Looks up a property without regard to case. */
export function prop(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const l = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === l) return obj[k];
  return undefined;
}
