import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../errors/hvb_error";
import type { PointRecord } from "../repository/catalog";
import { CONFIG_DIR, DISKS_DIR } from "../repository/layout";
import type { Repository } from "../repository/repository";
import { fsyncDir } from "../util/atomic_file";
import { crashPoint } from "../util/crash_point";
import type { EngineEvents } from "./events";
import { flattenPointDisk } from "./flatten";
import type { HostApi, HostVm } from "./host_api";
import { selectPoint } from "./point_chain";

/** How to restore. */
export interface RestoreOptions {
  /** Restore point id, `latest` (default) or a time: the newest point at or before it. */
  point?: string;
  /** Give the restored VM a new id (side by side with the original). */
  newId?: boolean;
  /** Name of the restored VM (default: the backed-up name). */
  name?: string;
  /** Folder for the restored VM's files (default `./<name>`). */
  destination?: string;
  /** Replace an existing VM with the same id: stop it, unregister it, move its disks aside. */
  force?: boolean;
}

/** What a restore did. */
export interface RestoreResult {
  vmName: string;
  vmId: string;
  pointId: string;
  pointTime: string;
  destination: string;
  disks: Array<{ index: number; path: string; virtualSize: number }>;
  /** Where the replaced VM's disk files were moved (with --force). */
  replacedFilesMovedTo: string | null;
  warnings: string[];
}

/**
 * Restores a VM from a restore point (DESIGN.md "Restore"): every disk flattened from its chain
 * with every block checked against the manifests, the configuration placed beside them, then
 * ImportSystemDefinition (keeping or renewing the id), disks pointed at the restored files,
 * ValidatePlannedSystem and RealizePlannedSystem. Nothing of production is deleted: a VM being
 * replaced is exported first, then stopped and unregistered, and its disk files are moved aside;
 * if the restore then fails it is registered again from that export.
 */
export async function restoreVm(host: HostApi, repo: Repository, vmNameOrId: string, options: RestoreOptions, events: EngineEvents): Promise<RestoreResult> {
  repo.requireExists();
  const store = repo.findVm(vmNameOrId);
  const lock = store.lock("restore");
  const warnings: string[] = [];
  try {
    const catalog = store.readCatalog();
    if (catalog.pendingMerge) {
      throw new HvbError("PruneInterrupted", `A prune of '${catalog.vmName}' was interrupted; run 'hvbackup prune' again to finish it first`, { category: "InvalidOperation", target: store.dir });
    }
    const point = selectPoint(catalog, options.point);
    const name = options.name ?? catalog.vmName;
    const destination = path.resolve(options.destination ?? name);
    const activity = `Restoring ${catalog.vmName} (${point.id})`;

    // An existing VM with the id we would give the restored one.
    const existing = options.newId ? undefined : (await host.listVms()).find((v) => v.id.toLowerCase() === catalog.vmId.toLowerCase());
    if (existing && !options.force) {
      throw new HvbError("VmExists", `VM '${existing.name}' (${existing.id}) exists on the host: use --force to replace it (it is stopped and its files are moved aside, never deleted) or --new-id to restore side by side`, { category: "ResourceUnavailable", target: existing.name });
    }

    const diskDir = path.join(destination, DISKS_DIR);
    if (existsSync(diskDir) && readdirSync(diskDir).length > 0) {
      throw new HvbError("DestinationNotEmpty", `Cannot restore into '${destination}': '${diskDir}' already holds files (choose another --dest)`, { category: "ResourceUnavailable", target: destination });
    }
    mkdirSync(diskDir, { recursive: true });
    const created: string[] = [];
    const restoredDisks: RestoreResult["disks"] = [];
    let replaced: Replaced | undefined;
    let realized: HostVm | undefined;
    try {
      // 1. Disks, every block checked.
      point.disks.forEach((disk, n) => {
        const base = path.basename(disk.sourcePath.replace(/\\/g, "/")).replace(/\.a?vhdx?$/i, "").replace(/_[0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27}$/, "") || `disk${disk.index}`;
        const file = path.join(diskDir, `${base}.vhdx`);
        const target = existsSync(file) ? path.join(diskDir, `${base}-${disk.index}.vhdx`) : file;
        created.push(target);
        flattenPointDisk(store, catalog, point, disk.index, target, (d, t) =>
          events.progress({ activity, status: `disk ${disk.index}: unit ${d} of ${t}`, percent: Math.floor(((n + d / Math.max(t, 1)) / point.disks.length) * 85) }),
        );
        restoredDisks.push({ index: disk.index, path: target, virtualSize: disk.virtualSize });
        crashPoint("restore-disk-written");
      });
      // 2. Configuration, as an export folder would hold it.
      const configFile = placeConfiguration(store.pointDir(point.id), destination, created);
      events.progress({ activity, status: "Importing configuration", percent: 88 });

      // 3. The VM being replaced: export it (the way back), stop it, unregister it, move its disks aside.
      if (existing) replaced = await setAside(host, existing, destination, events, warnings);
      crashPoint("restore-replaced");

      // 4. Import, repoint disks, rename, validate, realize.
      const planned = await host.importSystemDefinition(configFile, { snapshotFolder: path.join(destination, "Snapshots"), generateNewId: options.newId ?? false });
      try {
        for (const d of restoredDisks) await host.setDiskPath(planned, d.index, d.path);
        if (name !== catalog.vmName) await host.renameSystem(planned, name);
        await host.validatePlannedSystem(planned);
        crashPoint("restore-validated");
        realized = await host.realizePlannedSystem(planned);
      } catch (e) {
        await host.destroyPlannedSystem(planned).catch(() => undefined);
        throw e;
      }
      events.progress({ activity, status: "Done", percent: 100 });
      return {
        vmName: realized.name,
        vmId: realized.id,
        pointId: point.id,
        pointTime: point.time,
        destination,
        disks: restoredDisks,
        replacedFilesMovedTo: replaced?.folder ?? null,
        warnings,
      };
    } catch (e) {
      // No half VM: unregister what we made, remove the files we wrote, put back what we replaced.
      if (realized) await host.destroySystem(realized).catch(() => undefined);
      for (const f of created) rmSync(f, { force: true });
      if (replaced) await putBack(host, replaced, events);
      throw e;
    }
  } finally {
    lock.release();
  }
}

/** Copies a point's configuration next to the restored disks; returns the definition file. */
function placeConfiguration(pointDir: string, destination: string, created: string[]): string {
  const from = path.join(pointDir, CONFIG_DIR);
  if (!existsSync(from)) throw new HvbError("RestorePointDamaged", `Restore point '${pointDir}' has no '${CONFIG_DIR}' folder`, { category: "InvalidData", target: pointDir });
  const to = path.join(destination, CONFIG_DIR);
  mkdirSync(to, { recursive: true });
  mkdirSync(path.join(destination, "Snapshots"), { recursive: true });
  let definition: string | undefined;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const target = path.join(to, entry.name);
    copyFileSync(path.join(from, entry.name), target);
    created.push(target);
    if (/\.(vmcx|xml)$/i.test(entry.name)) definition = target;
  }
  fsyncDir(to);
  if (!definition) throw new HvbError("RestorePointDamaged", `Restore point '${pointDir}' holds no VM definition (.vmcx) in '${CONFIG_DIR}'`, { category: "InvalidData", target: pointDir });
  return definition;
}

interface Replaced {
  vm: HostVm;
  /** Where the old VM's configuration was exported (to register it again on failure). */
  exportDir: string;
  folder: string;
  moves: Array<{ from: string; to: string }>;
}

async function setAside(host: HostApi, vm: HostVm, destination: string, events: EngineEvents, warnings: string[]): Promise<Replaced> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const folder = path.join(destination, `replaced-${vm.name.replace(/[^A-Za-z0-9._-]/g, "_")}-${stamp}`);
  if (vm.state !== "Off") {
    events.info(`Turning off VM '${vm.name}' to replace it`);
    await host.requestStateChange(vm, "Off");
    vm = await host.refreshVm(vm);
  }
  mkdirSync(folder, { recursive: true });
  const exportDir = path.join(folder, "export");
  mkdirSync(exportDir, { recursive: true });
  await host.exportConfiguration(vm, exportDir);
  await host.destroySystem(vm);
  const moves: Replaced["moves"] = [];
  for (const d of vm.disks) {
    if (!existsSync(d.hostResource)) continue;
    const to = path.join(folder, path.basename(d.hostResource));
    renameSync(d.hostResource, to);
    moves.push({ from: d.hostResource, to });
  }
  warnings.push(`VM '${vm.name}' was replaced: its configuration export and current disk files are in '${folder}'`);
  return { vm, exportDir, folder, moves };
}

async function putBack(host: HostApi, r: Replaced, events: EngineEvents): Promise<void> {
  try {
    for (const m of r.moves) if (existsSync(m.to) && !existsSync(m.from)) renameSync(m.to, m.from);
    const defDir = path.join(r.exportDir, CONFIG_DIR);
    const def = readdirSync(defDir).find((f) => /\.(vmcx|xml)$/i.test(f));
    if (!def) throw new Error("no definition in the export");
    const planned = await host.importSystemDefinition(path.join(defDir, def), { snapshotFolder: path.join(r.exportDir, "Snapshots"), generateNewId: false });
    for (const d of r.vm.disks) await host.setDiskPath(planned, d.index, d.hostResource);
    await host.realizePlannedSystem(planned);
    events.warning(`The restore failed; VM '${r.vm.name}' was registered again as it was`, "RestoreRolledBack");
  } catch (e) {
    events.warning(`The restore failed and VM '${r.vm.name}' could not be registered again automatically (${(e as Error).message}); its export and disks are in '${r.folder}' — import them with Import-VM`, "RestoreRollbackFailed");
  }
}

/** For messages: a point's id and time. */
export function describePoint(p: PointRecord): string {
  return `${p.id} (${p.time})`;
}
