/**
 * The typed Hyper-V client the backup engine uses. Every call goes through one
 * {@link CimSession} (real WMI on Windows, the lab host elsewhere); every failed method or job
 * becomes a {@link HyperVMethodError}.
 *
 * @example
 * const hv = new HyperVClient(session, { onJobProgress: (p, d) => console.log(p, d) });
 * const vm = await hv.findVm("web01");
 * const cp = await hv.createRecoveryCheckpoint(vm, "application");
 * // ... copy cp.disks[i].path ...
 * const rp = await hv.convertToReferencePoint(cp); // rp.rctIds[i] is the next LimitId
 */
import type { CimSession } from "../cim/mod";
import {
  type CheckpointKind,
  type RecoveryCheckpointOptions,
  createRecoveryCheckpoint,
  destroyCheckpoint,
  listCheckpoints,
} from "./checkpoints";
import {
  type ExportOptions,
  type ImportOptions,
  exportConfiguration,
  getPlanned,
  importSystemDefinition,
  realizePlannedSystem,
  validatePlannedSystem,
} from "./export_import";
import { type CancelRequest, type ClientContext, DEFAULT_JOB_STALL_MS, DEFAULT_POLL_MS } from "./jobs";
import { attachNewDisk, createVirtualHardDisk, defineSystem } from "./scratch_vm";
import { getChangedRanges } from "./rct";
import { removePlannedCheckpoints } from "./planned_checkpoints";
import { type HostDefaultFolders, hostDefaultFolders } from "./host_folders";
import { convertToReferencePoint, destroyReferencePoint, findReferencePoint, listReferencePoints } from "./reference_points";
import { renameSystem } from "./rename_system";
import { destroySystem, requestStateChange, setDiskPath, setSharedDiskPath } from "./system_settings";
import type { ByteRange, Checkpoint, GroupReferencePoint, GroupSnapshot, PlannedSystem, VmGroup, ReferencePoint, RequestableState, VhdSettings, VmDisk, VmInfo } from "./types";
import { getVhdSettings } from "./vhd_settings";
import { type VhdSetInfo, type VhdSnapshotInfo, createVhdSetOver, deleteVhdSnapshot, getVhdSetInformation, requireVhdSnapshot } from "./vhd_sets";
import { findVm, getVm, listVms } from "./vm_queries";
import { findGroup, listGroups } from "./groups";
import {
  convertGroupSnapshotToReferencePoint,
  createGroupRecoverySnapshot,
  destroyGroupReferencePoint,
  destroyGroupSnapshot,
  exportGroupSnapshot,
  listGroupReferencePoints,
  listGroupSnapshots,
} from "./collection_snapshots";

/** Options of {@link HyperVClient}. */
export interface HyperVClientOptions {
  /**
   * How long a job may show no progress before the wait fails with `HyperVJobTimeout`, in ms
   * (default 30 min). There is no limit on a job that keeps moving.
   */
  jobStallMs?: number;
  /** Set `requested` to stop the run: the job being waited for is terminated (see jobs.ts). */
  cancel?: CancelRequest;
  /** The longest delay between polls of a running job in ms (default 250); the first polls come sooner (jobPollDelay). */
  pollMs?: number;
  /** Called when a job's PercentComplete or status text changes. */
  onJobProgress?: (percent: number, description: string) => void;
}

/** The Hyper-V operations a backup and restore needs, over one CimSession. */
export class HyperVClient {
  readonly #ctx: ClientContext;

  constructor(session: CimSession, options: HyperVClientOptions = {}) {
    this.#ctx = {
      session,
      jobStallMs: options.jobStallMs ?? DEFAULT_JOB_STALL_MS,
      cancel: options.cancel ?? { requested: false },
      pollMs: options.pollMs ?? DEFAULT_POLL_MS,
      onJobProgress: options.onJobProgress,
      servicePaths: new Map(),
    };
  }

  /** The session this client talks through. */
  get session(): CimSession {
    return this.#ctx.session;
  }

  // --- VMs ---------------------------------------------------------------------------------

  /** Every VM on the host. */
  listVms(): Promise<VmInfo[]> {
    return listVms(this.#ctx);
  }

  /** The VM with this name (ElementName) or GUID; `VmNotFound` / `VmAmbiguous` otherwise. */
  findVm(nameOrId: string): Promise<VmInfo> {
    return findVm(this.#ctx, nameOrId);
  }

  /** Reads a VM again (state, disks and checkpoint counts change during a backup). */
  refreshVm(vm: Pick<VmInfo, "path">): Promise<VmInfo> {
    return getVm(this.#ctx, vm.path);
  }

  /** Asks for a state change and waits until the host has made it. */
  requestStateChange(vm: Pick<VmInfo, "path" | "name">, state: RequestableState): Promise<void> {
    return requestStateChange(this.#ctx, vm, state);
  }

  /** Removes a VM (it must be off or saved); disk files are not deleted. */
  destroySystem(vm: Pick<VmInfo, "path" | "name">): Promise<void> {
    return destroySystem(this.#ctx, vm);
  }

  /** Points disk `diskIndex` of a VM or planned VM at another file (ModifyResourceSettings). */
  setDiskPath(target: VmInfo | PlannedSystem, diskIndex: number, newPath: string): Promise<VmDisk> {
    return setDiskPath(this.#ctx, target, diskIndex, newPath);
  }

  /** Points the shared disk at `location` of a VM or planned VM at `newPath` (a VHD Set). */
  setSharedDiskPath(target: VmInfo | PlannedSystem, location: string, newPath: string): Promise<void> {
    return setSharedDiskPath(this.#ctx, target, location, newPath);
  }

  /** Gives a VM or planned VM a new display name (ModifySystemSettings, ElementName); its id does not change. */
  renameSystem(target: Pick<VmInfo | PlannedSystem, "settingsPath" | "name" | "path">, newName: string): Promise<void> {
    return renameSystem(this.#ctx, target, newName);
  }

  // --- checkpoints and reference points ------------------------------------------------------

  /** Takes a recovery checkpoint (SnapshotType 32768) with ConsistencyLevel 1 (application) or 2 (crash). */
  createRecoveryCheckpoint(vm: VmInfo, consistency: "application" | "crash", options?: RecoveryCheckpointOptions): Promise<Checkpoint> {
    return createRecoveryCheckpoint(this.#ctx, vm, consistency, options);
  }

  /** The VM's checkpoints: recovery ones (left over from aborted backups), standard ones, or all. */
  listCheckpoints(vm: Pick<VmInfo, "id" | "name" | "path">, kind?: CheckpointKind): Promise<Checkpoint[]> {
    return listCheckpoints(this.#ctx, vm, kind);
  }

  /** Deletes a checkpoint; the host merges its differencing disks back. */
  destroyCheckpoint(cp: Pick<Checkpoint, "path" | "name" | "vmName">): Promise<void> {
    return destroyCheckpoint(this.#ctx, cp);
  }

  /** Converts a recovery checkpoint into a reference point (the checkpoint goes away). */
  convertToReferencePoint(cp: Pick<Checkpoint, "path" | "name" | "vmName">): Promise<ReferencePoint> {
    return convertToReferencePoint(this.#ctx, cp);
  }

  /** The VM's reference points, including other products' ones. */
  listReferencePoints(vm: Pick<VmInfo, "path">): Promise<ReferencePoint[]> {
    return listReferencePoints(this.#ctx, vm);
  }

  /** The reference point with this InstanceID, or undefined when it is gone. */
  findReferencePoint(instanceId: string): Promise<ReferencePoint | undefined> {
    return findReferencePoint(this.#ctx, instanceId);
  }

  /** Removes a reference point. */
  destroyReferencePoint(rp: Pick<ReferencePoint, "path" | "instanceId">): Promise<void> {
    return destroyReferencePoint(this.#ctx, rp);
  }

  // --- VM groups (checkpointed, converted and exported as one) ---------------------------------

  /** Every VM group on the host, with its members. */
  listGroups(): Promise<VmGroup[]> {
    return listGroups(this.#ctx);
  }

  /** The VM group with this name or CollectionID; `GroupNotFound` / `GroupAmbiguous` otherwise. */
  findGroup(nameOrId: string): Promise<VmGroup> {
    return findGroup(this.#ctx, nameOrId);
  }

  /** Takes a recovery checkpoint of every member at once (Msvm_CollectionSnapshotService.CreateSnapshot). */
  createGroupRecoverySnapshot(group: VmGroup, consistency: "application" | "crash"): Promise<GroupSnapshot> {
    return createGroupRecoverySnapshot(this.#ctx, group, consistency);
  }

  /** The group's snapshot collections that exist now. */
  listGroupSnapshots(group: VmGroup): Promise<GroupSnapshot[]> {
    return listGroupSnapshots(this.#ctx, group);
  }

  /** Removes a snapshot collection (every member checkpoint merges back). */
  destroyGroupSnapshot(snap: Pick<GroupSnapshot, "path" | "groupName">): Promise<void> {
    return destroyGroupSnapshot(this.#ctx, snap);
  }

  /** Exports every member checkpoint's configuration under `<destinationDir>/<VM id>/`. */
  exportGroupSnapshot(snap: Pick<GroupSnapshot, "path" | "groupName">, destinationDir: string): Promise<void> {
    return exportGroupSnapshot(this.#ctx, snap, destinationDir);
  }

  /** Converts a recovery snapshot collection into a reference point collection. */
  convertGroupSnapshotToReferencePoint(snap: Pick<GroupSnapshot, "path" | "groupName">): Promise<GroupReferencePoint> {
    return convertGroupSnapshotToReferencePoint(this.#ctx, snap);
  }

  /** The group's reference point collections. */
  listGroupReferencePoints(group: VmGroup): Promise<GroupReferencePoint[]> {
    return listGroupReferencePoints(this.#ctx, group);
  }

  /** Removes a reference point collection with every member reference point. */
  destroyGroupReferencePoint(rp: Pick<GroupReferencePoint, "path" | "groupName">): Promise<void> {
    return destroyGroupReferencePoint(this.#ctx, rp);
  }

  // --- disks ---------------------------------------------------------------------------------

  /**
   * Extents of `diskPath` changed since RCT id `limitId` (whole disk by default), merged.
   * Unusable baselines throw `RctIdInvalid` / `RctNotSupported` (see `isRctFallbackError` in rct.ts).
   */
  getChangedRanges(diskPath: string, limitId: string, range?: ByteRange): Promise<ByteRange[]> {
    return getChangedRanges(this.#ctx, diskPath, limitId, range);
  }

  /** Type, format, parent and virtual size of a virtual hard disk file. */
  getVhdSettings(path: string): Promise<VhdSettings> {
    return getVhdSettings(this.#ctx, path);
  }

  // --- VHD Sets (vhd_sets.ts): never opened by the product, only asked about -------------------

  /** GetVHDSetInformation: the set's snapshot ids (and, with `withPaths`, every file it holds). */
  getVhdSetInformation(path: string, withPaths = false): Promise<VhdSetInfo> {
    return getVhdSetInformation(this.#ctx, path, withPaths);
  }

  /** GetVHDSnapshotInformation of one snapshot: its data file and RCT id. */
  getVhdSnapshot(path: string, snapshotId: string): Promise<VhdSnapshotInfo> {
    return requireVhdSnapshot(this.#ctx, path, snapshotId);
  }

  /** DeleteVHDSnapshot (with PersistReferenceSnapshot as given). */
  deleteVhdSnapshot(path: string, snapshotId: string, persistReference: boolean): Promise<void> {
    return deleteVhdSnapshot(this.#ctx, path, snapshotId, persistReference);
  }

  /** CreateVirtualHardDisk of the VHD Set type at `path`, over the VHDX `parentPath`. */
  createVhdSetOver(path: string, parentPath: string): Promise<void> {
    return createVhdSetOver(this.#ctx, path, parentPath);
  }

  /** GetVirtualDiskChanges of a VHD Set since `limitId` up to its snapshot `targetSnapshotId`, within `range`. */
  getVhdSetChanges(path: string, limitId: string, targetSnapshotId: string, range: ByteRange): Promise<ByteRange[]> {
    return getChangedRanges(this.#ctx, path, limitId, range, `{${targetSnapshotId.replace(/^\{|\}$/g, "").toUpperCase()}}`);
  }

  // --- export and import ---------------------------------------------------------------------

  /** Exports the configuration (no storage) of a VM or checkpoint; returns the folder written. */
  exportConfiguration(target: VmInfo | Checkpoint, destinationDir: string, options?: ExportOptions): Promise<string> {
    return exportConfiguration(this.#ctx, target, destinationDir, options);
  }

  /** Imports a definition file as a planned VM. */
  importSystemDefinition(configFile: string, options: ImportOptions): Promise<PlannedSystem> {
    return importSystemDefinition(this.#ctx, configFile, options);
  }

  /** Reads a planned VM again (e.g. after repointing disks). */
  refreshPlanned(planned: Pick<PlannedSystem, "path">): Promise<PlannedSystem> {
    return getPlanned(this.#ctx, planned);
  }

  /**
   * Deletes the checkpoints a planned VM's configuration still references (DestroySnapshot,
   * children first), as ImportSystemDefinition requires before realizing; returns their names.
   */
  removePlannedCheckpoints(planned: Pick<PlannedSystem, "path" | "name">): Promise<string[]> {
    return removePlannedCheckpoints(this.#ctx, planned);
  }

  /** Where Hyper-V puts new VMs' configurations and disks on this host. */
  hostDefaultFolders(): Promise<HostDefaultFolders> {
    return hostDefaultFolders(this.#ctx);
  }

  /** Checks a planned VM; throws a {@link HyperVMethodError} describing the problem. */
  validatePlannedSystem(planned: Pick<PlannedSystem, "path" | "name">): Promise<void> {
    return validatePlannedSystem(this.#ctx, planned);
  }

  /** Makes a planned VM real and returns the VM. */
  realizePlannedSystem(planned: Pick<PlannedSystem, "path" | "name" | "id">): Promise<VmInfo> {
    return realizePlannedSystem(this.#ctx, planned);
  }

  /** Discards a planned VM (DestroySystem). */
  destroyPlannedSystem(planned: Pick<PlannedSystem, "path" | "name">): Promise<void> {
    return destroySystem(this.#ctx, planned);
  }

  // --- A new VM (doctor --deep's scratch VM) ----------------------------------------------------

  /** Creates a new, empty dynamic VHDX (CreateVirtualHardDisk). */
  createVirtualHardDisk(file: string, virtualSize: number): Promise<void> {
    return createVirtualHardDisk(this.#ctx, file, virtualSize);
  }

  /** Defines a new generation 2 VM (DefineSystem) and returns it. */
  async defineSystem(name: string, dataRoot: string): Promise<VmInfo> {
    const vmPath = await defineSystem(this.#ctx, name, dataRoot);
    const id = String((await this.#ctx.session.getInstance(vmPath))["Name"]);
    return findVm(this.#ctx, id);
  }

  /** Attaches `file` to a VM in a new SCSI controller's drive at location 0 (AddResourceSettings). */
  attachNewDisk(vm: Pick<VmInfo, "settingsPath" | "name">, file: string): Promise<void> {
    return attachNewDisk(this.#ctx, vm, file);
  }
}
