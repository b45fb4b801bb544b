/**
 * Reading property values as they cross the CimSession seam. Real WMI hands uint64 values over
 * as strings (VT_BSTR) and may give a scalar where a one-element array was expected, so every
 * read goes through these lenient helpers. Folder-private.
 */
import { HvbError } from "../base/mod";

/** A number from a number or a decimal string; `undefined` for null/undefined/empty. */
export function numberOrUndefined(v: unknown): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

/** A number property that must be present; throws `HyperVUnexpectedData` otherwise. */
export function requireNumber(v: unknown, what: string): number {
  const n = numberOrUndefined(v);
  if (n === undefined) throw unexpected(`${what} is not a number: ${JSON.stringify(v)}`);
  return n;
}

/** A string, or `undefined` for null/undefined/empty. */
export function stringOrUndefined(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = String(v);
  return s === "" ? undefined : s;
}

/** An array from an array, a single value (one element) or null (empty). */
export function arrayOf(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** An array of strings (see {@link arrayOf}). */
export function stringArray(v: unknown): string[] {
  return arrayOf(v).map((x) => String(x));
}

/** An array of numbers (see {@link arrayOf}); throws when an element is not a number. */
export function numberArray(v: unknown, what: string): number[] {
  return arrayOf(v).map((x, i) => requireNumber(x, `${what}[${i}]`));
}

/** Error for data from the host that does not have the documented shape. */
export function unexpected(message: string, target?: string): HvbError {
  return new HvbError("HyperVUnexpectedData", message, {
    category: "InvalidData",
    ...(target === undefined ? {} : { target }),
  });
}

/** Quotes a string for a WQL literal ('...' with `\` and `'` escaped). */
export function wqlString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

const GUID_RE = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

/** True for a GUID with or without braces. */
export function isGuid(s: string): boolean {
  return GUID_RE.test(s.trim());
}

/** A GUID without braces or surrounding blanks (case kept: compare without case). */
export function normalizeGuid(s: string): string {
  return s.trim().replace(/^\{/, "").replace(/\}$/, "");
}

/** Copies an instance into an embedded instance: every property but `__PATH` (and other `__` system properties but `__CLASS`). */
export function toEmbedded(instance: Record<string, unknown>, overrides: Record<string, unknown> = {}): { __CLASS: string; [k: string]: unknown } {
  const out: { __CLASS: string; [k: string]: unknown } = { __CLASS: String(instance["__CLASS"]) };
  for (const [k, v] of Object.entries(instance)) {
    if (k.startsWith("__")) continue;
    out[k] = v;
  }
  return Object.assign(out, overrides);
}
