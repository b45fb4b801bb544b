/**
 * The lab host's persisted model: what a Hyper-V host knows about its VMs, checkpoints,
 * reference points, change tracking, jobs and injected faults. Stored as one JSON document
 * (state_store.ts), except the jobs, one file each (job_store.ts); WMI instances are views
 * computed from it (../classes/*.ts).
 */
import { randomUUID } from "node:crypto";
import { HvbError } from "../../base/mod";
import { DEFAULT_HOST_VERSION, type HostVersion } from "./host_versions";
import type { JobFileBook, LabJobs } from "./job_store";
import type { PendingMerge } from "./pending_merges";

export const LAB_FORMAT = "hvbackup-lab";
/** 2: jobs in DIR/jobs/ (job_store.ts); labs of version 1 (jobs in lab.json) are refused. */
export const LAB_FORMAT_VERSION = 2;

/** Msvm_ComputerSystem.EnabledState values the lab uses (class doc table). */
export const EnabledState = { Running: 2, Off: 3, Saved: 6, Paused: 9 } as const;
export type VmStateName = keyof typeof EnabledState;

export type GuestKind = "windows" | "linux" | "none";
/** State of the guest's backup (VSS) integration service. */
export type IntegrationState = "ok" | "missing" | "failing";
export type DiskFormat = "vhdx" | "vhd";

/** Tunables fixed at `lab init`; see docs/lab-fidelity.md for why each default was chosen. */
export interface LabConfig {
  /** How long a job stays Running before it reaches its final state (ms). */
  jobDurationMs: number;
  /** How long a finished job stays visible (Msvm_ConcreteJob.TimeBeforeRemoval, 5 min). */
  jobRetentionMs: number;
  /** Granularity of the persisted .rct tracking (what survives a live migration). */
  rctGrain: number;
  /** Granularity of the coarser .mrt tracking (what survives a host crash). */
  mrtGrain: number;
  /** GetVirtualDiskChanges processes at most this many bytes per call (ProcessedByteLength). */
  rctMaxProcessed: number;
  /** The Windows Server release the lab poses as: its class schemas and configuration versions. */
  hostVersion: HostVersion;
  /** The host's default folders (Msvm_VirtualSystemManagementServiceSettingData), set at init inside the lab. */
  defaultExternalDataRoot: string;
  defaultVirtualHardDiskPath: string;
  /**
   * Order of instances in query and association answers: `shuffled` (WMI documents no order,
   * so a client must not depend on one; the default) or `stable` (state order).
   */
  enumerationOrder?: "shuffled" | "stable";
  /** Seed of the shuffle (and of other seeded choices); fixed at `lab init`. */
  seed?: number;
  /**
   * Percent of calls of methods documented to answer 4096 + Job that do so here (see
   * host/job_answers.ts); labs made before this setting existed answer synchronously.
   */
  jobShare?: number;
  /** Methods whose jobs stall: PercentComplete stops moving at half way and the job never ends. */
  stallMethods?: string[];
  /**
   * How long a job asked to terminate shows JobState 6 Shutting Down before 8 Terminated (ms).
   * CIM_ConcreteJob lets a job take its time to stop, and a client must not act on what the job
   * worked on until it has; labs made before this setting existed terminate at once.
   */
  jobTerminateMs?: number;
}

export const DEFAULT_CONFIG: LabConfig = {
  jobDurationMs: 100,
  jobRetentionMs: 5 * 60 * 1000,
  rctGrain: 256 * 1024,
  mrtGrain: 2 * 1024 * 1024,
  rctMaxProcessed: 8 * 1024 * 1024,
  hostVersion: DEFAULT_HOST_VERSION,
  defaultExternalDataRoot: "",
  defaultVirtualHardDiskPath: "",
  jobTerminateMs: 300,
};

/** Percent of job-capable calls a new lab answers with a job (job_answers.ts). */
export const DEFAULT_JOB_SHARE = 30;

/** One guest write as change tracking remembers it. */
export interface TrackedWrite {
  seq: number;
  offset: number;
  length: number;
  /** 1 = exact (in-memory bitmap); rctGrain after a migration; mrtGrain after a crash. */
  grain: number;
}

/** Resilient change tracking of one virtual disk (one attachment location of a VM). */
export interface RctRecord {
  /** False for VHD disks and configuration versions without RCT. */
  enabled: boolean;
  /** Changes when tracking is reset: every id issued before becomes unknown. */
  trackingId: string;
  next: number;
  /** Ids handed out (reference points) and the write sequence number each one marks. */
  ids: { id: string; seq: number }[];
  writes: TrackedWrite[];
}

export type ControllerKind = "scsi" | "ide";

/** A disk attachment: drive slot + virtual hard disk file. */
export interface DiskRecord {
  /** Device part of the RASD InstanceIDs, e.g. `<controller id>\0\1` (location based). */
  deviceKey: string;
  controller: ControllerKind;
  controllerIndex: number;
  address: number;
  format: DiskFormat;
  /** The file the VM writes to now (top of its chain). */
  path: string;
  /** Base name used for differencing children (`<base>_<checkpoint id>.avhdx`). */
  baseName: string;
  rct: RctRecord;
}

/** Layout of controllers of one configuration. */
export interface Hardware {
  generation: 1 | 2;
  /** Instance GUID of the synthetic SCSI controller; undefined when the VM has none. */
  scsiControllerId: string | undefined;
  /** Instance GUIDs of SCSI controllers 1, 2, 3 (absent: only controller 0). */
  extraScsiControllerIds?: string[];
  /** A DVD drive (empty or with an ISO), not backed up: the backup must skip it. */
  dvd?: DeviceSlot & { iso: string | undefined };
  /**
   * A pass-through disk (RASD `Microsoft:Hyper-V:Physical Disk Drive`): cannot be checkpointed;
   * CreateSnapshot leaves it out with IgnoreNonSnapshottableDisks, fails otherwise.
   */
  passthrough?: DeviceSlot;
  /**
   * Shared disks (vhd_sets.ts): a VHD Set (.vhds) several VMs attach, or a shared VHDX (the
   * 2012 R2 way). Shown as a disk SASD with PersistentReservationsSupported; never checkpointed
   * as a VM disk (a VHD Set gets its own snapshot when its group is checkpointed).
   */
  sharedDisks?: SharedDiskSlot[];
  /**
   * Synthetic disk drives added with AddResourceSettings that no virtual hard disk is attached
   * to yet (a drive and its disk are two resources there; a DiskRecord is both).
   */
  emptyDrives?: DeviceSlot[];
}

/** A shared disk attached to a VM (`lab vm new --shared-disk FILE`). */
export interface SharedDiskSlot extends DeviceSlot {
  /** The .vhds (or shared .vhdx) file, resolved. */
  path: string;
  kind: "vhdset" | "vhdx";
  /** In a checkpoint's hardware: the VHD Set snapshot the group checkpoint made (SASD SnapshotId). */
  snapshotId?: string;
}

/** Where a non-VHD drive sits. */
export interface DeviceSlot {
  controller: ControllerKind;
  controllerIndex: number;
  address: number;
}

export interface VmRecord {
  id: string;
  name: string;
  state: number;
  configVersion: string;
  hardware: Hardware;
  guest: GuestKind;
  integration: IntegrationState;
  disks: DiskRecord[];
  /** The checkpoint the VM runs on top of (Msvm_MostCurrentSnapshotInBranch). */
  currentSnapshot: string | undefined;
  dataRoot: string;
  notes: string[];
  createdAt: number;
  stateChangedAt: number;
  /** Cluster labs: the node that owns the VM's cluster role now (volumes.ts). */
  node?: string;
  /** Cluster labs: true when the VM has a cluster role (is highly available). */
  clusterRole?: boolean;
  /** A live migration armed to happen right after the next call of `method` about this VM (`lab migrate --after`). */
  migrateAfter?: { method: string; to: string };
  /** Guest writes armed to happen right after the next call of `method` about this VM (`lab write --after`), in order. */
  writeAfter?: ArmedWrite[];
}

/** A guest write waiting for a call (armed_writes.ts). */
export interface ArmedWrite {
  method: string;
  disk: number;
  offset: number;
  length: number;
  seed: string;
}

export type SnapshotKind = "recovery" | "standard";
export type ConsistencyKind = "application" | "filesystem" | "crash";

export interface SnapshotDisk {
  deviceKey: string;
  controller: ControllerKind;
  controllerIndex: number;
  address: number;
  format: DiskFormat;
  /** The frozen file holding the disk as it was at the checkpoint. */
  path: string;
}

export interface SnapshotRecord {
  id: string;
  vmId: string;
  name: string;
  kind: SnapshotKind;
  parentId: string | undefined;
  createdAt: number;
  /** Global write sequence at the moment of the checkpoint (RCT cut). */
  seq: number;
  consistencyLevel: 1 | 2;
  consistency: ConsistencyKind;
  configVersion: string;
  hardware: Hardware;
  disks: SnapshotDisk[];
}

export interface ReferencePointRecord {
  id: string;
  vmId: string;
  createdAt: number;
  consistencyLevel: 1 | 2;
  consistency: ConsistencyKind;
  /** Msvm_StorageAllocationSettingData InstanceIDs of the VM's disks. */
  diskIds: string[];
  /** Index-aligned with diskIds; "" for a disk without RCT (VHD). */
  rctIds: string[];
}

export interface PlannedDisk extends SnapshotDisk {}

export type { PlannedCheckpoint } from "./planned_checkpoints";
import type { PlannedCheckpoint } from "./planned_checkpoints";

export interface PlannedRecord {
  id: string;
  name: string;
  configVersion: string;
  hardware: Hardware;
  guest: GuestKind;
  integration: IntegrationState;
  disks: PlannedDisk[];
  /** The definition file it was imported from (in use until realized or destroyed). */
  definitionFile: string;
  /** Checkpoints its configuration still references (planned_checkpoints.ts); absent: none. */
  checkpoints?: PlannedCheckpoint[];
  notes: string[];
  createdAt: number;
}

export interface JobRecord {
  id: string;
  method: string;
  description: string;
  submittedAt: number;
  durationMs: number;
  /** Set when the job fails: the percentage at which it stops, with its error. */
  failAtPercent: number | undefined;
  errorCode: number;
  errorDescription: string;
  /** Object paths the job created or changed (CIM_AffectedJobElement). */
  affected: { path: string; effects: number[] }[];
  /** Further Msvm_Error messages GetErrorEx gives for a failed job (e.g. the guest VSS writer's reason). */
  errorDetails?: string[];
  /** Set for a stalled job: PercentComplete stops here and the job never ends (until terminated). */
  stallAtPercent?: number;
  /** Set when a client terminated the job (RequestStateChange 4): it shows Shutting Down until then, then Terminated. */
  terminatedAt?: number;
  /**
   * VMs whose checkpoints, reference points and disks the job works on until it ends (a merge,
   * an export): calls on them are refused meanwhile (services/busy_vms.ts). Absent: none.
   */
  holdsVms?: string[];
}

export interface FaultRecord {
  method: string;
  code: number;
  remaining: number;
  /** When set, the call starts a job that fails at this percentage with `code`. */
  atPercent: number | undefined;
  /** Calls of the method that succeed before the fault fires (`lab fail --skip N`); absent = 0. */
  skip?: number;
}

/** A VM group (Msvm_VirtualSystemCollection, New-VMGroup of type VMCollectionType). */
export interface GroupRecord {
  id: string;
  name: string;
  /** Member VM ids, in the order they were added. */
  vmIds: string[];
  createdAt: number;
}

/** A snapshot of a group (Msvm_SnapshotCollection): one checkpoint per member, taken at one cut. */
export interface SnapshotCollectionRecord {
  id: string;
  groupId: string;
  kind: SnapshotKind;
  createdAt: number;
  snapshotIds: string[];
  /** The VHD Set snapshots taken with it, one per VHD Set a member attaches (vhd_sets.ts). */
  vhdSetSnapshots?: VhdSetSnapshotRef[];
}

/** A snapshot within a VHD Set, by the set's path and the snapshot's id. */
export interface VhdSetSnapshotRef {
  path: string;
  snapshotId: string;
}

/** A reference point of a group (Msvm_ReferencePointCollection): one reference point per member. */
export interface ReferencePointCollectionRecord {
  id: string;
  groupId: string;
  createdAt: number;
  /** The lowest consistency among the members' reference points (1 application, 2 crash). */
  consistencyLevel: 1 | 2;
  referencePointIds: string[];
  /** The reference-only VHD Set snapshots it keeps (converted from its snapshot collection's). */
  vhdSetSnapshots?: VhdSetSnapshotRef[];
}

export interface LabState {
  format: typeof LAB_FORMAT;
  version: number;
  hostName: string;
  createdAt: number;
  /** Global sequence of guest writes and checkpoint cuts. */
  seq: number;
  config: LabConfig;
  vms: VmRecord[];
  planned: PlannedRecord[];
  snapshots: SnapshotRecord[];
  referencePoints: ReferencePointRecord[];
  /** The host's jobs, read from their files as asked for; not part of lab.json (job_store.ts). */
  jobs: LabJobs;
  /** What lab.json records about the job files: their committed generation, a crash's cut, the next purge. */
  jobFiles: JobFileBook;
  faults: FaultRecord[];
  /** Volumes the lab's files live on (volumes.ts); absent in labs made before volumes existed. */
  volumes?: VolumeRecord[];
  /** Cluster nodes (`lab init --nodes N`); absent or empty for a standalone host. */
  nodes?: string[];
  /** Recovery checkpoints open now and at most at once, per volume and per node (volumes.ts). */
  checkpointLoad?: CheckpointLoad;
  /** Volume shadow copies that exist (shadow_copies.ts). */
  shadowCopies?: ShadowCopyRecord[];
  /** VM groups and their collection snapshots / reference points (absent in labs made before groups). */
  groups?: GroupRecord[];
  snapshotCollections?: SnapshotCollectionRecord[];
  referencePointCollections?: ReferencePointCollectionRecord[];
  /** VHD Sets (.vhds) the lab keeps behind Msvm_ImageManagementService (vhd_sets.ts). */
  vhdSets?: VhdSetRecord[];
  /**
   * Drive letters mapped in the caller's logon session (`lab drive map`): served as
   * Win32_LogicalDisk DriveType 4; VMMS (session 0) cannot open paths on them.
   */
  mappedDrives?: Array<{ letter: string; target: string }>;
  /** Merges that happen when their job completes (pending_merges.ts); absent: none. */
  pendingMerges?: PendingMerge[];
  /** Calls drawn for a job answer so far (the draw's position in the seeded sequence). */
  jobDraws?: number;
  /** The last query answered by a job without its outputs: asked again, it is answered at once (labs made before `datalessJobAnswers`). */
  datalessJobAnswer?: string;
  /** Queries answered by a job without their outputs (one per caller at most, newest last): each, asked again, is answered at once. */
  datalessJobAnswers?: string[];
}

/** A volume of the lab host: a folder that stands for a volume (or a cluster shared volume). */
export interface VolumeRecord {
  name: string;
  /** Absolute folder; every file under it is on this volume. */
  root: string;
  /** The volume GUID (Win32_Volume.DeviceID is `\\?\Volume{GUID}\`). */
  id: string;
  /** A cluster shared volume (C:\ClusterStorage\VolumeN on a real cluster). */
  csv: boolean;
}

/** Counts of recovery checkpoints that exist at once: what a per-volume limit is measured by. */
export interface CheckpointLoad {
  current: Record<string, number>;
  peak: Record<string, number>;
}

/** A new upper-case GUID, the way Hyper-V prints VM and checkpoint ids. */
export function newGuid(): string {
  return randomUUID().toUpperCase();
}

export function stateName(enabledState: number): string {
  for (const [k, v] of Object.entries(EnabledState)) if (v === enabledState) return k;
  return `EnabledState ${enabledState}`;
}

/**
 * The VM called `name`, or whose id is `name`. Names need not be unique (as on Hyper-V: a
 * restore side by side may reuse one); when several VMs share it, the id must be used.
 */
export function vmByName(state: LabState, name: string): VmRecord {
  const want = name.toLowerCase().replace(/^\{|\}$/g, "");
  const byId = state.vms.find((v) => v.id.toLowerCase() === want);
  if (byId) return byId;
  const matches = state.vms.filter((v) => v.name.toLowerCase() === want);
  if (matches.length === 0) {
    throw new HvbError("LabVmNotFound", `Cannot find VM '${name}' in the lab`, { category: "ObjectNotFound", target: name });
  }
  if (matches.length > 1) {
    throw new HvbError("LabVmAmbiguous", `${matches.length} VMs in the lab are named '${name}': use the VM id (${matches.map((v) => v.id).join(", ")})`, { category: "InvalidArgument", target: name });
  }
  return matches[0]!;
}

/** Configuration versions Hyper-V has shipped; the lab accepts only these. */
export const KNOWN_CONFIG_VERSIONS = [
  "5.0", "6.2", "7.0", "7.1", "8.0", "8.1", "8.2", "8.3", "9.0", "9.1", "9.2", "9.3", "10.0", "11.0", "12.0",
];

/** RCT needs configuration version 6.2 or later (reference §2: third-party docs say 6.2). */
export function configVersionHasRct(version: string): boolean {
  const [maj, min] = version.split(".").map(Number) as [number, number];
  return maj > 6 || (maj === 6 && min >= 2);
}

/** A volume shadow copy: a frozen view of a volume's VM files at one instant. */
export interface ShadowCopyRecord {
  /** `{GUID}` (Win32_ShadowCopy.ID). */
  id: string;
  /** The volume's name (VolumeRecord.name). */
  volume: string;
  /** The folder holding the frozen files, laid out as below the volume root (DeviceObject). */
  folder: string;
  createdAt: number;
}

/**
 * A VHD Set as the lab keeps it (its private representation, see vhd_sets.ts): the .vhds file
 * itself holds only a lab marker, never a disk; the data lives in VHDX files beside it.
 */
export interface VhdSetRecord {
  id: string;
  /** The .vhds file, resolved. */
  path: string;
  virtualSize: number;
  /** The VHDX file writes go to now (top of the set's chain). */
  current: string;
  /** A VHDX the set was created over (CreateVirtualHardDisk ParentPath): not managed by the set. */
  unmanagedParent?: string;
  /** Snapshots, oldest first. */
  snapshots: VhdSetSnapshotRecord[];
  rct: RctRecord;
  createdAt: number;
}

/** One snapshot of a VHD Set (Msvm_VHDSnapshotInformation). */
export interface VhdSetSnapshotRecord {
  id: string;
  createdAt: number;
  /** Global write sequence at the snapshot's cut. */
  seq: number;
  /** The frozen VHDX holding the set's data at the snapshot; "" for a reference-only snapshot. */
  path: string;
  /** RCT id marking the cut ("" when change tracking is off). */
  rctId: string;
}
