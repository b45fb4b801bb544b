import { HvbError } from "../base/mod";
import { readJsonDocument, writeJsonDocument } from "./json_document";
import { isPointId } from "./layout";

/** The catalog format this code reads and writes. Older versions are migrated, newer refused. */
export const CATALOG_FORMAT = "HyperVBackup.Catalog";
export const CATALOG_VERSION = 1;

/** How consistent a restore point is, as achieved (not as asked). */
export type Consistency = "application" | "crash";

/** One disk of a restore point, as the catalog records it. */
export interface PointDisk {
  /** Position of the disk in the VM (0-based, stable order by controller and location). */
  index: number;
  /** The disk's file, relative to the point's folder (`Virtual Hard Disks/00-web01.vhdx`). */
  file: string;
  /** The file the VM used on the host when the point was taken. */
  sourcePath: string;
  virtualSize: number;
  /** Hash unit of this disk's chain in bytes (fixed at the full, kept by its increments). */
  unitSize: number;
  /** Bytes of payload this point stored for the disk. */
  storedBytes: number;
  /** How the data was found: every allocated block, RCT changed ranges, or block hashes. */
  method: "full" | "rct" | "hash";
}

/** A reference point this product made on the host after a backup. */
export interface OurReferencePoint {
  /** Msvm_VirtualSystemReferencePoint InstanceID. */
  instanceId: string;
  /** Per disk index: the RCT id to ask changes from. */
  rctIds: Record<string, string>;
  /** Per disk index: the file the VM wrote to when the reference point was made. */
  diskPaths: Record<string, string>;
}

/** One restore point. */
export interface PointRecord {
  id: string;
  /** ISO 8601 UTC time the checkpoint was taken. */
  time: string;
  kind: "full" | "incremental";
  /** The point this one's disks are children of (incremental only). */
  parentId: string | null;
  consistency: Consistency;
  /** Bytes this point adds to the repository (its disk files, configuration and manifest). */
  sizeBytes: number;
  disks: PointDisk[];
  /** Reference point made on the host right after this point, if any (only on the newest). */
  referencePoint: OurReferencePoint | null;
  warnings: string[];
  /** The backup set (sets/<id>.json) this point belongs to; absent for a point of one VM alone. */
  setId?: string;
}

/** An interrupted prune, resumed before anything else touches the VM's folder. */
export interface PendingMerge {
  /** The full point being folded away. */
  fromId: string;
  /** The increment that becomes the new full. */
  intoId: string;
}

/** Everything the repository knows about one VM. */
export interface Catalog {
  format: typeof CATALOG_FORMAT;
  version: number;
  vmName: string;
  vmId: string;
  /** Oldest first. */
  points: PointRecord[];
  pendingMerge: PendingMerge | null;
}

/** A new, empty catalog. */
export function newCatalog(vmName: string, vmId: string): Catalog {
  return { format: CATALOG_FORMAT, version: CATALOG_VERSION, vmName, vmId, points: [], pendingMerge: null };
}

/** Reads and validates a catalog; the version is checked before anything else is read. */
export function readCatalog(file: string): Catalog {
  const { data, bad } = readJsonDocument(file, "Catalog");
  const c = data as Partial<Catalog>;
  if (typeof c !== "object" || c === null) bad("(root)", "an object");
  if (c.format !== CATALOG_FORMAT) bad("format", `'${CATALOG_FORMAT}'`);
  if (typeof c.version !== "number") bad("version", "a number");
  if (c.version! > CATALOG_VERSION) {
    throw new HvbError("CatalogTooNew", `Catalog '${file}' has format version ${c.version}; this HyperVBackup reads up to ${CATALOG_VERSION}: upgrade HyperVBackup`, { category: "InvalidData", target: file });
  }
  if (typeof c.vmName !== "string") bad("vmName", "a string");
  if (typeof c.vmId !== "string") bad("vmId", "a string");
  if (!Array.isArray(c.points)) bad("points", "an array");
  c.points!.forEach((p, i) => {
    const at = `points[${i}]`;
    if (typeof p !== "object" || p === null) bad(at, "an object");
    if (typeof p.id !== "string" || !isPointId(p.id)) bad(`${at}.id`, "a restore point id");
    if (typeof p.time !== "string" || Number.isNaN(Date.parse(p.time))) bad(`${at}.time`, "an ISO 8601 time");
    if (p.kind !== "full" && p.kind !== "incremental") bad(`${at}.kind`, "'full' or 'incremental'");
    if (!Array.isArray(p.disks)) bad(`${at}.disks`, "an array");
    if (p.setId !== undefined && typeof p.setId !== "string") bad(`${at}.setId`, "a backup set id");
    p.disks.forEach((d, j) => {
      if (typeof d.file !== "string") bad(`${at}.disks[${j}].file`, "a string");
      if (!Number.isSafeInteger(d.virtualSize) || d.virtualSize <= 0) bad(`${at}.disks[${j}].virtualSize`, "a positive integer");
      if (!Number.isSafeInteger(d.unitSize) || d.unitSize <= 0) bad(`${at}.disks[${j}].unitSize`, "a positive integer");
    });
  });
  return { ...(c as Catalog), pendingMerge: c.pendingMerge ?? null };
}

/** Writes a catalog atomically: the commit point of every change to the repository. */
export function writeCatalog(file: string, catalog: Catalog): void {
  writeJsonDocument(file, catalog, 2);
}
