/**
 * Set records: a backup of a VM group (a "set") publishes one restore point per member, each in
 * its member's catalog. The set record `<repo>/sets/<set id>.json` ties them together and is the
 * set's commit point (docs/design/repository.md, "Backup sets"):
 *
 * - written with state `committing` before the first member's catalog is written;
 * - rewritten with state `committed` after the last one;
 * - a set found `committing` was interrupted between the two: it is rolled back (every member
 *   point it lists is taken out of its catalog) before anything else uses the group's points.
 *
 * Readers (restore --group, prune and verify of sets) use committed sets only.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError, fsyncDir, readRegularFile } from "../base/mod";
import type * as v from "valibot";
import { SET_FORMAT, SET_VERSION, type SetMemberSchema, type SetObjectSchema, SetSchema, type SharedDiskSchema } from "./set_schema";
import { validateDocument } from "./schema_kit";
import { checkSelfChecksum, writeJsonDocument } from "./json_document";

export { SET_FORMAT, SET_VERSION } from "./set_schema";
export const SETS_DIR = "sets";

/** One member's point of a set. */
export type SetMember = v.InferOutput<typeof SetMemberSchema>;

/** The group's reference point collection made right after this set (only on the newest set). */
export type SetReferencePoint = NonNullable<SetRecord["referencePoint"]>;

/** A shared disk stored once for a set (a guest cluster's VHD Set). */
export type SetSharedDisk = v.InferOutput<typeof SharedDiskSchema>;

/** The folder of a set's shared disk files, relative to the repository root. */
export function sharedDiskDir(id: string): string {
  return `${SETS_DIR}/${id}.shared`;
}

/** A backup set record, as set_schema.ts describes it. */
export type SetRecord = Omit<v.InferOutput<typeof SetObjectSchema>, "checksum">;

/** A set id for a group's checkpoint taken at `time`. */
export function setId(time: Date, groupId: string): string {
  return `${time.toISOString().replace(/[-:]/g, "")}-${groupId.replace(/[^0-9A-Fa-f]/g, "").slice(0, 8).toLowerCase()}`;
}

/** True when `id` has the shape {@link setId} makes (so it is safe as a file name). */
export function isSetId(id: string): boolean {
  return /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{1,8}$/.test(id);
}

function setFile(root: string, id: string): string {
  if (!isSetId(id)) throw new HvbError("SetInvalid", `'${id}' is not a backup set id`, { category: "InvalidArgument", target: id });
  return path.join(root, SETS_DIR, `${id}.json`);
}

/** Reads and validates one set record. */
export function readSetRecord(file: string): SetRecord {
  if (!existsSync(file)) throw new HvbError("SetNotFound", `Backup set record '${file}' does not exist`, { category: "ObjectNotFound", target: file });
  const damaged = (what: string): never => {
    throw new HvbError("SetInvalid", `Backup set record '${file}' is damaged: ${what}`, { category: "InvalidData", target: file });
  };
  let data: unknown;
  try {
    // Only a regular file (a FIFO would block forever) of a bounded size.
    data = JSON.parse(readRegularFile(file, 16 * 1024 * 1024, "backup set record").toString("utf8"));
  } catch (e) {
    if (e instanceof HvbError && (e.code === "NotARegularFile" || e.code === "FileTooLarge")) damaged(e.message);
    damaged(`not valid JSON (${(e as Error).message})`);
  }
  const r = checkSelfChecksum(data, () => damaged("its content does not match its checksum")) as Partial<SetRecord> | null;
  const bad = (field: string, expected: string): never => damaged(`field '${field}' must be ${expected}`);
  if (typeof r !== "object" || r === null || Array.isArray(r)) return bad("(root)", "an object");
  if (r.format !== SET_FORMAT) bad("format", `'${SET_FORMAT}'`);
  if (typeof r.version === "number" && r.version > SET_VERSION) {
    throw new HvbError("SetInvalid", `Backup set record '${file}' has format version ${r.version}; this HyperVBackup reads up to ${SET_VERSION}: upgrade HyperVBackup`, { category: "InvalidData", target: file });
  }
  // Every field's type and range (set_schema.ts), then what ties the record to its file.
  validateDocument(SetSchema, r, bad);
  if (`${r.id}.json` !== path.basename(file)) bad("id", "the set id its file is named after");
  if (r.sharedDisks && r.version! < 2) bad("version", "2 for a set with sharedDisks");
  r.sharedDisks?.forEach((d, i) => {
    // A set's shared disk files are its own: nothing outside its folder is ever read through it.
    if (!d.file.startsWith(`${SETS_DIR}/${r.id}.shared/`)) bad(`sharedDisks[${i}].file`, `a file under ${SETS_DIR}/${r.id}.shared/`);
    if ((d.kind === "full") !== (d.parentSetId === null)) bad(`sharedDisks[${i}].parentSetId`, d.kind === "full" ? "null for a full" : "the parent set's id for an incremental");
    if (d.parentSetId !== null && d.parentSetId >= r.id!) bad(`sharedDisks[${i}].parentSetId`, "an earlier set's id");
  });
  return r as SetRecord;
}

/**
 * Writes a set record atomically (the set's commit point when its state becomes `committed`).
 * A record its reader would refuse (an id that is no GUID, say) is refused before it is written:
 * one unreadable record would stop every reader of the repository's sets.
 */
export function writeSetRecord(root: string, record: SetRecord): void {
  validateDocument(SetSchema, record, (field, expected) => {
    throw new HvbError("SetInvalid", `Backup set record ${record.id} was not written: field '${field}' must be ${expected}`, { category: "InvalidData", target: record.id });
  });
  const dir = path.join(root, SETS_DIR);
  const isNew = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  writeJsonDocument(setFile(root, record.id), record, 2);
  if (isNew) fsyncDir(root);
}

/** Removes a set record (a rolled-back or pruned set). */
export function removeSetRecord(root: string, id: string): void {
  rmSync(setFile(root, id), { force: true });
  if (existsSync(path.join(root, SETS_DIR))) fsyncDir(path.join(root, SETS_DIR));
}

/** Every set record of the repository, oldest first (ids sort by time). */
export function listSetRecords(root: string): SetRecord[] {
  const dir = path.join(root, SETS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json") && isSetId(n.slice(0, -5)))
    .sort()
    .map((n) => readSetRecord(path.join(dir, n)));
}
