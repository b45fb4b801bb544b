import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import type { Manifest, PointRecord } from "../repository/mod";
import { LIMITS } from "../repository/mod";
import { CONFIG_DIR, DISKS_DIR } from "../repository/mod";
import type { Repository, VmStore } from "../repository/mod";
import type { LockInfo } from "../repository/mod";
import { fsyncDir, readRegularFile, stagingPathFor } from "../base/mod";
import { crashPoint } from "../base/mod";
import type { EngineEvents } from "./events";
import { flattenPointDisk } from "./flatten";
import { startSharedPool } from "./pipeline/worker_pool";
import type { HostApi, HostVm } from "./host_api";
import { requireRestorable, selectPoint } from "./point_chain";
import { defaultDestination } from "./restore_destination";
import { sha256Hex } from "./units";

/** How to restore. */
export interface RestoreOptions {
  /** Restore point id, `latest` (default) or a time: the newest point at or before it. */
  point?: string;
  /** Give the restored VM a new id (side by side with the original). */
  newId?: boolean;
  /** Name of the restored VM (default: the backed-up name). */
  name?: string;
  /**
   * Folder for the restored VM's files (its disks in `<destination>/Virtual Hard Disks`). Default:
   * the host's own folders for new VMs (Msvm_VirtualSystemManagementServiceSettingData):
   * `<DefaultExternalDataRoot>/<name>` for the configuration, `<DefaultVirtualHardDiskPath>/<name>`
   * for the disks; never the current folder of the process (System32 for a scheduled task).
   */
  destination?: string;
  /** Replace an existing VM with the same id: stop it, unregister it, move its disks aside. */
  force?: boolean;
  /** Clear a lock left by a process that no longer runs (and remove what its restore left). */
  clearStaleLock?: boolean;
  /**
   * Where the VM's shared disks were restored (their location → the new .vhds), given by a
   * set's restore (group_backup/restore_group.ts). A VM with shared disks is restored only so.
   */
  sharedDisks?: ReadonlyMap<string, string>;
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
  return (await restoreVmUndoable(host, repo, vmNameOrId, options, events)).result;
}

/** A finished restore and the way to take it back (a set's restore, when a later member fails). */
export interface UndoableRestore {
  result: RestoreResult;
  /**
   * Unregisters the restored VM, removes the files the restore wrote (and the folders it left
   * empty) and registers again the VM it replaced, as a failed restore does. What cannot be
   * undone is reported as a warning, never thrown: the caller is already failing.
   */
  undo(events: EngineEvents): Promise<void>;
}

/** {@link restoreVm}, keeping what is needed to undo it. */
export async function restoreVmUndoable(host: HostApi, repo: Repository, vmNameOrId: string, options: RestoreOptions, events: EngineEvents): Promise<UndoableRestore> {
  repo.requireExists();
  // The workers that read, check and write the disks boot while the chain is checked.
  startSharedPool();
  const store = repo.findVm(vmNameOrId);
  const lock = store.lock("restore", { clearStale: options.clearStaleLock ?? false });
  const warnings: string[] = [];
  try {
    if (lock.cleared) await removeRestoreLeftovers(host, lock.cleared, events);
    const catalog = store.readCatalog();
    if (catalog.pendingMerge) {
      throw new HvbError("PruneInterrupted", `A prune of '${catalog.vmName}' was interrupted; run 'hvbackup prune' again to finish it first`, { category: "InvalidOperation", target: store.dir });
    }
    const point = selectPoint(catalog, options.point);
    // Everything the restore will read — the point and the points it depends on — is first
    // checked against the catalog (manifests, file types and places, links read from the disk
    // files, configuration hashes): a repository that says one thing and holds another is
    // refused before anything is made.
    const manifest = requireRestorable(store, catalog, point.id);
    const name = options.name ?? catalog.vmName;
    // Without --dest: a folder named after the VM in each of the host's default folders, the
    // name made safe (the catalog's vmName is input and could be an absolute path or hold '..').
    const defaults = options.destination === undefined ? await host.hostDefaultFolders() : undefined;
    const destination = defaults ? defaultDestination(defaults.externalDataRoot, name) : path.resolve(options.destination!);
    const activity = `Restoring ${catalog.vmName} (${point.id})`;

    // An existing VM with the id we would give the restored one.
    const existing = options.newId ? undefined : (await host.listVms()).find((v) => v.id.toLowerCase() === catalog.vmId.toLowerCase());
    if (existing && !options.force) {
      throw new HvbError("VmExists", `VM '${existing.name}' (${existing.id}) exists on the host: use --force to replace it (it is stopped and its files are moved aside, never deleted) or --new-id to restore side by side`, { category: "ResourceUnavailable", target: existing.name });
    }

    const diskDir = defaults ? defaultDestination(defaults.virtualHardDiskPath, name) : path.join(destination, DISKS_DIR);
    if (existsSync(diskDir) && readdirSync(diskDir).length > 0) {
      throw new HvbError("DestinationNotEmpty", `Cannot restore into '${destination}': '${diskDir}' already holds files (choose another --dest)`, { category: "ResourceUnavailable", target: destination });
    }
    mkdirSync(diskDir, { recursive: true });
    const created: string[] = [];
    // What this restore makes, noted in the lock as it goes: if the process dies, the rerun
    // with --clear-stale-lock removes exactly that (see removeRestoreLeftovers).
    const note = (more: Record<string, unknown> = {}): void => lock.note({ destination, diskDir, files: [...created], ...more });
    note();
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
        note();
        flattenPointDisk(store, catalog, point, disk.index, target, (d, t) =>
          events.progress({ activity, status: `disk ${disk.index}: unit ${d} of ${t}`, percent: Math.floor(((n + d / Math.max(t, 1)) / point.disks.length) * 85) }),
        );
        restoredDisks.push({ index: disk.index, path: target, virtualSize: disk.virtualSize });
        crashPoint("restore-disk-written");
      });
      // 2. Configuration, as an export folder would hold it.
      const configFile = placeConfiguration(store, point.id, manifest, destination, created, note);
      events.progress({ activity, status: "Importing configuration", percent: 88 });

      // 3. The VM being replaced: export it (the way back), stop it, unregister it, move its disks aside.
      if (existing) {
        replaced = await setAside(host, existing, destination, events, warnings);
        note({ replaced: replaced.folder });
      }
      crashPoint("restore-replaced");

      // 4. Import, repoint disks, rename, validate, realize.
      const planned = await host.importSystemDefinition(configFile, { snapshotFolder: path.join(destination, "Snapshots"), generateNewId: options.newId ?? false });
      note({ planned: { path: planned.path, name: planned.name } });
      try {
        for (const d of restoredDisks) await host.setDiskPath(planned, d.index, d.path);
        // Never left pointing at the original shared disk (which the cluster still writes to).
        for (const s of planned.sharedDisks ?? []) {
          const to = options.sharedDisks?.get(s.location);
          if (to === undefined) throw new HvbError("SharedDiskInvalid", `'${catalog.vmName}' attaches the shared disk '${s.path}', which this restore does not bring back: restore it with its backup set ('hvbackup restore --repo ${repo.root} --group NAME --vm ${catalog.vmName}')`, { category: "InvalidOperation", target: catalog.vmName });
          await host.setSharedDiskPath(planned, s.location, to);
        }
        if (name !== catalog.vmName) await host.renameSystem(planned, name);
        // The restore point holds none of the files of the VM's checkpoints: the planned VM
        // must lose the ones its configuration still references before it can be validated
        // (ImportSystemDefinition's page).
        const dropped = await host.removePlannedCheckpoints(planned);
        if (dropped.length > 0) {
          const msg = `The restored configuration of '${name}' referenced ${dropped.length === 1 ? "the checkpoint" : "the checkpoints"} ${dropped.map((d) => `'${d}'`).join(", ")} of the backed-up VM; a restore point holds no checkpoint's files, so ${dropped.length === 1 ? "it was" : "they were"} removed from the restored VM (the disks are restored as they were at the backup)`;
          warnings.push(msg);
          events.warning(msg, "CheckpointReferencesRemoved");
        }
        await host.validatePlannedSystem(planned);
        crashPoint("restore-validated");
        realized = await host.realizePlannedSystem(planned);
      } catch (e) {
        await host.destroyPlannedSystem(planned).catch(() => undefined);
        throw e;
      }
      events.progress({ activity, status: "Done", percent: 100 });
      const made = realized;
      const replacedNow = replaced;
      const result: RestoreResult = {
        vmName: realized.name,
        vmId: realized.id,
        pointId: point.id,
        pointTime: point.time,
        destination,
        disks: restoredDisks,
        replacedFilesMovedTo: replaced?.folder ?? null,
        warnings,
      };
      const undo = async (ev: EngineEvents): Promise<void> => {
        try {
          await host.destroySystem(made);
        } catch (e) {
          // Still registered: its files are in use and stay, and so does what it replaced.
          ev.warning(`Could not unregister the restored VM '${made.name}' (${made.id}) again: ${(e as Error).message}; remove it by hand (its files are in '${destination}')${replacedNow ? `; the VM it replaced is in '${replacedNow.folder}'` : ""}`, "RestoreRollbackFailed");
          return;
        }
        removeRestored(created, destination, diskDir);
        if (replacedNow) await putBack(host, replacedNow, ev);
        ev.info(`Removed the restored VM '${made.name}' (${made.id}) again${replacedNow ? `; the VM it replaced is back` : ""}`);
      };
      return { result, undo };
    } catch (e) {
      // No half VM: unregister what we made, remove the files we wrote, put back what we replaced.
      if (realized) await host.destroySystem(realized).catch(() => undefined);
      removeRestored(created, destination, diskDir);
      if (replaced) await putBack(host, replaced, events);
      throw e;
    }
  } finally {
    lock.release();
  }
}

/**
 * Removes what a restore wrote: its files, the folders they leave empty under `destination`,
 * and the disk folder too when the host's default folders put it elsewhere.
 */
function removeRestored(files: readonly string[], destination: string, diskDir: string): void {
  removeWritten(files, destination);
  if (!isInside(diskDir, destination)) removeWritten(files.filter((f) => path.dirname(path.resolve(f)) === path.resolve(diskDir)), diskDir);
}

/** Whether `f` lies strictly below `dir`. */
function isInside(f: string, dir: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(f));
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * Removes the files a restore wrote, then the folders they were in when that leaves them empty,
 * up to and including `destination` (a folder holding anything else stays).
 */
function removeWritten(files: readonly string[], destination: string): void {
  for (const f of files) rmSync(f, { force: true });
  const stop = path.dirname(path.resolve(destination));
  // The Snapshots folder placeConfiguration makes holds no file of ours.
  const dirs = new Set<string>([path.join(path.resolve(destination), "Snapshots"), path.resolve(destination)]);
  for (const f of files) for (let d = path.dirname(path.resolve(f)); d.startsWith(stop + path.sep) && d !== stop; d = path.dirname(d)) dirs.add(d);
  // Deepest first, so a parent is tried once its children are gone.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // Gone already or not ours to judge: left alone.
    }
  }
}

/**
 * Copies exactly the configuration files the point's manifest lists (each checked against its
 * SHA-256 as it is copied) next to the restored disks; returns the VM definition, the one
 * `.vmcx` the manifest lists. A file planted in the point's folder is never imported.
 */
function placeConfiguration(store: VmStore, pointId: string, manifest: Manifest, destination: string, created: string[], note: () => void): string {
  let definition: string | undefined;
  mkdirSync(path.join(destination, "Snapshots"), { recursive: true });
  for (const f of manifest.configuration) {
    const bytes = readRegularFile(store.pointFile(pointId, f.file), LIMITS.maxConfigurationFileSize, "configuration file");
    if (sha256Hex(bytes) !== f.sha256) {
      throw new HvbError("RestorePointDamaged", `Restore point '${pointId}': configuration file '${f.file}' is not what was backed up (SHA-256 mismatch) — run 'hvbackup verify --deep' and restore another point`, { category: "InvalidData", target: pointId });
    }
    const target = path.join(destination, ...f.file.split("/"));
    mkdirSync(path.dirname(target), { recursive: true });
    created.push(target);
    note();
    writeFileSync(target, bytes);
    if (f.file.startsWith(`${CONFIG_DIR}/`) && f.file.split("/").length === 2 && /\.vmcx$/i.test(f.file)) definition = target;
  }
  fsyncDir(path.join(destination, CONFIG_DIR));
  if (!definition) throw new HvbError("RestorePointDamaged", `Restore point '${pointId}' holds no VM definition (.vmcx) in '${CONFIG_DIR}'`, { category: "InvalidData", target: pointId });
  return definition;
}

interface Replaced {
  vm: HostVm;
  /** It was running before we turned it off (so it is started again if the restore fails). */
  wasRunning: boolean;
  /** Where the old VM's configuration was exported (to register it again on failure). */
  exportDir: string;
  folder: string;
  moves: Array<{ from: string; to: string }>;
}

async function setAside(host: HostApi, vm: HostVm, destination: string, events: EngineEvents, warnings: string[]): Promise<Replaced> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const folder = path.join(destination, `replaced-${vm.name.replace(/[^A-Za-z0-9._-]/g, "_")}-${stamp}`);
  const wasRunning = vm.state === "Running";
  if (vm.state !== "Off") {
    events.info(`Turning off VM '${vm.name}' to replace it`);
    await host.requestStateChange(vm, "Off");
    vm = await host.refreshVm(vm);
  }
  const exportDir = path.join(folder, "export");
  try {
    mkdirSync(exportDir, { recursive: true });
    await host.exportConfiguration(vm, exportDir);
    await host.destroySystem(vm);
  } catch (e) {
    // Still registered: leave it as it was found.
    if (wasRunning) {
      await host.requestStateChange(vm, "Running").then(
        () => events.warning(`The restore failed; VM '${vm.name}' was started again`, "RestoreRolledBack"),
        (e2: Error) => events.warning(`The restore failed and VM '${vm.name}' could not be started again: ${e2.message}`, "RestoreRollbackFailed"),
      );
    }
    throw e;
  }
  const moves: Replaced["moves"] = [];
  for (const d of vm.disks) {
    if (!existsSync(d.hostResource)) continue;
    const to = path.join(folder, path.basename(d.hostResource));
    renameSync(d.hostResource, to);
    moves.push({ from: d.hostResource, to });
  }
  warnings.push(`VM '${vm.name}' was replaced: its configuration export and current disk files are in '${folder}'`);
  return { vm, wasRunning, exportDir, folder, moves };
}

async function putBack(host: HostApi, r: Replaced, events: EngineEvents): Promise<void> {
  try {
    for (const m of r.moves) if (existsSync(m.to) && !existsSync(m.from)) renameSync(m.to, m.from);
    const defDir = path.join(r.exportDir, CONFIG_DIR);
    const def = readdirSync(defDir).find((f) => /\.(vmcx|xml)$/i.test(f));
    if (!def) throw new Error("no definition in the export");
    const planned = await host.importSystemDefinition(path.join(defDir, def), { snapshotFolder: path.join(r.exportDir, "Snapshots"), generateNewId: false });
    for (const d of r.vm.disks) await host.setDiskPath(planned, d.index, d.hostResource);
    const vm = await host.realizePlannedSystem(planned);
    if (r.wasRunning) await host.requestStateChange(vm, "Running");
    events.warning(`The restore failed; VM '${r.vm.name}' was registered again as it was${r.wasRunning ? " and started" : ""}`, "RestoreRolledBack");
  } catch (e) {
    events.warning(`The restore failed and VM '${r.vm.name}' could not be registered again automatically (${(e as Error).message}); its export and disks are in '${r.folder}' — import them with Import-VM`, "RestoreRollbackFailed");
  }
}

/**
 * After a restore process died (its stale lock just cleared with --clear-stale-lock): removes
 * the planned VM it had imported and the files it had written, as its lock recorded, unless a
 * registered VM uses them (the restore had finished). A VM it had replaced stays where the
 * lock says (its export and disks), and that is reported.
 */
async function removeRestoreLeftovers(host: HostApi, stale: LockInfo, events: EngineEvents): Promise<void> {
  const p = stale.progress;
  if (stale.operation !== "restore" || !p) return;
  // Only what a restore writes: a disk in its disk folder (`<dest>/Virtual Hard Disks`, or the
  // host's `<DefaultVirtualHardDiskPath>/<name>` without --dest), a configuration file at any
  // depth under `<dest>/Virtual Machines`; never anything else the lock might name.
  const dest = typeof p["destination"] === "string" && path.isAbsolute(p["destination"]) ? path.resolve(p["destination"]) : undefined;
  const diskDir = typeof p["diskDir"] === "string" && path.isAbsolute(p["diskDir"]) ? path.resolve(p["diskDir"]) : undefined;
  const restoreWrote = (f: string): boolean =>
    [DISKS_DIR, CONFIG_DIR].includes(path.basename(path.dirname(f))) ||
    (diskDir !== undefined && path.dirname(f) === diskDir && /\.vhdx$/i.test(f)) ||
    (dest !== undefined && isInside(f, path.join(dest, CONFIG_DIR)));
  const files = Array.isArray(p["files"]) ? (p["files"] as unknown[]).filter((f): f is string => typeof f === "string" && path.isAbsolute(f)).map((f) => path.resolve(f)).filter(restoreWrote) : [];
  const inUse = new Set((await host.listVms()).flatMap((v) => v.disks.map((d) => path.resolve(d.hostResource))));
  // The planned VM it imported: the one it noted, or (killed while the import ran) the ones
  // whose configuration lives in its destination folder.
  const planned = [p["planned"] as { path: string; name: string } | undefined].filter((x): x is { path: string; name: string } => !!x && typeof x.path === "string");
  if (typeof p["destination"] === "string") planned.push(...(await plannedSystemsIn(host, p["destination"])).filter((x) => !planned.some((y) => y.path === x.path)));
  for (const pl of planned) {
    try {
      await host.destroyPlannedSystem(pl);
      events.info(`Removed planned VM '${pl.name}', imported by the interrupted restore`);
    } catch {
      // Gone already, or realized (then its files are in use and kept below).
    }
  }
  if (files.some((f) => inUse.has(path.resolve(f)))) {
    events.info("The interrupted restore had registered its VM; its files are kept");
  } else {
    for (const f of files) rmSync(stagingPathFor(f).replace(/-\d+$/, `-${stale.pid}`), { force: true });
    // The files, then the folders they leave empty (the disk folder too, when it is elsewhere).
    if (dest !== undefined && diskDir !== undefined) removeRestored(files, dest, diskDir);
    else if (dest !== undefined) removeWritten(files, dest);
    else for (const f of files) rmSync(f, { force: true });
    if (files.length > 0) events.info(`Removed ${files.length} file(s) written by the interrupted restore`);
  }
  if (typeof p["replaced"] === "string") {
    events.warning(`The interrupted restore had set aside the VM it was replacing: its configuration export and disk files are in '${p["replaced"]}'`, "ReplacedVmSetAside");
  }
}

/**
 * Planned VMs whose configuration lives in `folder` (Msvm_VirtualSystemSettingData of type
 * Planned, ConfigurationDataRoot). The typed client has no call for listing planned VMs yet,
 * so this asks the CIM session directly.
 */
async function plannedSystemsIn(host: HostApi, folder: string): Promise<Array<{ path: string; name: string }>> {
  const norm = (p: string): string => path.resolve(p).replace(/[\\/]+$/, "").toLowerCase();
  const want = norm(folder);
  const out: Array<{ path: string; name: string }> = [];
  const settings = await host.session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:System:Planned'");
  for (const s of settings) {
    const root = s["ConfigurationDataRoot"];
    const id = String(s["VirtualSystemIdentifier"] ?? "");
    if (typeof root !== "string" || norm(root) !== want || !/^[0-9A-Fa-f-]{36}$/.test(id)) continue;
    for (const pcs of await host.session.query(`SELECT * FROM Msvm_PlannedComputerSystem WHERE Name='${id}'`)) {
      out.push({ path: pcs.__PATH, name: String(pcs["ElementName"] ?? "") });
    }
  }
  return out;
}

/** For messages: a point's id and time. */
export function describePoint(p: PointRecord): string {
  return `${p.id} (${p.time})`;
}
