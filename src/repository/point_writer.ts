import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";
import { fsyncDir } from "../base/mod";
import { HvbError } from "../base/mod";
import { type Catalog, type Consistency, type PointDisk, type PointRecord, newestPoint, nextSeq } from "./catalog";
import { CONFIG_DIR, DISKS_DIR, MANIFEST_FILE, STAGING_SUFFIX } from "./layout";
import { type Manifest, MANIFEST_FORMAT, MANIFEST_VERSION, type ManifestDisk, type ManifestFile, writeManifest } from "./manifest";
import { hashTree, syncTree, treeSize } from "./tree";

/** Where a new point's files go, and how the catalog and manifest will name them. */
export interface StagedFile {
  /** Relative to the point's folder, `/`-separated (as catalog and manifest record it). */
  relative: string;
  /** Absolute path inside the staging folder, to write the file to. */
  absolute: string;
}

/** What the commit records besides the disks and configuration the writer collected. */
export interface PointDetails {
  time: Date;
  kind: "full" | "incremental";
  parentId: string | null;
  consistency: Consistency;
  vmId: string;
  vmName: string;
  warnings: readonly string[];
  /** The backup set the point belongs to (see backup_set.ts), if any. */
  setId?: string;
}

/** Hooks between the steps of a commit. */
export interface CommitOptions {
  /** Called after the manifest is written, before anything is synced or renamed. */
  beforePublish?: () => void;
}

/** Folders of an export the manifest hashes, when present (Hyper-V's export layout). */
const CONFIGURATION_DIRS = [CONFIG_DIR, "Snapshots"];

/**
 * Writes one new restore point (docs/design/repository.md): everything goes into
 * `points/<id>.partial`; {@link commit} writes the manifest with every hash, syncs the tree,
 * renames the folder to its final name and rewrites the catalog, the commit point. A crash
 * before the catalog write leaves a folder the catalog does not know, which
 * `VmStore.removeOrphans` deletes on the next run.
 */
export class PointWriter {
  private readonly disks: PointDisk[] = [];
  private readonly manifestDisks: ManifestDisk[] = [];
  private configuration: ManifestFile[] = [];
  private done = false;

  /** @param staging the `.partial` folder (see `Repository.beginPoint`). */
  private constructor(readonly id: string, readonly staging: string, private readonly final: string, private readonly writeCatalog: (c: Catalog) => void) {}

  /**
   * Creates the staging folder of point `id` (any left-over one with that name removed) and its
   * disks folder.
   */
  static begin(id: string, finalDir: string, writeCatalog: (c: Catalog) => void): PointWriter {
    const staging = finalDir + STAGING_SUFFIX;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    mkdirSync(path.join(staging, DISKS_DIR), { recursive: true });
    return new PointWriter(id, staging, finalDir, writeCatalog);
  }

  /** The file a disk of this point is written to: `<name>.vhdx` (full) or `.avhdx` (increment). */
  diskFile(name: string, differencing: boolean): StagedFile {
    const relative = `${DISKS_DIR}/${name}.${differencing ? "avhdx" : "vhdx"}`;
    return { relative, absolute: path.join(this.staging, ...relative.split("/")) };
  }

  /** Records a disk already written to its {@link diskFile}, with the unit hashes it stored. */
  addDisk(disk: PointDisk, units: Record<string, string>): void {
    this.disks.push(disk);
    this.manifestDisks.push({ index: disk.index, file: disk.file, virtualSize: disk.virtualSize, unitSize: disk.unitSize, units });
  }

  /** Hashes the configuration exported into the staging folder (call after the export). */
  addConfiguration(): void {
    this.configuration = CONFIGURATION_DIRS.filter((d) => existsSync(path.join(this.staging, d))).flatMap((d) => hashTree(this.staging, d));
  }

  /**
   * Manifest, sync, rename, then `catalog` (as read at the start of the operation) gets the new
   * record and is written: the commit point. Returns the record, as held in `catalog`.
   */
  commit(catalog: Catalog, details: PointDetails, options: CommitOptions = {}): PointRecord {
    const time = details.time.toISOString();
    if (catalog.points.some((p) => p.id === this.id)) {
      throw new HvbError("PointIdTaken", `Restore point '${this.id}' is already in the catalog (the host's clock gave the same time twice); nothing was published — run the backup again`, { category: "ResourceUnavailable", target: this.id });
    }
    // The order of points is the order of commits, never the clock's: a point whose time is not
    // after the newest one's (the clock went back, or had run ahead) is still the newest, and
    // says so.
    const warnings = [...details.warnings];
    const newest = newestPoint(catalog);
    if (newest && Date.parse(newest.time) >= details.time.getTime()) {
      warnings.push(`This point's time (${time}, the host's clock) is not after that of the point before it (${newest.id}, ${newest.time}): the clock went back or had run ahead. Points are ordered by when they were committed; this one is the newest.`);
    }
    const record: PointRecord = {
      id: this.id,
      seq: nextSeq(catalog),
      time,
      kind: details.kind,
      parentId: details.parentId,
      consistency: details.consistency,
      sizeBytes: 0,
      disks: [...this.disks],
      referencePoint: null,
      warnings,
      ...(details.setId !== undefined ? { setId: details.setId } : {}),
    };
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      pointId: this.id,
      vmId: details.vmId,
      vmName: details.vmName,
      time,
      kind: details.kind,
      parentId: details.parentId,
      disks: [...this.manifestDisks],
      configuration: this.configuration,
    };
    writeManifest(path.join(this.staging, MANIFEST_FILE), manifest);
    record.sizeBytes = treeSize(this.staging);
    options.beforePublish?.();
    syncTree(this.staging);
    renameSync(this.staging, this.final);
    fsyncDir(path.dirname(this.final));
    this.done = true;
    catalog.points.push(record);
    this.writeCatalog(catalog);
    return record;
  }

  /** Removes the staging folder of a point that will not be committed (no-op after a commit). */
  abort(): void {
    if (!this.done) rmSync(this.staging, { recursive: true, force: true });
  }
}
