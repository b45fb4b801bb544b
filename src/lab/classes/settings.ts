/**
 * Setting data of a configuration: Msvm_VirtualSystemSettingData (VSSD),
 * Msvm_ResourceAllocationSettingData (controllers, synthetic disk drives) and
 * Msvm_StorageAllocationSettingData (the virtual hard disk files).
 */
import type { CimInstance } from "../../cim/mod";
import type { ConfigView } from "../host/configurations";
import type { LabState } from "../host/model";
import {
  cimDateTime,
  controllerInstanceId,
  diskDeviceKey,
  diskInstanceId,
  driveInstanceId,
  instanceIdPath,
  objPath,
  scsiControllerGuid,
  vssdInstanceId,
} from "../host/paths";

/** ResourceType / ResourceSubType pairs (reference §7). */
export const RESOURCE = {
  scsi: { type: 6, subType: "Microsoft:Hyper-V:Synthetic SCSI Controller", name: "SCSI Controller" },
  ide: { type: 5, subType: "Microsoft:Hyper-V:Emulated IDE Controller", name: "IDE Controller" },
  drive: { type: 17, subType: "Microsoft:Hyper-V:Synthetic Disk Drive", name: "Hard Drive" },
  dvdDrive: { type: 16, subType: "Microsoft:Hyper-V:Synthetic DVD Drive", name: "DVD Drive" },
  physicalDisk: { type: 17, subType: "Microsoft:Hyper-V:Physical Disk Drive", name: "Hard Drive" },
  iso: { type: 16, subType: "Microsoft:Hyper-V:Virtual CD/DVD Disk", name: "ISO Disk Image" },
  vhd: { type: 31, subType: "Microsoft:Hyper-V:Virtual Hard Disk", name: "Hard Disk Image" },
} as const;

export function vssdPath(host: string, configId: string): string {
  return instanceIdPath(host, "Msvm_VirtualSystemSettingData", vssdInstanceId(configId));
}

export function vssdInstance(state: LabState, c: ConfigView): CimInstance {
  const host = state.hostName;
  const isSnapshot = c.kind === "snapshot";
  return {
    __CLASS: "Msvm_VirtualSystemSettingData",
    __PATH: vssdPath(host, c.configId),
    InstanceID: vssdInstanceId(c.configId),
    Caption: isSnapshot ? "Virtual Machine Settings (Snapshot)" : "Virtual Machine Settings",
    Description: "Active settings for the virtual machine.",
    ElementName: c.name,
    VirtualSystemIdentifier: c.systemId,
    VirtualSystemType: c.systemType,
    VirtualSystemSubType: `Microsoft:Hyper-V:SubType:${c.hardware.generation}`,
    Version: c.version,
    CreationTime: cimDateTime(c.createdAt),
    ConfigurationID: c.configId,
    ConfigurationDataRoot: c.dataRoot,
    ConfigurationFile: c.dataRoot ? `${c.dataRoot}/Virtual Machines/${c.configId}.vmcx` : "",
    SnapshotDataRoot: c.dataRoot,
    SuspendDataRoot: c.dataRoot,
    SwapFileDataRoot: c.dataRoot,
    LogDataRoot: c.dataRoot,
    GuestStateDataRoot: c.dataRoot,
    Parent: c.parentSnapshotId ? vssdPath(host, c.parentSnapshotId) : null,
    IsSaved: false,
    UserSnapshotType: 3,
    IncrementalBackupEnabled: false,
    AutomaticSnapshotsEnabled: false,
    IsAutomaticSnapshot: false,
    Notes: c.notes,
  };
}

/** The RASD and SASD instances of a configuration, controllers first. */
export function resourceInstances(state: LabState, c: ConfigView): CimInstance[] {
  const host = state.hostName;
  const out: CimInstance[] = [];
  const hw = c.hardware;
  const controllerPath = (kind: "scsi" | "ide", index: number) =>
    instanceIdPath(host, "Msvm_ResourceAllocationSettingData", controllerInstanceId(c.configId, kind, index, scsiControllerGuid(hw, index)));
  if (hw.generation === 1) {
    for (const i of [0, 1]) {
      out.push(rasd(controllerPath("ide", i), controllerInstanceId(c.configId, "ide", i, undefined), {
        ...RESOURCE.ide,
        name: `IDE Controller ${i}`,
        address: String(i),
      }));
    }
  }
  const scsiGuids = hw.scsiControllerId ? [hw.scsiControllerId, ...(hw.extraScsiControllerIds ?? [])] : [];
  scsiGuids.forEach((guid, i) => {
    // SCSI controllers carry no number in WMI (Address is empty): only their GUID tells them apart.
    out.push(rasd(controllerPath("scsi", i), controllerInstanceId(c.configId, "scsi", i, guid), { ...RESOURCE.scsi, address: "" }));
  });
  const slotKey = (slot: { controller: "scsi" | "ide"; controllerIndex: number; address: number }) =>
    diskDeviceKey(slot.controller, slot.controllerIndex, slot.address, scsiControllerGuid(hw, slot.controllerIndex));
  if (hw.dvd) {
    // A DVD drive with its ISO: a SASD like a disk's, of another subtype (the backup skips it).
    const key = slotKey(hw.dvd);
    const driveId = driveInstanceId(c.configId, key);
    const drivePath = instanceIdPath(host, "Msvm_ResourceAllocationSettingData", driveId);
    out.push(rasd(drivePath, driveId, { ...RESOURCE.dvdDrive, address: "", parent: controllerPath(hw.dvd.controller, hw.dvd.controllerIndex), addressOnParent: String(hw.dvd.address) }));
    if (hw.dvd.iso) {
      const isoId = diskInstanceId(c.configId, key);
      out.push({
        ...rasd(instanceIdPath(host, "Msvm_StorageAllocationSettingData", isoId), isoId, { ...RESOURCE.iso, address: "", parent: drivePath }),
        __CLASS: "Msvm_StorageAllocationSettingData",
        HostResource: [hw.dvd.iso],
      });
    }
  }
  if (hw.passthrough) {
    // A pass-through disk: the drive RASD itself names the host's physical disk (Msvm_DiskDrive).
    const key = slotKey(hw.passthrough);
    const driveId = driveInstanceId(c.configId, key);
    out.push({
      ...rasd(instanceIdPath(host, "Msvm_ResourceAllocationSettingData", driveId), driveId, {
        ...RESOURCE.physicalDisk,
        address: "",
        parent: controllerPath(hw.passthrough.controller, hw.passthrough.controllerIndex),
        addressOnParent: String(hw.passthrough.address),
      }),
      HostResource: [
        objPath(host, "Msvm_DiskDrive", {
          CreationClassName: "Msvm_DiskDrive",
          DeviceID: `Microsoft:${c.systemId}\\${key}`,
          SystemCreationClassName: "Msvm_ComputerSystem",
          SystemName: host,
        }),
      ],
    });
  }
  // Shared disks (a VHD Set, a shared VHDX) look like any disk but for PersistentReservationsSupported
  // (what makes a drive shareable) and, in a checkpoint, the VHD Set snapshot (SnapshotId).
  const drives = [
    ...c.disks.map((d) => ({ ...d, shared: false, snapshotId: "" })),
    ...(hw.sharedDisks ?? []).map((d) => ({ ...d, deviceKey: slotKey(d), shared: true, snapshotId: d.snapshotId ?? "" })),
  ];
  for (const slot of hw.emptyDrives ?? []) {
    const driveId = driveInstanceId(c.configId, slotKey(slot));
    out.push(rasd(instanceIdPath(host, "Msvm_ResourceAllocationSettingData", driveId), driveId, {
      ...RESOURCE.drive,
      address: "",
      parent: controllerPath(slot.controller, slot.controllerIndex),
      addressOnParent: String(slot.address),
    }));
  }
  for (const d of drives) {
    const driveId = driveInstanceId(c.configId, d.deviceKey);
    const drivePath = instanceIdPath(host, "Msvm_ResourceAllocationSettingData", driveId);
    out.push(rasd(drivePath, driveId, {
      ...RESOURCE.drive,
      address: "",
      parent: controllerPath(d.controller, d.controllerIndex),
      addressOnParent: String(d.address),
    }));
    const sasdId = diskInstanceId(c.configId, d.deviceKey);
    out.push({
      __CLASS: "Msvm_StorageAllocationSettingData",
      __PATH: instanceIdPath(host, "Msvm_StorageAllocationSettingData", sasdId),
      InstanceID: sasdId,
      Caption: "Hard Disk Image",
      Description: "Settings for the Microsoft Hard Disk Image.",
      ElementName: "Hard Disk Image",
      ResourceType: RESOURCE.vhd.type,
      OtherResourceType: null,
      ResourceSubType: RESOURCE.vhd.subType,
      PoolID: "",
      HostResource: [d.path],
      Parent: drivePath,
      Address: "",
      AddressOnParent: "",
      Connection: [],
      Access: 3,
      VirtualQuantity: 1,
      Limit: 1,
      Reservation: 1,
      Weight: 100,
      IOPSLimit: 0,
      IOPSReservation: 0,
      StorageQoSPolicyID: "",
      CachingMode: 0,
      SnapshotId: d.snapshotId,
      IgnoreFlushes: false,
      WriteHardeningMethod: 0,
      PersistentReservationsSupported: d.shared,
      AutomaticAllocation: true,
      AutomaticDeallocation: true,
    });
  }
  return out;
}

function rasd(
  p: string,
  instanceId: string,
  r: { type: number; subType: string; name: string; address: string; parent?: string; addressOnParent?: string },
): CimInstance {
  return {
    __CLASS: "Msvm_ResourceAllocationSettingData",
    __PATH: p,
    InstanceID: instanceId,
    Caption: r.name,
    Description: `Microsoft ${r.name}`,
    ElementName: r.name,
    ResourceType: r.type,
    OtherResourceType: null,
    ResourceSubType: r.subType,
    PoolID: "",
    Parent: r.parent ?? null,
    Address: r.address,
    AddressOnParent: r.addressOnParent ?? "",
    HostResource: [],
    Connection: [],
    VirtualQuantity: 1,
    Limit: 1,
    Reservation: 1,
    Weight: 0,
    AutomaticAllocation: true,
    AutomaticDeallocation: true,
  };
}
