import * as v from "valibot";
import { LIMITS } from "./catalog_schema";
import { CONFIG_DIR, DISKS_DIR } from "./layout";
import { crossCheck, described, type FieldProblem, integer, isoTime, list, map, oneOf, powerOfTwo, text } from "./schema_kit";

/**
 * manifest.json, described once (see catalog_schema.ts for how the schema is used).
 */

export const MANIFEST_FORMAT = "HyperVBackup.Manifest";
export const MANIFEST_VERSION = 1;

const POINT_ID = /^\d{8}T\d{6}\.\d{3}Z-(full|incr)$/;
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const DISK_FILE = new RegExp(`^${DISKS_DIR}/[A-Za-z0-9][A-Za-z0-9._-]{0,150}\\.a?vhdx$`);
/** A configuration file: below `Virtual Machines/` or `Snapshots/`, no empty, `.` or `..` segment. */
const CONFIG_FILE = new RegExp(`^(${CONFIG_DIR}|Snapshots)(/(?!\\.\\.?(/|$))[^/\\\\:*?"<>|\\x00-\\x1f]{1,255}){1,8}$`);
/** Most units one disk can have: the largest disk in the smallest unit. */
const MAX_UNITS = LIMITS.maxVirtualSize / LIMITS.minUnitSize;

/** Schema of what one disk of a restore point holds. */
export const ManifestDiskSchema = v.strictObject({
  index: described(integer(0, LIMITS.maxDisks - 1, `a disk position from 0 to ${LIMITS.maxDisks - 1}`), "Position of the disk in the VM; the catalog's disk with the same position."),
  file: described(text(200, `'${DISKS_DIR}/<name>.vhdx' or '.avhdx'`, DISK_FILE), "The disk's file, relative to the point's folder (as the catalog names it)."),
  virtualSize: described(integer(512, LIMITS.maxVirtualSize, "a size in bytes from 512 to 64 TiB"), "Size of the disk as the guest sees it."),
  unitSize: described(powerOfTwo(LIMITS.minUnitSize, LIMITS.maxUnitSize, "a power of two from 64 KiB to 256 MiB"), "Hash unit in bytes."),
  units: described(
    map(/^(0|[1-9]\d{0,11})$/, "unit numbers (offset / unitSize)", text(64, "a SHA-256 in lower-case hex", SHA256), MAX_UNITS, "an object keyed by unit number"),
    "Unit number → SHA-256 of the guest-visible bytes of that unit at this point, for every unit this point stored. Every unit number is below virtualSize / unitSize.",
  ),
});

/** Schema of one file of the exported configuration, with its hash. */
export const ManifestFileSchema = v.strictObject({
  file: described(text(2048, `a path below '${CONFIG_DIR}/' or 'Snapshots/' without '..'`, CONFIG_FILE), "The file, relative to the point's folder."),
  size: described(integer(0, LIMITS.maxConfigurationFileSize, "a size in bytes of at most 1 GiB"), "Its size."),
  sha256: described(text(64, "a SHA-256 in lower-case hex", SHA256), "Its SHA-256."),
});

/** The fields of manifest.json. */
export const ManifestObjectSchema = v.strictObject({
  format: described(oneOf([MANIFEST_FORMAT] as const), "What this file is."),
  version: described(integer(1, MANIFEST_VERSION, `a format version from 1 to ${MANIFEST_VERSION}`), "Format version."),
  pointId: described(text(40, "a restore point id like 20261123T180000.123Z-full", POINT_ID), "The point this manifest describes: the catalog's id and the folder's name."),
  vmId: described(text(36, "a GUID", GUID), "The VM's id (the catalog's)."),
  vmName: described(text(256, "a VM name of at most 256 characters"), "The VM's name at this point."),
  time: described(isoTime(), "UTC time of the checkpoint (the catalog's)."),
  kind: described(oneOf(["full", "incremental"] as const), "The catalog's kind."),
  parentId: described(v.nullable(text(40, "a restore point id", POINT_ID)), "The catalog's parentId."),
  disks: described(list(ManifestDiskSchema, 1, LIMITS.maxDisks, `a list of 1 to ${LIMITS.maxDisks} disks`), "What each disk holds: the catalog's disks, one for one."),
  configuration: described(list(ManifestFileSchema, 1, LIMITS.maxConfigurationFiles, `a list of 1 to ${LIMITS.maxConfigurationFiles} files`), "Every file of the exported configuration: exactly what a restore imports."),
  checksum: described(v.optional(text(64, "a SHA-256 in hex", SHA256)), "SHA-256 of the compact JSON of the other fields."),
});

/** Schema of manifest.json. */
export const ManifestSchema = v.pipe(ManifestObjectSchema, crossCheck<v.InferOutput<typeof ManifestObjectSchema>>(manifestProblem));

/** The manifest of one restore point (`points/<id>/manifest.json`). */
export type Manifest = Omit<v.InferOutput<typeof ManifestObjectSchema>, "checksum">;
/**
 * What one disk of a restore point holds. A full lists every unit that is not all zero (absent
 * units are zero); an increment lists the units it changed (including units that became zero).
 * So the content of unit u at point P is given by the newest point at or before P, in P's
 * chain, that lists u.
 */
export type ManifestDisk = v.InferOutput<typeof ManifestDiskSchema>;
/** One file of the exported configuration, with its hash. */
export type ManifestFile = v.InferOutput<typeof ManifestFileSchema>;

/** Disk positions and files unique, units inside the disk, one VM definition. */
function manifestProblem(m: { disks: readonly ManifestDisk[]; configuration: readonly ManifestFile[] }): FieldProblem | undefined {
  const indexes = new Set<number>();
  for (const [i, d] of m.disks.entries()) {
    if (indexes.has(d.index)) return { path: ["disks", i, "index"], expected: "unique within the manifest", found: d.index };
    indexes.add(d.index);
    const count = Math.ceil(d.virtualSize / d.unitSize);
    for (const k of Object.keys(d.units)) {
      if (Number(k) >= count) return { path: ["disks", i, "units", k], expected: `under a unit number below ${count} (virtualSize / unitSize)`, found: k };
    }
  }
  const files = new Set<string>();
  for (const [i, f] of m.configuration.entries()) {
    if (files.has(f.file.toLowerCase())) return { path: ["configuration", i, "file"], expected: "unique within the manifest", found: f.file };
    files.add(f.file.toLowerCase());
  }
  const definitions = m.configuration.filter((f) => f.file.startsWith(`${CONFIG_DIR}/`) && /\.vmcx$/i.test(f.file) && f.file.split("/").length === 2);
  if (definitions.length !== 1) return { path: ["configuration"], expected: `a list with exactly one VM definition '${CONFIG_DIR}/<id>.vmcx'`, found: definitions.length };
  return undefined;
}
