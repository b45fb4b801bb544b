/**
 * The typed view of Hyper-V objects that the Hyper-V client hands to the engine. Each type names
 * the WMI instance it was read from (`path`, an object path) so that later calls can address it.
 */

/** Msvm_ComputerSystem.EnabledState folded into the states a backup cares about. */
export type VmState = "Running" | "Off" | "Saved" | "Paused" | "Other";

/**
 * What the guest's backup (VSS) integration service looks like from the host
 * (Msvm_VssComponent): `ok` = enabled and the guest answers (OperationalStatus [2]);
 * `missing` = no component, disabled in settings, or the guest side does not answer
 * (12 No Contact); `degraded` = present but reporting another status; `unknown` = the host
 * could not be asked.
 */
export type BackupIntegration = "ok" | "missing" | "degraded" | "unknown";

/** The controller a virtual hard disk is attached to. */
export type ControllerKind = "SCSI" | "IDE";

/** One virtual hard disk attachment of a configuration (VM, checkpoint or planned VM). */
export interface VmDisk {
  /** 0-based, stable order: IDE before SCSI, then controller number, then address on the controller. */
  index: number;
  /**
   * Where the disk is attached, the same in the VM, its checkpoints and its reference points:
   * the `<controller>\<n>\<lun>` part of the resource InstanceID, lower case (see
   * {@link locationOfInstanceId}). Disks of two configurations are the same disk when their
   * locations are equal, whatever order the host listed them in.
   */
  location: string;
  controller: ControllerKind;
  /**
   * Controller number among controllers of the same kind. IDE: its Address. SCSI: WMI gives
   * the controllers no number, so their rank by instance GUID (stable, but not necessarily the
   * ControllerNumber Get-VMScsiController shows).
   */
  controllerNumber: number;
  /** Address (LUN / IDE location) of the drive on its controller (AddressOnParent). */
  address: number;
  /** Object path of the Msvm_StorageAllocationSettingData. */
  sasdPath: string;
  /** InstanceID of the Msvm_StorageAllocationSettingData (what reference points list in VirtualDiskIdentifiers). */
  instanceId: string;
  /** HostResource[0]: the file the configuration refers to (for a running VM: the top of its chain). */
  hostResource: string;
  /** From the file name: .vhdx/.avhdx = vhdx, .vhd/.avhd = vhd. */
  format: "vhdx" | "vhd";
}

/**
 * A shared disk attachment, kept apart from {@link VmDisk} so nothing that reads disks ever opens
 * one: a VHD Set (`.vhds`, whose format is not public: reached only through the VHD Set methods
 * of Msvm_ImageManagementService, see vhd_sets.ts) or a shared VHDX (a `.vhdx` whose SASD says
 * PersistentReservationsSupported, the 2012 R2 way: no checkpoints, so it cannot be backed up).
 */
export interface SharedDisk {
  /** As {@link VmDisk.location}. */
  location: string;
  controller: ControllerKind;
  controllerNumber: number;
  address: number;
  sasdPath: string;
  instanceId: string;
  /** HostResource[0]: the .vhds (or shared .vhdx) file. */
  path: string;
  kind: "vhdset" | "shared-vhdx";
  /** SASD SnapshotId: in a checkpoint, the VHD Set snapshot taken with it; undefined when empty. */
  snapshotId: string | undefined;
}

/** A pass-through disk of a VM: a host disk given to the guest whole, not a file. */
export interface PassThroughDisk {
  /** Where it is attached (same shape as {@link VmDisk.location}). */
  location: string;
  /** InstanceID of its drive RASD (ResourceSubType `Microsoft:Hyper-V:Physical Disk Drive`). */
  instanceId: string;
  /** HostResource[0]: the object path of the host's Msvm_DiskDrive ("" when not set). */
  hostResource: string;
}

/** What the guest's operating system says about itself (Msvm_KvpExchangeComponent's intrinsic items). */
export interface GuestOs {
  /** OSName, e.g. "Windows Server 2022 Datacenter" or "Ubuntu 22.04.3 LTS". */
  name: string;
  /** OSPlatformId: 2 for Windows NT (Win32_OperatingSystem's values); Linux guests report others. */
  platformId: number | undefined;
  /** True when the OS is not Windows: its integration services freeze file systems, not applications. */
  linux: boolean;
}

/** A virtual machine as the engine sees it. */
export interface VmInfo {
  /** Msvm_ComputerSystem.Name: the VM GUID. */
  id: string;
  /** ElementName: the display name (not unique on a host). */
  name: string;
  /** __PATH of the Msvm_ComputerSystem. */
  path: string;
  state: VmState;
  /** Raw Msvm_ComputerSystem.EnabledState. */
  enabledState: number;
  /** Msvm_VirtualSystemSettingData.Version, e.g. "9.0". */
  configVersion: string;
  generation: 1 | 2;
  /** __PATH of the realized Msvm_VirtualSystemSettingData. */
  settingsPath: string;
  disks: VmDisk[];
  /** Shared disks (VHD Sets, shared VHDX); absent or empty when there are none. */
  sharedDisks?: SharedDisk[];
  hasScsiController: boolean;
  /** Pass-through disks: never in a checkpoint, so never in a backup (see the backup's --passthrough policy). */
  passThroughDisks: PassThroughDisk[];
  /** The guest OS as its KVP exchange reports it; undefined when the guest reports nothing (not running, no integration services). */
  guestOs: GuestOs | undefined;
  backupIntegration: BackupIntegration;
  /** Standard (user) checkpoints: VSSDs of type `Microsoft:Hyper-V:Snapshot:Realized`. */
  userCheckpointCount: number;
  /** Recovery checkpoints that exist now (a stray one is left over from an aborted backup). */
  recoveryCheckpointCount: number;
}

/** One disk of a checkpoint: the frozen file it refers to. */
export interface CheckpointDisk {
  /** Same numbering as {@link VmDisk.index}. */
  index: number;
  /** Same as {@link VmDisk.location}: how a checkpoint disk is paired with the VM's disk. */
  location: string;
  /** HostResource[0] of the checkpoint's Msvm_StorageAllocationSettingData (where to read its bytes). */
  path: string;
  /**
   * Set when the bytes are read from a frozen view of the file rather than the file itself
   * (a volume shadow copy): the HostResource the host reported, which `path` then stands in
   * for. Disk identity checks compare this one.
   */
  hostPath?: string;
  /** InstanceID of that Msvm_StorageAllocationSettingData. */
  instanceId: string;
  controller: ControllerKind;
  controllerNumber: number;
  address: number;
  format: "vhdx" | "vhd";
}

/** A checkpoint (snapshot) of a VM: its Msvm_VirtualSystemSettingData. */
export interface Checkpoint {
  /** __PATH of the checkpoint's VSSD. */
  path: string;
  instanceId: string;
  /** ElementName of the checkpoint. */
  name: string;
  /** VirtualSystemType, e.g. `Microsoft:Hyper-V:Snapshot:Recovery`. */
  systemType: string;
  /** The VM it belongs to. */
  vmId: string;
  vmName: string;
  vmPath: string;
  /** CreationTime (CIM datetime) when the host reports it. */
  creationTime: string | undefined;
  /** The consistency level that was asked for (1 application, 2 crash); undefined for checkpoints this client did not create. */
  requestedConsistency: "application" | "crash" | undefined;
  disks: CheckpointDisk[];
  /** The checkpoint's shared disks, each with the VHD Set snapshot taken with it (SnapshotId). */
  sharedDisks?: SharedDisk[];
}

/** A Msvm_VirtualSystemReferencePoint. */
export interface ReferencePoint {
  path: string;
  instanceId: string;
  /** VirtualSystemIdentifier: the VM GUID. */
  vmId: string;
  /** 1 Log based, 2 RCT based (class page values). */
  referencePointType: number;
  /** 1 application consistent, 2 crash consistent; undefined when not reported. */
  consistencyLevel: number | undefined;
  /** ResilientChangeTrackingIdentifiers, index-aligned with {@link virtualDiskIds}. */
  rctIds: string[];
  /** VirtualDiskIdentifiers: Msvm_StorageAllocationSettingData InstanceIDs of the VM's disks. */
  virtualDiskIds: string[];
}

/** A planned VM (Msvm_PlannedComputerSystem), the result of an import before it is realized. */
export interface PlannedSystem {
  /** Msvm_PlannedComputerSystem.Name: the GUID the VM will have. */
  id: string;
  name: string;
  path: string;
  /** __PATH of its VSSD (`Microsoft:Hyper-V:System:Planned`). */
  settingsPath: string;
  configVersion: string;
  generation: 1 | 2;
  disks: VmDisk[];
  sharedDisks?: SharedDisk[];
}

import type { ByteRange } from "../base/mod";
/** A changed extent of a virtual disk, in bytes (the product's one {@link ByteRange}). */
export type { ByteRange };

/** Msvm_VirtualHardDiskSettingData, parsed. */
export interface VhdSettings {
  path: string;
  /** Type: 2 Fixed, 3 Dynamic, 4 Differencing. */
  type: "fixed" | "dynamic" | "differencing" | "unknown";
  /** Format: 2 VHD, 3 VHDX, 4 VHDSet. */
  format: "vhd" | "vhdx" | "vhdset" | "unknown";
  /** ParentPath; undefined when the disk has no parent. */
  parentPath: string | undefined;
  /** MaxInternalSize: the virtual size in bytes. */
  virtualSize: number;
  blockSize: number | undefined;
  logicalSectorSize: number | undefined;
  physicalSectorSize: number | undefined;
  virtualDiskId: string | undefined;
}

/** States {@link HyperVClient.requestStateChange} can ask for, with their RequestedState values. */
export const REQUESTED_STATE = {
  Running: 2,
  Off: 3,
  Saved: 6,
  Paused: 9,
  Reset: 11,
} as const;
export type RequestableState = keyof typeof REQUESTED_STATE;

/** A VM group (Msvm_VirtualSystemCollection) with its members. */
export interface VmGroup {
  /** CollectionID. */
  id: string;
  /** ElementName. */
  name: string;
  path: string;
  /** The member VMs, by name then id. */
  members: VmInfo[];
}

/** A snapshot of a VM group (Msvm_SnapshotCollection): one checkpoint per member. */
export interface GroupSnapshot {
  path: string;
  /** CollectionID. */
  id: string;
  groupName: string;
  checkpoints: Checkpoint[];
}

/** A reference point of a VM group (Msvm_ReferencePointCollection): one reference point per member. */
export interface GroupReferencePoint {
  path: string;
  /** CollectionID. */
  id: string;
  groupName: string;
  referencePoints: ReferencePoint[];
}
