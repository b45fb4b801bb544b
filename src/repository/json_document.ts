import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { HvbError, readRegularFile } from "../base/mod";
import { writeFileAtomic } from "../base/mod";

/**
 * The repository's JSON files (catalog.json, manifest.json): read with one clear message per
 * kind of damage, written atomically, and carrying a self-checksum so that a flipped byte —
 * even inside a string, where the JSON stays valid — is detected.
 */
export interface JsonDocument {
  /** The parsed content without its checksum field. */
  data: unknown;
  /** Throws the "damaged" error for a field that is not what it must be. */
  bad(field: string, expected: string): never;
}

/**
 * Reads `file` as a `kind` (`Catalog`, `Manifest`) of at most `maxBytes`: missing → `<kind>Missing`; not JSON, wrong
 * checksum or (through `bad`) a wrong field → `<kind>Invalid`, naming the file and the field.
 */
export function readJsonDocument(file: string, kind: "Catalog" | "Manifest", maxBytes: number): JsonDocument {
  if (!existsSync(file)) throw new HvbError(`${kind}Missing`, `${kind} '${file}' does not exist`, { category: "ObjectNotFound", target: file });
  const damaged = (what: string): never => {
    throw new HvbError(`${kind}Invalid`, `${kind} '${file}' is damaged: ${what}`, { category: "InvalidData", target: file });
  };
  let bytes: Buffer;
  try {
    // Only a regular file (a FIFO would block forever) of a bounded size (checked before reading).
    bytes = readRegularFile(file, maxBytes, kind.toLowerCase());
  } catch (e) {
    if (e instanceof HvbError && (e.code === "NotARegularFile" || e.code === "FileTooLarge")) damaged(e.message);
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    damaged(`not valid JSON (${(e as Error).message})`);
  }
  data = checkSelfChecksum(data, () => damaged("its content does not match its checksum"));
  return { data, bad: (field, expected) => damaged(`field '${field}' must be ${expected}`) };
}

/** Writes `value` to `file` atomically with its self-checksum; `indent` for files people read. */
export function writeJsonDocument(file: string, value: object, indent?: number): void {
  writeFileAtomic(file, `${JSON.stringify(withSelfChecksum(value), null, indent)}\n`);
}

/**
 * A copy of `value` with a `checksum` field last: the SHA-256 of the compact JSON of the other
 * fields.
 */
export function withSelfChecksum<T extends object>(value: T): T & { checksum: string } {
  const { checksum: _old, ...rest } = value as T & { checksum?: string };
  return { ...(rest as T), checksum: createHash("sha256").update(JSON.stringify(rest)).digest("hex") };
}

/**
 * Checks the `checksum` field {@link withSelfChecksum} wrote (files written before it existed
 * have none and are accepted) and returns the value without it; calls `damaged` on a mismatch.
 */
export function checkSelfChecksum(value: unknown, damaged: () => never): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value) || !("checksum" in value)) return value;
  const { checksum, ...rest } = value as { checksum: unknown };
  if (typeof checksum !== "string" || createHash("sha256").update(JSON.stringify(rest)).digest("hex") !== checksum) damaged();
  return rest;
}
