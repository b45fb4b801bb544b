import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import { fsyncDir } from "../base/mod";
import { type Catalog, newCatalog, readCatalog, writeCatalog } from "./catalog";
import { CATALOG_FILE, LOCK_FILE, MANIFEST_FILE, POINTS_DIR, STAGING_SUFFIX, isPointId, resolveInside, vmFolderName } from "./layout";
import { type Lock, type SharedLock, acquireLock, acquireSharedLock } from "./lock";
import { checkPoints, pointsUsingFolder } from "./checker";
import { type Manifest, readManifest } from "./manifest";
import { PointWriter } from "./point_writer";

/** A backup repository: a folder with one sub-folder per VM. */
export class Repository {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Fails unless the repository folder exists (commands other than backup never create it). */
  requireExists(): void {
    if (!existsSync(this.root) || !statSync(this.root).isDirectory()) {
      throw new HvbError("RepositoryNotFound", `Repository '${this.root}' does not exist or is not a folder`, { category: "ObjectNotFound", target: this.root });
    }
  }

  /** Every VM folder that has a catalog. */
  listVms(): VmStore[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(this.root, d.name, CATALOG_FILE)))
      .map((d) => new VmStore(path.join(this.root, d.name)))
      .sort((a, b) => a.dir.localeCompare(b.dir));
  }

  /** The VM folder for a VM name or id; fails when none or several match. */
  findVm(nameOrId: string): VmStore {
    const want = nameOrId.toLowerCase();
    const matches = this.listVms().filter((s) => {
      let c: Catalog;
      try {
        c = s.readCatalog();
      } catch (e) {
        // A damaged catalog of another VM must not hide this one; of this VM (as its folder
        // name says), it is the answer.
        const folder = path.basename(s.dir).toLowerCase();
        const prefix = vmFolderName(nameOrId, "").toLowerCase();
        if (folder.endsWith(`_${want}`) || (folder.startsWith(prefix) && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(folder.slice(prefix.length)))) throw e;
        return false;
      }
      return c.vmId.toLowerCase() === want || c.vmName.toLowerCase() === want;
    });
    if (matches.length === 0) {
      throw new HvbError("VmNotInRepository", `Repository '${this.root}' has no backups of VM '${nameOrId}'`, { category: "ObjectNotFound", target: nameOrId });
    }
    if (matches.length > 1) {
      throw new HvbError("VmAmbiguous", `Repository '${this.root}' has backups of ${matches.length} VMs named '${nameOrId}': use the VM id (${matches.map((m) => m.readCatalog().vmId).join(", ")})`, { category: "InvalidArgument", target: nameOrId });
    }
    return matches[0]!;
  }

  /** The folder of a VM, created with an empty catalog if it is new. */
  vmStore(vmName: string, vmId: string): VmStore {
    mkdirSync(this.root, { recursive: true });
    const dir = path.join(this.root, vmFolderName(vmName, vmId));
    const store = new VmStore(dir);
    if (!existsSync(path.join(dir, CATALOG_FILE))) {
      mkdirSync(path.join(dir, POINTS_DIR), { recursive: true });
      writeCatalog(path.join(dir, CATALOG_FILE), newCatalog(vmName, vmId));
      fsyncDir(this.root);
    }
    return store;
  }
}

/** One VM's folder: its catalog, lock, restore points and staging. */
export class VmStore {
  constructor(readonly dir: string) {}

  get catalogFile(): string {
    return path.join(this.dir, CATALOG_FILE);
  }

  readCatalog(): Catalog {
    return readCatalog(this.catalogFile);
  }

  /** Rewrites the catalog atomically: the commit point of every repository change. */
  writeCatalog(c: Catalog): void {
    writeCatalog(this.catalogFile, c);
  }

  /** Takes the VM's exclusive lock. */
  lock(operation: string, options: { clearStale?: boolean } = {}): Lock {
    return acquireLock(path.join(this.dir, LOCK_FILE), operation, options);
  }

  /** Folder of a published point. */
  pointDir(id: string): string {
    if (!isPointId(id)) throw new HvbError("PointIdInvalid", `'${id}' is not a restore point id`, { category: "InvalidArgument", target: id });
    return path.join(this.dir, POINTS_DIR, id);
  }

  /** Absolute path of a file a point's record names (checked to stay inside the point). */
  pointFile(id: string, relative: string): string {
    return resolveInside(this.pointDir(id), relative, `restore point ${id}`);
  }

  readManifest(id: string): Manifest {
    return readManifest(path.join(this.pointDir(id), MANIFEST_FILE));
  }

  /**
   * Starts writing a new point (`points/<id>.partial`); see {@link PointWriter}. Its commit
   * writes the catalog through {@link writeCatalog}.
   */
  beginPoint(id: string): PointWriter {
    return PointWriter.begin(id, this.pointDir(id), (c) => this.writeCatalog(c));
  }

  /**
   * Deletes staging folders and point folders the catalog does not reference (left by a run
   * that was interrupted before its commit point). Call with the lock held; pass the catalog
   * when the operation has read it already.
   */
  removeOrphans(catalog: Catalog = this.readCatalog()): string[] {
    const pointsDir = path.join(this.dir, POINTS_DIR);
    if (!existsSync(pointsDir)) return [];
    const known = new Set(catalog.points.map((p) => p.id));
    const candidates = readdirSync(pointsDir).filter((name) => {
      if (known.has(name)) return false;
      const base = name.endsWith(STAGING_SUFFIX) ? name.slice(0, -STAGING_SUFFIX.length) : name;
      return isPointId(base); // anything else is not ours: left alone
    });
    if (candidates.length === 0) return [];
    // What the catalogued points' files really depend on, read from the files: a folder one of
    // them names (as its parent, or because the folder is linked) is never deleted.
    const facts = checkPoints(this, catalog, { points: catalog.points.map((p) => p.id) });
    const removed: string[] = [];
    for (const name of candidates) {
      const dir = path.join(pointsDir, name);
      if (lstatSync(dir).isSymbolicLink()) {
        throw new HvbError("RepositoryInconsistent", `Refusing to remove '${dir}', left by an interrupted run: it is a symbolic link. Nothing was changed; remove it by hand after checking where it leads`, { category: "InvalidData", target: dir });
      }
      const users = pointsUsingFolder(facts, dir);
      if (users.length > 0) {
        throw new HvbError("RepositoryInconsistent", `Refusing to remove '${dir}': the catalog does not list it, but the disk files of restore point(s) ${users.join(", ")} use files in it. The catalog and the files disagree; nothing was changed — run 'hvbackup verify' and keep that folder`, { category: "InvalidData", target: dir });
      }
      rmSync(dir, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Takes the VM's shared (read) lock: several readers at once, never with a writer. */
  sharedLock(operation: string): SharedLock {
    return acquireSharedLock(path.join(this.dir, LOCK_FILE), operation);
  }
}
