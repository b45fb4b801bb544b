import * as v from "valibot";
import { DISKS_DIR } from "./layout";
import { crossCheck, described, type FieldProblem, integer, isoTime, list, map, oneOf, powerOfTwo, text } from "./schema_kit";

/**
 * catalog.json, described once: the reader validates it with this schema, the types below are
 * inferred from it and the field table in docs/design/repository.md is generated from it
 * (test/unit/repository/schema_docs.test.ts keeps them equal).
 */

export const CATALOG_FORMAT = "HyperVBackup.Catalog";
export const CATALOG_VERSION = 1;

/** Bounds every reader enforces before it allocates anything sized by a document. */
export const LIMITS = {
  /** Smallest hash unit: below it a unit list would be huge for a small disk. */
  minUnitSize: 64 * 1024,
  /** Largest hash unit (and VHDX block size). */
  maxUnitSize: 256 * 1024 * 1024,
  /** Largest virtual disk VHDX allows (64 TiB). */
  maxVirtualSize: 64 * 1024 ** 4,
  /** Hyper-V's limit: 4 IDE and 4 × 64 SCSI disks. */
  maxDisks: 260,
  maxPoints: 10000,
  maxWarnings: 1000,
  /** Files a point's configuration export may have. */
  maxConfigurationFiles: 10000,
  /** Largest configuration file (a .vmcx is kilobytes; saved memory is not exported here). */
  maxConfigurationFileSize: 1024 ** 3,
  /** Largest catalog.json / manifest.json read, checked before reading. */
  maxCatalogBytes: 64 * 1024 ** 2,
  maxManifestBytes: 512 * 1024 ** 2,
} as const;

const POINT_ID = /^\d{8}T\d{6}\.\d{3}Z-(full|incr)$/;
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** What the point writer names a disk file (diskBaseName): no separators, no leading dot. */
const DISK_FILE = new RegExp(`^${DISKS_DIR}/[A-Za-z0-9][A-Za-z0-9._-]{0,150}\\.a?vhdx$`);

const pointIdField = text(40, "a restore point id like 20261123T180000.123Z-full", POINT_ID);
const diskIndex = integer(0, LIMITS.maxDisks - 1, `a disk position from 0 to ${LIMITS.maxDisks - 1}`);

/** Schema of one disk of a restore point in the catalog. */
export const PointDiskSchema = v.strictObject({
  index: described(diskIndex, "Position of the disk in the VM (stable order by controller and location)."),
  location: described(
    v.optional(text(1024, "a controller location like '<controller guid>\\0\\1' (lower case)", /^[^\u0000-\u001f]+$/)),
    "Where the disk was attached: the `<controller>\\<n>\\<lun>` part of its resource InstanceID, lower case. The next backup builds on this disk only at the same location and position. Absent in points written before it existed.",
  ),
  file: described(text(200, `'${DISKS_DIR}/<name>.vhdx' (full copy) or '.avhdx' (increment)`, DISK_FILE), "The disk's file, relative to the point's folder."),
  sourcePath: described(text(32767, "a path of at most 32767 characters"), "The file the VM used on the host when the point was taken."),
  virtualSize: described(integer(512, LIMITS.maxVirtualSize, "a size in bytes from 512 to 64 TiB"), "Size of the disk as the guest sees it."),
  unitSize: described(powerOfTwo(LIMITS.minUnitSize, LIMITS.maxUnitSize, "a power of two from 64 KiB to 256 MiB"), "Hash unit of this disk's chain in bytes (fixed at the full, kept by its increments)."),
  storedBytes: described(integer(0, Number.MAX_SAFE_INTEGER, "a byte count (a non-negative integer)"), "Bytes of payload this point stored for the disk."),
  method: described(oneOf(["full", "rct", "hash"] as const), "How the data was found: every allocated block, RCT changed ranges or block hashes. An `.avhdx` is never `full`; a `.vhdx` in an increment (a new or resized disk) always is."),
});

/** Schema of a reference point this product made on the host after a backup. */
export const OurReferencePointSchema = v.strictObject({
  instanceId: described(text(1024, "a string of at most 1024 characters"), "Msvm_VirtualSystemReferencePoint InstanceID."),
  rctIds: described(map(/^\d{1,3}$/, "disk positions", text(4096, "an RCT id"), LIMITS.maxDisks, "an object keyed by disk position"), "Per disk position: the RCT id to ask changes from."),
  diskPaths: described(map(/^\d{1,3}$/, "disk positions", text(32767, "a path"), LIMITS.maxDisks, "an object keyed by disk position"), "Per disk position: the file the VM wrote to when the reference point was made."),
});

/** Schema of one restore point in the catalog. */
export const PointRecordSchema = v.strictObject({
  id: described(pointIdField, "The point's id: the UTC time of its checkpoint and its kind at creation; also its folder name."),
  seq: described(
    v.optional(integer(1, Number.MAX_SAFE_INTEGER, "a commit number (a positive integer)")),
    "Commit order: 1 more than the largest before it. Points are ordered by it, not by the clock. Absent in catalogs written before it existed (then the order of the list).",
  ),
  time: described(isoTime(), "UTC time the checkpoint was taken (by the host's clock)."),
  kind: described(oneOf(["full", "incremental"] as const), "A full's disks are standalone; an increment's are children of its parent's."),
  parentId: described(v.nullable(pointIdField), "The point this one's disks are children of (incremental only; null for a full)."),
  consistency: described(oneOf(["application", "file-system", "crash"] as const), "Consistency achieved (not asked): application (the guest's VSS writers took part), file-system (a Linux guest froze its file systems), crash."),
  sizeBytes: described(integer(0, Number.MAX_SAFE_INTEGER, "a byte count (a non-negative integer)"), "Bytes this point adds to the repository."),
  disks: described(list(PointDiskSchema, 1, LIMITS.maxDisks, `a list of 1 to ${LIMITS.maxDisks} disks`), "The point's disks."),
  referencePoint: described(v.nullable(OurReferencePointSchema), "Reference point made on the host right after this point, if any (only on the newest)."),
  warnings: described(list(text(4096, "a string of at most 4096 characters"), 0, LIMITS.maxWarnings, `a list of at most ${LIMITS.maxWarnings}`), "Warnings the backup gave."),
  setId: described(
    v.optional(text(40, "a backup set id like 20261204T113000.123Z-1a2b3c4d", /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{1,8}$/)),
    "The backup set (`sets/<id>.json`) this point belongs to; absent for a point of one VM alone.",
  ),
});

/** Schema of an interrupted prune's merge. */
export const PendingMergeSchema = v.strictObject({
  fromId: described(pointIdField, "The point being merged away: any point but the newest (the oldest, a full, for a retention)."),
  intoId: described(pointIdField, "The increment that takes over its blocks: the point right after it, whose parent it is (it becomes a full when the point merged away was one)."),
});

/** The fields of catalog.json. */
export const CatalogObjectSchema = v.strictObject({
  format: described(oneOf([CATALOG_FORMAT] as const), "What this file is."),
  version: described(integer(1, CATALOG_VERSION, `a format version from 1 to ${CATALOG_VERSION}`), "Format version; a newer one is refused with a message to upgrade."),
  vmName: described(text(256, "a VM name of at most 256 characters"), "The VM's name when it was last backed up."),
  vmId: described(text(36, "a GUID like 8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41", GUID), "The VM's id."),
  points: described(list(PointRecordSchema, 0, LIMITS.maxPoints, `a list of at most ${LIMITS.maxPoints} points`), "Restore points, oldest first (in commit order)."),
  pendingMerge: described(v.optional(v.nullable(PendingMergeSchema), null), "A prune's merge that was interrupted; finished by the next prune."),
  checksum: described(v.optional(text(64, "a SHA-256 in hex", /^[0-9a-f]{64}$/)), "SHA-256 of the compact JSON of the other fields."),
});

/** Schema of catalog.json. */
export const CatalogSchema = v.pipe(CatalogObjectSchema, crossCheck<v.InferOutput<typeof CatalogObjectSchema>>(catalogProblem));

/** catalog.json, as read and written. */
export type Catalog = Omit<v.InferOutput<typeof CatalogObjectSchema>, "checksum">;
/** One restore point. */
export type PointRecord = v.InferOutput<typeof PointRecordSchema>;
/** One disk of a restore point, as the catalog records it. */
export type PointDisk = v.InferOutput<typeof PointDiskSchema>;
/** A reference point this product made on the host after a backup. */
export type OurReferencePoint = v.InferOutput<typeof OurReferencePointSchema>;
/** An interrupted prune, resumed before anything else touches the VM's folder. */
export type PendingMerge = v.InferOutput<typeof PendingMergeSchema>;
/** How consistent a restore point is, as achieved (not as asked). */
export type Consistency = PointRecord["consistency"];

/**
 * What no single field can say: ids and commit numbers unique and in order, parents earlier in
 * the list, a full without parent, disks unique, each disk's method agreeing with its file and
 * its parent's disk, and a pending merge that names the oldest full and the increment on it.
 */
function catalogProblem(c: { points: readonly PointRecord[]; pendingMerge: PendingMerge | null }): FieldProblem | undefined {
  const seen = new Map<string, number>();
  const withSeq = c.points.filter((p) => p.seq !== undefined).length;
  for (const [i, p] of c.points.entries()) {
    const at = ["points", i];
    if (seen.has(p.id)) return { path: [...at, "id"], expected: `unique: points[${seen.get(p.id)}] has the same id`, found: p.id };
    if (withSeq !== 0 && withSeq !== c.points.length) return { path: [...at, "seq"], expected: "present on every point or on none (a catalog from before commit numbers)", found: p.seq };
    if (i > 0 && p.seq !== undefined && p.seq <= c.points[i - 1]!.seq!) return { path: [...at, "seq"], expected: `greater than the point before it (${c.points[i - 1]!.seq}): the list is in commit order`, found: p.seq };
    if (p.kind === "incremental" && p.id.endsWith("-full")) return { path: [...at, "kind"], expected: "'full' for a point created as a full (an id ending in -full)", found: p.kind };
    if (p.kind === "full" && p.parentId !== null) return { path: [...at, "parentId"], expected: "null for a full", found: p.parentId };
    let parent: PointRecord | undefined;
    if (p.kind === "incremental") {
      const j = p.parentId === null ? undefined : seen.get(p.parentId);
      if (j === undefined) return { path: [...at, "parentId"], expected: "the id of an earlier point in the list", found: p.parentId };
      parent = c.points[j];
    }
    const indexes = new Set<number>();
    const files = new Set<string>();
    for (const [k, d] of p.disks.entries()) {
      const dat = [...at, "disks", k];
      if (indexes.has(d.index)) return { path: [...dat, "index"], expected: "unique within the point", found: d.index };
      if (files.has(d.file)) return { path: [...dat, "file"], expected: "unique within the point", found: d.file };
      indexes.add(d.index);
      files.add(d.file);
      const differencing = d.file.endsWith(".avhdx");
      // A merged full keeps the method its data was last found by; a .vhdx in an increment is a
      // disk copied whole (new or resized), and an .avhdx holds only changes.
      if (differencing ? d.method === "full" : p.kind === "incremental" && d.method !== "full") {
        return { path: [...dat, "method"], expected: differencing ? "'rct' or 'hash' for a differencing (.avhdx) file" : "'full' for a .vhdx file in an increment", found: d.method };
      }
      if (differencing) {
        if (!parent) return { path: [...dat, "file"], expected: "a .vhdx file in a full point (an .avhdx needs a parent point)", found: d.file };
        const pd = parent.disks.find((x) => x.index === d.index);
        if (!pd) return { path: [...dat, "index"], expected: `a disk position the parent point '${parent.id}' has (an .avhdx is a child of the same disk)`, found: d.index };
        if (pd.virtualSize !== d.virtualSize) return { path: [...dat, "virtualSize"], expected: `${pd.virtualSize}, the size of the same disk in the parent point`, found: d.virtualSize };
        if (pd.unitSize !== d.unitSize) return { path: [...dat, "unitSize"], expected: `${pd.unitSize}, the unit of the same disk in the parent point`, found: d.unitSize };
      }
    }
    if (p.kind === "incremental" && !p.disks.some((d) => d.file.endsWith(".avhdx"))) return { path: [...at, "kind"], expected: "'full' for a point none of whose disks is an increment", found: p.kind };
    seen.set(p.id, i);
  }
  const m = c.pendingMerge;
  if (m) {
    // Any point but the newest may be merged into the next (prune --point of a middle point).
    const at = c.points.findIndex((p) => p.id === m.fromId);
    const from = c.points[at];
    const into = c.points[at + 1];
    if (!from) return { path: ["pendingMerge", "fromId"], expected: "the id of a point of the catalog", found: m.fromId };
    if (!into || into.id !== m.intoId || into.parentId !== m.fromId) return { path: ["pendingMerge", "intoId"], expected: `the id of the point after '${m.fromId}' whose parent it is`, found: m.intoId };
  }
  return undefined;
}
