import { LIMITS } from "./catalog_schema";
import { readJsonDocument, writeJsonDocument } from "./json_document";
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, ManifestSchema } from "./manifest_schema";
import { validateDocument } from "./schema_kit";

export { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type ManifestDisk, type ManifestFile } from "./manifest_schema";

/**
 * Reads and validates a manifest against {@link ManifestSchema} (format and version first):
 * the first problem is reported naming the file and the field.
 */
export function readManifest(file: string): Manifest {
  const { data, bad } = readJsonDocument(file, "Manifest", LIMITS.maxManifestBytes);
  const head = data as { format?: unknown; version?: unknown } | null;
  if (typeof head !== "object" || head === null || Array.isArray(head)) return bad("(root)", "an object");
  if (head.format !== MANIFEST_FORMAT) bad("format", `'${MANIFEST_FORMAT}'`);
  if (typeof head.version !== "number" || head.version > MANIFEST_VERSION) bad("version", `a number up to ${MANIFEST_VERSION}`);
  const m = validateDocument(ManifestSchema, data, bad) as Manifest & { checksum?: string };
  delete m.checksum;
  return m;
}

/** Writes a manifest atomically. */
export function writeManifest(file: string, manifest: Manifest): void {
  writeJsonDocument(file, manifest);
}
