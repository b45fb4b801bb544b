import { HvbError } from "../base/mod";
import { CATALOG_FORMAT, CATALOG_VERSION, type Catalog, CatalogSchema, LIMITS, type PointRecord } from "./catalog_schema";
import { readJsonDocument, writeJsonDocument } from "./json_document";
import { validateDocument } from "./schema_kit";

export {
  CATALOG_FORMAT,
  CATALOG_VERSION,
  LIMITS,
  type Catalog,
  type Consistency,
  type OurReferencePoint,
  type PendingMerge,
  type PointDisk,
  type PointRecord,
} from "./catalog_schema";

/** A new, empty catalog. */
export function newCatalog(vmName: string, vmId: string): Catalog {
  return { format: CATALOG_FORMAT, version: CATALOG_VERSION, vmName, vmId, points: [], pendingMerge: null };
}

/**
 * Reads and validates a catalog against {@link CatalogSchema}: the version is checked before
 * anything else is read, then every field's type and range and what ties fields together (see
 * catalog_schema.ts); the first problem is reported naming the file and the field. A catalog
 * written before commit numbers gets them from its order.
 */
export function readCatalog(file: string): Catalog {
  const { data, bad } = readJsonDocument(file, "Catalog", LIMITS.maxCatalogBytes);
  const head = data as { format?: unknown; version?: unknown } | null;
  if (typeof head !== "object" || head === null || Array.isArray(head)) return bad("(root)", "an object");
  if (head.format !== CATALOG_FORMAT) bad("format", `'${CATALOG_FORMAT}'`);
  if (typeof head.version === "number" && head.version > CATALOG_VERSION) {
    throw new HvbError("CatalogTooNew", `Catalog '${file}' has format version ${head.version}; this HyperVBackup reads up to ${CATALOG_VERSION}: upgrade HyperVBackup`, { category: "InvalidData", target: file });
  }
  const c = validateDocument(CatalogSchema, data, bad) as Catalog & { checksum?: string };
  delete c.checksum;
  c.points.forEach((p, i) => (p.seq ??= i + 1));
  return c;
}

/** The commit number the next point gets. */
export function nextSeq(catalog: Catalog): number {
  return catalog.points.reduce((m, p) => Math.max(m, p.seq ?? 0), 0) + 1;
}

/** The newest point in commit order (not by the clock), if any. */
export function newestPoint(catalog: Catalog): PointRecord | undefined {
  return catalog.points[catalog.points.length - 1];
}

/**
 * Writes a catalog atomically: the commit point of every change to the repository. It is
 * validated first, so a bug can never commit a catalog the next run refuses to read.
 */
export function writeCatalog(file: string, catalog: Catalog): void {
  validateDocument(CatalogSchema, JSON.parse(JSON.stringify(catalog)), (field, expected) => {
    throw new HvbError("InternalError", `Refusing to write catalog '${file}': field '${field}' must be ${expected}`, { category: "InvalidOperation", target: file });
  });
  writeJsonDocument(file, catalog, 2);
}
