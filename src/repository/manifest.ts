import { readJsonDocument, writeJsonDocument } from "./json_document";

export const MANIFEST_FORMAT = "HyperVBackup.Manifest";
export const MANIFEST_VERSION = 1;

/**
 * What one disk of a restore point holds. `units` maps a unit index (offset / unitSize) to the
 * SHA-256 of the guest-visible bytes of that unit at this point, for every unit this point
 * stored. A full lists every unit that is not all zero (absent units are zero); an increment
 * lists the units it changed (including units that became zero). So the content of unit u at
 * point P is given by the newest point at or before P, in P's chain, that lists u.
 */
export interface ManifestDisk {
  index: number;
  file: string;
  virtualSize: number;
  unitSize: number;
  units: Record<string, string>;
}

/** One file of the exported configuration, with its hash. */
export interface ManifestFile {
  file: string;
  size: number;
  sha256: string;
}

/** The manifest of one restore point (`points/<id>/manifest.json`). */
export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  pointId: string;
  vmId: string;
  vmName: string;
  time: string;
  kind: "full" | "incremental";
  parentId: string | null;
  disks: ManifestDisk[];
  configuration: ManifestFile[];
}

/** Reads and validates a manifest (version checked first). */
export function readManifest(file: string): Manifest {
  const { data, bad } = readJsonDocument(file, "Manifest");
  const m = data as Partial<Manifest>;
  if (typeof m !== "object" || m === null) bad("(root)", "an object");
  if (m.format !== MANIFEST_FORMAT) bad("format", `'${MANIFEST_FORMAT}'`);
  if (typeof m.version !== "number" || m.version > MANIFEST_VERSION) bad("version", `a number up to ${MANIFEST_VERSION}`);
  if (!Array.isArray(m.disks)) bad("disks", "an array");
  m.disks!.forEach((d, i) => {
    if (typeof d.file !== "string") bad(`disks[${i}].file`, "a string");
    if (!Number.isSafeInteger(d.unitSize) || d.unitSize <= 0) bad(`disks[${i}].unitSize`, "a positive integer");
    if (typeof d.units !== "object" || d.units === null) bad(`disks[${i}].units`, "an object");
    for (const [k, v] of Object.entries(d.units)) {
      if (!/^\d+$/.test(k) || typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) bad(`disks[${i}].units.${k}`, "a SHA-256 in hex under a unit index");
    }
  });
  if (!Array.isArray(m.configuration)) bad("configuration", "an array");
  return m as Manifest;
}

/** Writes a manifest atomically. */
export function writeManifest(file: string, manifest: Manifest): void {
  writeJsonDocument(file, manifest);
}
