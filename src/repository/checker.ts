import { createHash } from "node:crypto";
import { readdirSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { HvbError, readRegularFile } from "../base/mod";
import type { Catalog, PointRecord } from "./catalog";
import { LIMITS } from "./catalog_schema";
import { type DiskFacts, isInside, readDiskFacts, realFileInside, realFolderInside } from "./file_facts";
import { RealPaths } from "./real_paths";
import { MANIFEST_FILE } from "./layout";
import type { Manifest } from "./manifest";
import type { VmStore } from "./repository";

/**
 * The repository checker (in the spirit of restic's `check`): compares what the catalog
 * claims with what the manifests and the files themselves say, for the points an operation is
 * about to use (or, for `verify`, all of them). Everything it reads is input: files must be
 * regular files inside the VM's folder after resolving links, every file in a point's folder
 * must be one the manifest or catalog lists, each manifest must agree with its catalog record,
 * and each disk's parent (read from its parent locator and matched by DataWriteGuid) must be
 * the file the catalog says. It only reports; destructive steps refuse on any problem
 * ({@link requireConsistent}).
 */

/** One disagreement the checker found. */
export interface CheckProblem {
  pointId: string;
  /** Disk position, or null for the point as a whole. */
  disk: number | null;
  message: string;
}

/** What the checker found, and the facts it read from the files (for callers that act on them). */
export interface CheckReport {
  problems: CheckProblem[];
  /** Per point id, per disk position: what the disk file says (only for files that could be read). */
  disks: Map<string, Map<number, DiskFacts>>;
  /** Per point id: its manifest, when it could be read. */
  manifests: Map<string, Manifest>;
}

/** What to check. */
export interface CheckOptions {
  /** Points to check (default: every point); their parents are read to compare links with. */
  points?: readonly string[];
  /**
   * Also hash the configuration files: of every checked point (verify), of the listed points
   * (restore: only the restored point's configuration is used), or none (prune).
   */
  hashConfiguration?: boolean | readonly string[];
}

/**
 * Checks `catalog`'s points (or `options.points`) against their manifests and files. A point
 * being merged by an interrupted prune (`pendingMerge`) is in a state between two valid ones:
 * its own files and links are left to prune, which finishes the merge.
 */
export function checkPoints(store: VmStore, catalog: Catalog, options: CheckOptions = {}): CheckReport {
  const report: CheckReport = { problems: [], disks: new Map(), manifests: new Map() };
  const wanted = new Set(options.points ?? catalog.points.map((p) => p.id));
  const byId = new Map(catalog.points.map((p) => [p.id, p]));
  const merging = new Set(catalog.pendingMerge ? [catalog.pendingMerge.fromId, catalog.pendingMerge.intoId] : []);
  const problem = (pointId: string, disk: number | null, message: string): void => {
    report.problems.push({ pointId, disk, message });
  };
  // Parents of the checked points are read too: a link is compared with the parent's file.
  const toRead = new Set<string>();
  const paths = new RealPaths();
  for (const id of wanted) {
    const p = byId.get(id);
    if (!p) continue;
    toRead.add(id);
    if (p.parentId && byId.has(p.parentId)) toRead.add(p.parentId);
  }
  for (const p of catalog.points) {
    if (!toRead.has(p.id)) continue;
    const check = wanted.has(p.id);
    let dir: string;
    try {
      dir = realFolderInside(store.pointDir(p.id), store.dir, `folder of restore point ${p.id}`, paths);
    } catch (e) {
      if (check) problem(p.id, null, messageOf(e));
      continue;
    }
    const facts = new Map<number, DiskFacts>();
    report.disks.set(p.id, facts);
    for (const d of p.disks) {
      try {
        facts.set(d.index, readDiskFacts(store.pointFile(p.id, d.file), dir, `disk ${d.index} of restore point ${p.id}`, paths));
      } catch (e) {
        if (check && !merging.has(p.id)) problem(p.id, d.index, messageOf(e));
      }
    }
    if (!check) continue;
    let manifest: Manifest | undefined;
    try {
      realFileInside(path.join(dir, MANIFEST_FILE), dir, `manifest of restore point ${p.id}`, paths);
      manifest = store.readManifest(p.id);
      report.manifests.set(p.id, manifest);
    } catch (e) {
      problem(p.id, null, messageOf(e));
    }
    if (manifest) {
      if (p.id !== catalog.pendingMerge?.intoId) compareManifest(catalog, p, manifest, problem);
      const hash = options.hashConfiguration;
      checkConfiguration(store, p.id, dir, manifest, Array.isArray(hash) ? hash.includes(p.id) : hash === true, problem, paths);
    }
    if (!merging.has(p.id) && manifest) checkUnlisted(p, dir, manifest, problem);
  }
  // Links, as the files say, against the catalog.
  for (const p of catalog.points) {
    if (!wanted.has(p.id) || merging.has(p.id)) continue;
    const facts = report.disks.get(p.id);
    if (!facts) continue;
    const parent = p.parentId ? byId.get(p.parentId) : undefined;
    for (const d of p.disks) {
      const f = facts.get(d.index);
      if (!f) continue;
      const differencing = d.file.endsWith(".avhdx");
      if (f.virtualSize !== d.virtualSize) problem(p.id, d.index, `disk file '${d.file}' is ${f.virtualSize} bytes (virtual size), the catalog says ${d.virtualSize}`);
      if (f.differencing !== differencing) {
        problem(p.id, d.index, `disk file '${d.file}' is ${f.differencing ? "a differencing file" : "a standalone file"}, but the catalog records it as ${differencing ? "an increment" : "a full copy"} (method '${d.method}')`);
        continue;
      }
      if (!f.parent) continue;
      // The parent of a point right after one being merged may already be the merged file.
      if (parent && catalog.pendingMerge?.intoId === parent.id) continue;
      const pd = parent?.disks.find((x) => x.index === d.index);
      const pf = pd ? report.disks.get(parent!.id)?.get(d.index) : undefined;
      if (!pd || !pf) {
        problem(p.id, d.index, `disk file '${d.file}' is a differencing file whose parent in the catalog ('${p.parentId}') ${pd ? "cannot be read" : "has no such disk"}`);
        continue;
      }
      if (f.parent.real !== pf.real) {
        problem(p.id, d.index, `disk file '${d.file}' names ${f.parent.real ? `'${f.parent.real}'` : "a file that does not exist"} as its parent, but the catalog says its parent is '${pd.file}' of '${parent!.id}'`);
      } else if (!f.parent.linkage.includes(pf.dataWriteGuid)) {
        problem(p.id, d.index, `disk file '${d.file}' was made from another version of its parent '${pd.file}' of '${parent!.id}' (parent_linkage ${f.parent.linkage.join(", ") || "missing"}, the parent's DataWriteGuid ${pf.dataWriteGuid})`);
      }
    }
  }
  return report;
}

/** Throws one `RepositoryInconsistent` error summing up `report`'s problems, if any. */
export function requireConsistent(store: VmStore, report: CheckReport, operation: string): void {
  if (report.problems.length === 0) return;
  const first = report.problems[0]!;
  const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem(s); 'hvbackup verify' lists them)` : "";
  throw new HvbError(
    "RepositoryInconsistent",
    `Refusing to ${operation}: the repository folder '${store.dir}' is not what its catalog says — restore point ${first.pointId}${first.disk !== null ? ` disk ${first.disk}` : ""}: ${first.message}${more}. Nothing was changed.`,
    { category: "InvalidData", target: store.dir },
  );
}

function compareManifest(catalog: Catalog, p: PointRecord, m: Manifest, problem: (id: string, disk: number | null, message: string) => void): void {
  const differ = (field: string, mine: unknown, theirs: unknown): void => problem(p.id, null, `the manifest's ${field} (${JSON.stringify(theirs)}) is not the catalog's (${JSON.stringify(mine)})`);
  if (m.pointId !== p.id) differ("pointId", p.id, m.pointId);
  if (m.vmId.toLowerCase() !== catalog.vmId.toLowerCase()) differ("vmId", catalog.vmId, m.vmId);
  if (m.kind !== p.kind) differ("kind", p.kind, m.kind);
  if (m.parentId !== p.parentId) differ("parentId", p.parentId, m.parentId);
  const mine = p.disks.map((d) => d.index).sort((a, b) => a - b);
  const theirs = m.disks.map((d) => d.index).sort((a, b) => a - b);
  if (JSON.stringify(mine) !== JSON.stringify(theirs)) differ("disk positions", mine, theirs);
  for (const d of p.disks) {
    const md = m.disks.find((x) => x.index === d.index);
    if (!md) continue;
    if (md.file !== d.file) problem(p.id, d.index, `the manifest names file '${md.file}', the catalog '${d.file}'`);
    if (md.virtualSize !== d.virtualSize) problem(p.id, d.index, `the manifest says ${md.virtualSize} bytes, the catalog ${d.virtualSize}`);
    if (md.unitSize !== d.unitSize) problem(p.id, d.index, `the manifest's unit is ${md.unitSize} bytes, the catalog's ${d.unitSize}`);
  }
}

function checkConfiguration(store: VmStore, id: string, dir: string, m: Manifest, hash: boolean, problem: (id: string, disk: number | null, message: string) => void, paths: RealPaths): void {
  for (const f of m.configuration) {
    try {
      const file = store.pointFile(id, f.file);
      realFileInside(file, dir, `configuration file '${f.file}' of restore point ${id}`, paths);
      if (!hash) continue;
      const bytes = readRegularFile(file, LIMITS.maxConfigurationFileSize, "configuration file");
      if (bytes.length !== f.size || createHash("sha256").update(bytes).digest("hex") !== f.sha256) problem(id, null, `configuration file '${f.file}' does not match its SHA-256`);
    } catch (e) {
      problem(id, null, messageOf(e));
    }
  }
}

/** Every file in a point's folder must be one that is listed: nothing planted is ever used. */
function checkUnlisted(p: PointRecord, dir: string, m: Manifest | undefined, problem: (id: string, disk: number | null, message: string) => void): void {
  const listed = new Set<string>([MANIFEST_FILE, ...p.disks.map((d) => d.file), ...(m?.configuration.map((f) => f.file) ?? [])].map((f) => f.toLowerCase()));
  const walk = (rel: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch (e) {
      problem(p.id, null, messageOf(e));
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && depth < 16) walk(r, depth + 1);
      else if (e.isDirectory()) problem(p.id, null, `folder '${r}' is nested too deep`);
      else if (!listed.has(r.toLowerCase())) problem(p.id, null, `'${r}' is in the point's folder but not listed in its manifest or catalog (never used; remove it or find where it came from)`);
    }
  };
  walk("", 0);
}

function messageOf(e: unknown): string {
  if (e instanceof HvbError) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  if (code) return `${(e as Error).message}`;
  throw e;
}

/**
 * Points whose disk files (as the files say, following parent locators) depend on something in
 * `folder`: a folder one of them names is never deleted, whatever the catalog says.
 */
export function pointsUsingFolder(report: CheckReport, folder: string): string[] {
  let real: string;
  try {
    real = realpathSync(folder);
  } catch {
    return [];
  }
  const users: string[] = [];
  for (const [id, disks] of report.disks) {
    for (const f of disks.values()) {
      if ((f.parent && f.parent.real !== "" && isInside(f.parent.real, real)) || isInside(f.real, real)) {
        users.push(id);
        break;
      }
    }
  }
  return users;
}
