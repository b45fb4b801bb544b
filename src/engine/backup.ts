import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import { openDisk } from "../disks/mod";
import type { VirtualDisk } from "../disk/mod";
import { HvbError, isHvbError } from "../base/mod";
import { isRctFallbackError } from "../hyperv/mod";
import type { Consistency, PointDisk, PointRecord } from "../repository/mod";
import { CONFIG_DIR, DISKS_DIR, MANIFEST_FILE, diskBaseName, pointId } from "../repository/mod";
import { type Manifest, MANIFEST_FORMAT, MANIFEST_VERSION, type ManifestFile, writeManifest } from "../repository/mod";
import type { Lock, LockInfo } from "../repository/mod";
import type { Repository, VmStore } from "../repository/mod";
import { crashPoint } from "../base/mod";
import { type DiskCopyResult, changedUnitsByHash, copyFull, copyUnits } from "./disk_copy";
import type { EngineEvents } from "./events";
import type { HostApi, HostCheckpoint, HostReferencePoint, HostVm } from "./host_api";
import { unitStateAt } from "./point_chain";
import { rctUnavailableReason } from "./readiness";
import { sha256Hex, unitSizeFor, unitsOf } from "./units";

/** How a backup should run. */
export interface BackupOptions {
  /** Ignore any base and take a full backup. */
  full?: boolean;
  /** Consistency to ask the guest for (default application). */
  consistency?: Consistency;
  /** When application consistency fails: fall back to crash consistency (default) or fail. */
  fallbackToCrash?: boolean;
  /**
   * When RCT cannot be used but a base exists (old configuration version, VHD disk, reference
   * point or RCT id gone): find the changed units by hashing every unit and comparing with the
   * previous point, instead of taking a full copy of the disk (the default, with a warning).
   */
  hashChangeDetection?: boolean;
  /** Clear a lock left by a process that no longer runs. */
  clearStaleLock?: boolean;
}

/** What one VM's backup produced. */
export interface BackupResult {
  vmName: string;
  vmId: string;
  point: PointRecord;
  warnings: string[];
}

/**
 * Backs up one VM into the repository (DESIGN.md "Backup of one VM"): recovery checkpoint,
 * changed ranges per disk (RCT) or every allocated block (full), the checkpoint's
 * configuration, atomic publish, then reference point rotation. On any failure before the
 * publish the checkpoint is destroyed, the staging folder removed and the catalog untouched.
 */
export async function backupVm(host: HostApi, repo: Repository, vmNameOrId: string, options: BackupOptions, events: EngineEvents): Promise<BackupResult> {
  const vm = await host.findVm(vmNameOrId);
  const store = repo.vmStore(vm.name, vm.id);
  const lock = store.lock("backup", { clearStale: options.clearStaleLock ?? false });
  try {
    for (const orphan of store.removeOrphans()) events.info(`Removed '${orphan}', left by an interrupted run`);
    // Removing a checkpoint merges the VM's disks back: read the VM again for its current files.
    const current = lock.cleared && (await removeLeftovers(host, store, vm, lock.cleared, events)) ? await host.refreshVm(vm) : vm;
    return await backupLocked(host, store, current, options, events, lock);
  } finally {
    lock.release();
  }
}

async function backupLocked(host: HostApi, store: VmStore, vm: HostVm, options: BackupOptions, events: EngineEvents, lock: Lock): Promise<BackupResult> {
  const warnings: string[] = [];
  const warn = (message: string, code?: string): void => {
    warnings.push(message);
    events.warning(message, code);
  };
  const activity = `Backing up ${vm.name}`;
  if (vm.disks.length === 0) throw new HvbError("VmHasNoDisks", `VM '${vm.name}' has no virtual hard disks to back up`, { category: "InvalidOperation", target: vm.name });
  const catalog = store.readCatalog();
  if (catalog.pendingMerge) {
    throw new HvbError("PruneInterrupted", `A prune of '${vm.name}' was interrupted; run 'hvbackup prune' again to finish it before the next backup`, { category: "InvalidOperation", target: store.dir });
  }
  const last = catalog.points[catalog.points.length - 1];

  // Reference points on the host that this repository did not make break other products' chains
  // and ours: say so (they are left alone).
  const ours = new Set(catalog.points.map((p) => p.referencePoint?.instanceId).filter((x): x is string => !!x));
  const hostRps = await host.listReferencePoints(vm);
  for (const rp of hostRps) {
    if (!ours.has(rp.instanceId)) {
      warn(`VM '${vm.name}' has reference point '${rp.instanceId}' that this repository did not make (another backup product, or an interrupted run: see 'hvbackup cleanup'); it is left alone`, "ForeignReferencePoint");
    }
  }

  // A recovery checkpoint already there was left by a backup that could not remove it (or
  // belongs to another product's running backup): never touched here, but said.
  const lingering = await host.listCheckpoints(vm, "recovery");
  for (const cp of lingering) {
    warn(`VM '${vm.name}' has a recovery checkpoint '${cp.name || cp.instanceId}' left by an earlier backup (or another product's running one); remove it with 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLingering");
  }
  // Noted in the lock before anything is made on the host: if this process dies, the run that
  // clears its stale lock knows what it left behind (see removeLeftovers).
  lock.note({ vmId: vm.id, checkpointsBefore: lingering.map((c) => c.instanceId), referencePointsBefore: hostRps.map((r) => r.instanceId) });

  // 1. Recovery checkpoint, with the consistency policy.
  events.progress({ activity, status: "Creating recovery checkpoint", percent: 0 });
  const wanted = options.consistency ?? "application";
  let consistency: Consistency = wanted;
  let checkpoint: HostCheckpoint;
  try {
    checkpoint = await host.createRecoveryCheckpoint(vm, wanted);
  } catch (e) {
    if (wanted !== "application" || options.fallbackToCrash === false || !isHvbError(e)) throw e;
    warn(`Application-consistent checkpoint of '${vm.name}' failed (${e.message}); taking a crash-consistent one instead`, "ConsistencyFallback");
    consistency = "crash";
    checkpoint = await host.createRecoveryCheckpoint(vm, "crash");
  }
  lock.note({ checkpoint: checkpoint.instanceId });
  crashPoint("backup-checkpoint-created");

  const time = new Date();
  let staging: string | undefined;
  let published = false;
  const disks: PointDisk[] = [];
  const manifestDisks: Manifest["disks"] = [];
  let finalKind: "full" | "incremental" = "full";
  let finalId = "";
  let base: PointRecord | undefined;
  try {
    // 2. Decide per disk how to find its data: every block (full), RCT, or block hashes.
    base = options.full ? undefined : last;
    const baseRp = base?.referencePoint ?? undefined;
    const baseRpAlive = baseRp !== undefined && hostRps.some((r) => r.instanceId === baseRp.instanceId);
    const plans: DiskPlan[] = [];
    try {
      for (const disk of vm.disks) {
        const frozen = checkpoint.disks.find((d) => d.index === disk.index);
        if (!frozen) throw new HvbError("CheckpointDiskMissing", `Recovery checkpoint of '${vm.name}' has no disk ${disk.index}`, { category: "InvalidData", target: vm.name });
        const source = openDisk(frozen.path);
        const plan: DiskPlan = { disk, source, method: "full", unitSize: unitSizeFor(source.virtualSize), ranges: undefined, baseDisk: undefined };
        plans.push(plan);
        const baseDisk = base?.disks.find((d) => d.index === disk.index);
        if (!baseDisk) continue;
        if (baseDisk.virtualSize !== source.virtualSize) {
          warn(`disk ${disk.index} of '${vm.name}' changed size since the last backup; taking a full copy of it`, "DiskResized");
          continue;
        }
        plan.baseDisk = baseDisk;
        plan.unitSize = baseDisk.unitSize;
        plan.ranges = await changedRanges(host, vm, disk.index, disk.hostResource, source, baseRp, baseRpAlive, rctUnavailableReason(vm, disk), warn, options.hashChangeDetection === true);
        plan.method = plan.ranges ? "rct" : options.hashChangeDetection === true ? "hash" : "full";
      }
      const kind: "full" | "incremental" = plans.some((p) => p.method !== "full") ? "incremental" : "full";
      const id = pointId(time, kind);
      staging = store.beginPoint(id);
      mkdirSync(path.join(staging, DISKS_DIR), { recursive: true });
      crashPoint("backup-staging-created");

      plans.forEach((plan, n) => {
        const name = diskBaseName(plan.disk.hostResource, plan.disk.index);
        const progress = (d: number, t: number): void =>
          events.progress({ activity, status: `disk ${plan.disk.index}: unit ${d} of ${t}`, percent: Math.floor(((n + (t ? d / t : 1)) / plans.length) * 90) });
        const { source, unitSize } = plan;
        let copy: DiskCopyResult;
        let file: string;
        if (plan.method === "full") {
          file = `${DISKS_DIR}/${name}.vhdx`;
          copy = copyFull(source, path.join(staging!, file), unitSize, progress);
        } else {
          const parentFile = store.pointFile(base!.id, plan.baseDisk!.file);
          file = `${DISKS_DIR}/${name}.avhdx`;
          const units = plan.method === "rct"
            ? unitsOf(plan.ranges!, unitSize, source.virtualSize)
            : changedUnitsByHash(source, unitSize, unitStateAt(store, store.readCatalog(), base!.id, plan.disk.index), progress);
          copy = copyUnits(source, path.join(staging!, file), parentFile, unitSize, units, progress, plan.method === "rct" ? plan.ranges : undefined);
        }
        disks.push({ index: plan.disk.index, file, sourcePath: plan.disk.hostResource, virtualSize: source.virtualSize, unitSize, storedBytes: copy.storedBytes, method: plan.method });
        manifestDisks.push({ index: plan.disk.index, file, virtualSize: source.virtualSize, unitSize, units: copy.units });
        crashPoint("backup-disk-copied");
      });
      finalKind = kind;
      finalId = id;
    } finally {
      for (const p of plans) p.source.close();
    }

    // 3. The checkpoint's configuration.
    events.progress({ activity, status: "Exporting configuration", percent: 92 });
    // Exported into the point's folder itself, so it is laid out like a Hyper-V export
    // (Virtual Machines/, Snapshots/, Virtual Hard Disks/) that Import-VM can read.
    await host.exportConfiguration(checkpoint, staging);
    crashPoint("backup-config-exported");
    const configuration = [CONFIG_DIR, "Snapshots"].filter((d) => existsSync(path.join(staging!, d))).flatMap((d) => hashTree(staging!, d));

    // 4. Manifest, then publish (the catalog write is the commit point).
    const record: PointRecord = {
      id: finalId,
      time: time.toISOString(),
      kind: finalKind,
      parentId: finalKind === "incremental" ? base!.id : null,
      consistency,
      sizeBytes: 0,
      disks,
      referencePoint: null,
      warnings: [...warnings],
    };
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      pointId: finalId,
      vmId: vm.id,
      vmName: vm.name,
      time: record.time,
      kind: finalKind,
      parentId: record.parentId,
      disks: manifestDisks,
      configuration,
    };
    writeManifest(path.join(staging, MANIFEST_FILE), manifest);
    record.sizeBytes = treeSize(staging);
    crashPoint("backup-before-publish");
    store.publishPoint(staging, record);
    published = true;
    staging = undefined;
    crashPoint("backup-published");
    events.progress({ activity, status: "Creating reference point", percent: 96 });

    // 5. Reference point for the next incremental; drop the one we made last time.
    const rp = await convertOrDestroy(host, checkpoint, vm, warn);
    if (rp) {
      const catalog = store.readCatalog();
      const p = catalog.points.find((x) => x.id === finalId)!;
      // The reference point says what the host achieved (an application-consistent request on a
      // guest that cannot give it yields a crash-consistent checkpoint).
      if (rp.consistencyLevel === 2 && p.consistency !== "crash") {
        p.consistency = "crash";
        const msg = `The guest of '${vm.name}' gave a crash-consistent checkpoint, not the application-consistent one asked for`;
        p.warnings.push(msg);
        warn(msg, "ConsistencyDowngraded");
      }
      p.referencePoint = {
        instanceId: rp.instanceId,
        // ResilientChangeTrackingIdentifiers are index-aligned with VirtualDiskIdentifiers (the
        // disks' SASD InstanceIDs); fall back to position when the host does not list them.
        rctIds: Object.fromEntries(vm.disks.map((d, i) => {
          const j = rp.virtualDiskIds.indexOf(d.instanceId);
          return [String(d.index), rp.rctIds[j >= 0 ? j : i] ?? ""];
        })),
        diskPaths: Object.fromEntries(vm.disks.map((d) => [String(d.index), d.hostResource])),
      };
      const previous = catalog.points.filter((x) => x.id !== finalId && x.referencePoint).map((x) => x);
      store.writeCatalog(catalog);
      crashPoint("backup-reference-point-recorded");
      for (const old of previous) {
        const alive = hostRps.find((r) => r.instanceId === old.referencePoint!.instanceId);
        if (alive) {
          try {
            await host.destroyReferencePoint(alive);
          } catch (e) {
            warn(`Could not remove the previous reference point '${alive.instanceId}' of '${vm.name}': ${(e as Error).message}`, "ReferencePointNotRemoved");
            continue;
          }
        }
        const c = store.readCatalog();
        const q = c.points.find((x) => x.id === old.id);
        if (q) q.referencePoint = null;
        store.writeCatalog(c);
      }
    }
    events.progress({ activity, status: "Done", percent: 100 });
    const point = store.readCatalog().points.find((x) => x.id === finalId)!;
    return { vmName: vm.name, vmId: vm.id, point, warnings };
  } catch (e) {
    if (!published) {
      // Never leave a checkpoint behind, nor half a point.
      try {
        await destroyCheckpointPatiently(host, checkpoint);
      } catch (cleanupError) {
        events.warning(`Could not remove the recovery checkpoint of '${vm.name}' after a failure: ${(cleanupError as Error).message}; run 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLeft");
      }
      if (staging) rmSync(staging, { recursive: true, force: true });
    }
    throw e;
  }
}

/**
 * Changed byte ranges of one disk since the base point's reference point, or undefined (with a
 * warning saying exactly why) when RCT cannot answer.
 */
async function changedRanges(
  host: HostApi,
  vm: HostVm,
  index: number,
  diskPath: string,
  source: VirtualDisk,
  baseRp: PointRecord["referencePoint"] | undefined,
  baseRpAlive: boolean,
  rctReason: string | undefined,
  warn: (m: string, code?: string) => void,
  hashing: boolean,
): Promise<Array<{ offset: number; length: number }> | undefined> {
  const label = `disk ${index} of '${vm.name}'`;
  const fallback = (why: string, code: string): undefined => {
    const then = hashing
      ? "finding changes by comparing block hashes with the previous point"
      : "taking a full copy of this disk (--hash-changes stores only the changed blocks, found by comparing hashes)";
    warn(`${label}: cannot use Resilient Change Tracking (${why}); ${then}`, code);
    return undefined;
  };
  if (rctReason) return fallback(rctReason, "RctUnavailable");
  if (!baseRp) return fallback("the last backup left no reference point", "RctNoReferencePoint");
  if (!baseRpAlive) return fallback(`reference point '${baseRp.instanceId}' no longer exists on the host`, "RctReferencePointGone");
  const rctId = baseRp.rctIds[String(index)];
  if (!rctId) return fallback("the reference point has no RCT id for this disk", "RctNoId");
  try {
    return await host.getChangedRanges(diskPath, rctId, { offset: 0, length: source.virtualSize });
  } catch (e) {
    // Only "this id or disk cannot answer" falls back; access denied and the like are real failures.
    if (!isRctFallbackError(e)) throw e;
    return fallback(`GetVirtualDiskChanges refused RCT id '${rctId}': ${(e as Error).message}`, "RctIdInvalid");
  }
}

async function convertOrDestroy(host: HostApi, checkpoint: HostCheckpoint, vm: HostVm, warn: (m: string, code?: string) => void): Promise<HostReferencePoint | undefined> {
  if (rctUnavailableReason(vm)) {
    // Without RCT a reference point would carry nothing useful. The point is published: a
    // checkpoint that will not go away is a warning, not a failed backup.
    try {
      await destroyCheckpointPatiently(host, checkpoint);
    } catch (cleanupError) {
      warn(`Could not remove the recovery checkpoint of '${vm.name}': ${(cleanupError as Error).message}; run 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLeft");
    }
    return undefined;
  }
  try {
    return await host.convertToReferencePoint(checkpoint);
  } catch (e) {
    warn(`Could not turn the recovery checkpoint of '${vm.name}' into a reference point (${(e as Error).message}); the next backup will be a full copy (or, with --hash-changes, find changes by hashing)`, "ReferencePointFailed");
    try {
      await destroyCheckpointPatiently(host, checkpoint);
    } catch (cleanupError) {
      warn(`Could not remove the recovery checkpoint of '${vm.name}': ${(cleanupError as Error).message}; run 'hvbackup cleanup --vm ${vm.name}'`, "CheckpointLeft");
    }
    return undefined;
  }
}

/**
 * DestroySnapshot, tried again after a pause when the host refuses (a VM busy with another
 * operation refuses for a moment): a checkpoint left behind makes the VM's disks grow and
 * blocks later backups, so it is worth a few seconds.
 */
async function destroyCheckpointPatiently(host: HostApi, checkpoint: HostCheckpoint): Promise<void> {
  const pauses = [500, 2000];
  for (let attempt = 0; ; attempt++) {
    try {
      await host.destroyCheckpoint(checkpoint);
      return;
    } catch (e) {
      if (attempt >= pauses.length || !isHvbError(e)) throw e;
      await new Promise((r) => setTimeout(r, pauses[attempt]));
      // Already gone (e.g. the failed call did remove it): done.
      const still = await host.listCheckpoints({ id: checkpoint.vmId, name: checkpoint.vmName, path: checkpoint.vmPath }, "recovery").catch(() => undefined);
      if (still && !still.some((c) => c.instanceId === checkpoint.instanceId)) return;
    }
  }
}

/**
 * After a backup process died (its stale lock just cleared with --clear-stale-lock): removes
 * what it had made on the host and not handed over to the catalog, as its lock recorded: the
 * recovery checkpoint it created (or, if it died before learning its id, the recovery
 * checkpoints that were not there when it started) and reference points made from it that the
 * catalog does not know. Nothing the lock does not account for is touched.
 */
async function removeLeftovers(host: HostApi, store: VmStore, vm: HostVm, stale: LockInfo, events: EngineEvents): Promise<boolean> {
  const p = stale.progress;
  if (stale.operation !== "backup" || !p || String(p["vmId"] ?? "").toLowerCase() !== vm.id.toLowerCase()) return false;
  let removed = false;
  const made = typeof p["checkpoint"] === "string" ? p["checkpoint"] : undefined;
  const before = new Set(Array.isArray(p["checkpointsBefore"]) ? (p["checkpointsBefore"] as string[]) : []);
  for (const cp of await host.listCheckpoints(vm, "recovery")) {
    if (made ? cp.instanceId !== made : before.has(cp.instanceId)) continue;
    await destroyCheckpointPatiently(host, cp);
    removed = true;
    events.info(`Removed recovery checkpoint '${cp.name || cp.instanceId}' of '${vm.name}', left by the interrupted backup (process ${stale.pid}, ${stale.started})`);
  }
  const rpsBefore = new Set(Array.isArray(p["referencePointsBefore"]) ? (p["referencePointsBefore"] as string[]) : []);
  const catalogued = new Set(store.readCatalog().points.map((x) => x.referencePoint?.instanceId).filter((x): x is string => !!x));
  for (const rp of await host.listReferencePoints(vm)) {
    if (rpsBefore.has(rp.instanceId) || catalogued.has(rp.instanceId)) continue;
    await host.destroyReferencePoint(rp);
    events.info(`Removed reference point '${rp.instanceId}' of '${vm.name}', made by the interrupted backup but never recorded`);
  }
  return removed;
}

/** Every file below `root/sub`, with size and SHA-256, paths relative to `root` with `/`. */
export function hashTree(root: string, sub: string): ManifestFile[] {
  const out: ManifestFile[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(r);
      else if (entry.isFile()) {
        const data = readFileSync(path.join(root, r));
        out.push({ file: r, size: data.length, sha256: sha256Hex(data) });
      }
    }
  };
  walk(sub);
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Bytes used by the files below `dir` (allocated blocks, so sparse files count what they use). */
export function treeSize(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) n += treeSize(p);
    else if (entry.isFile()) {
      const st = statSync(p);
      n += Math.min(st.size, st.blocks * 512);
    }
  }
  return n;
}

interface DiskPlan {
  disk: HostVm["disks"][number];
  source: VirtualDisk;
  method: PointDisk["method"];
  unitSize: number;
  ranges: Array<{ offset: number; length: number }> | undefined;
  baseDisk: PointDisk | undefined;
}
