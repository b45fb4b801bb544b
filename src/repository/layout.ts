import * as path from "node:path";
import { HvbError } from "../base/mod";

/**
 * Where things live in a repository (docs/design/repository.md):
 *
 * ```
 * <repo>/<VMName>_<VMId>/
 *     catalog.json                       restore points, chain, reference points, format version
 *     .lock                              present while an operation owns the VM's folder
 *     points/<id>/                       one restore point, published by renaming <id>.partial
 *         Virtual Machines/              the exported configuration
 *         Virtual Hard Disks/<disk>.vhdx  (full) or <disk>.avhdx (incremental: parent = previous point's file)
 *         manifest.json                  what the point holds, with a SHA-256 per unit of every disk
 * ```
 */
export const CATALOG_FILE = "catalog.json";
export const LOCK_FILE = ".lock";
export const POINTS_DIR = "points";
export const STAGING_SUFFIX = ".partial";
export const MANIFEST_FILE = "manifest.json";
export const CONFIG_DIR = "Virtual Machines";
export const DISKS_DIR = "Virtual Hard Disks";

/** Folder name of a VM in the repository: its name made file-safe, then its id. */
export function vmFolderName(vmName: string, vmId: string): string {
  const safe = vmName.replace(/[<>:"/\\|?*\x00-\x1f]/g, "_").replace(/^\.+/, "_").slice(0, 100) || "_";
  return `${safe}_${vmId.toLowerCase()}`;
}

/**
 * A restore point id: the UTC time to the millisecond and its kind, e.g.
 * `20261123T180000.123Z-full`. Sorting ids as strings sorts points by time.
 */
export function pointId(time: Date, kind: "full" | "incremental"): string {
  const iso = time.toISOString(); // 2026-11-23T18:00:00.123Z
  const compact = iso.replace(/[-:]/g, "");
  return `${compact}-${kind === "full" ? "full" : "incr"}`;
}

/** True when `id` has the shape {@link pointId} makes (and so is safe as a folder name). */
export function isPointId(id: string): boolean {
  return /^\d{8}T\d{6}\.\d{3}Z-(full|incr)$/.test(id);
}

/**
 * Resolves `relative` (a path stored in a catalog or manifest, `/`-separated) inside `base`,
 * refusing anything that would escape it: absolute paths, `..` segments, drive letters.
 */
export function resolveInside(base: string, relative: string, what: string): string {
  if (typeof relative !== "string" || relative === "" || relative.includes("\0")) {
    throw new HvbError("RepositoryPathInvalid", `${what}: path '${relative}' is empty or invalid`, { category: "InvalidData", target: base });
  }
  const parts = relative.split(/[\\/]/);
  if (path.isAbsolute(relative) || /^[a-zA-Z]:/.test(relative) || parts.some((p) => p === ".." || p === "")) {
    throw new HvbError("RepositoryPathEscape", `${what}: path '${relative}' leaves the repository folder '${base}'`, { category: "InvalidData", target: base });
  }
  const full = path.resolve(base, ...parts);
  const rel = path.relative(path.resolve(base), full);
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new HvbError("RepositoryPathEscape", `${what}: path '${relative}' leaves the repository folder '${base}'`, { category: "InvalidData", target: base });
  }
  return full;
}

/** A file-safe base name for a VM disk, from the file the VM uses (`web01.vhdx` -> `web01`). */
export function diskBaseName(hostPath: string, index: number): string {
  const base = hostPath.split(/[\\/]/).pop() ?? "";
  const stem = base.replace(/\.a?vhdx?$/i, "").replace(/_[0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27}$/, "");
  const safe = stem.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_").slice(0, 80);
  return `${String(index).padStart(2, "0")}-${safe || "disk"}`;
}
