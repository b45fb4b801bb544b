/**
 * Object paths and InstanceIDs of the lab host's instances. Key properties follow the classes'
 * keys: CIM_System (CreationClassName, Name), CIM_Service (CreationClassName, Name,
 * SystemCreationClassName, SystemName), CIM_LogicalDevice (CreationClassName, DeviceID,
 * SystemCreationClassName, SystemName) and InstanceID for setting data, jobs and reference
 * points. InstanceID shapes follow what Hyper-V prints (`Microsoft:<GUID>...`); where the docs
 * are silent the shape is a lab assumption listed in docs/lab-fidelity.md.
 */
import { buildObjectPath } from "../../cim/mod";

export const NAMESPACE = "root\\virtualization\\v2";

/** The GUID Hyper-V uses in the InstanceIDs of emulated IDE controllers. */
export const IDE_CONTROLLER_GUID = "83F8638B-8DCA-4152-9EDA-2CA8B33039B4";
/** The integration component GUID of the backup (volume shadow copy) service (lab assumption). */
export const VSS_IC_GUID = "35FA2E29-EA23-4236-96AE-3A6EBACBA440";
/** Device GUID of the key-value pair exchange integration component (as in its DeviceID). */
export const KVP_IC_GUID = "A9A0F4E7-5A45-4D96-B827-8A841E8C03E6";

export function objPath(host: string, className: string, keys: Record<string, string | number | boolean>): string {
  return buildObjectPath({ host, namespace: NAMESPACE, className, keys });
}

export function computerSystemPath(host: string, name: string): string {
  return objPath(host, "Msvm_ComputerSystem", { CreationClassName: "Msvm_ComputerSystem", Name: name });
}

export function plannedSystemPath(host: string, name: string): string {
  return objPath(host, "Msvm_PlannedComputerSystem", { CreationClassName: "Msvm_PlannedComputerSystem", Name: name });
}

export function instanceIdPath(host: string, className: string, instanceId: string): string {
  return objPath(host, className, { InstanceID: instanceId });
}

export function servicePath(host: string, className: string, name: string): string {
  return objPath(host, className, {
    CreationClassName: className,
    Name: name,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: host,
  });
}

/** The services and their Name values (vmms, vhdsvc and vssnapsvc as on real hosts). */
export const SERVICES = {
  Msvm_VirtualSystemManagementService: { name: "vmms", elementName: "Virtual System Management Service" },
  Msvm_VirtualSystemSnapshotService: { name: "vssnapsvc", elementName: "Virtual System Snapshot Service" },
  Msvm_VirtualSystemReferencePointService: { name: "vsrefpointsvc", elementName: "Virtual System Reference Point Service" },
  Msvm_ImageManagementService: { name: "vhdsvc", elementName: "Image Management Service" },
  // Names of the collection services are not documented (lab assumption).
  Msvm_CollectionSnapshotService: { name: "vmcollsnapsvc", elementName: "Collection Snapshot Service" },
  Msvm_CollectionReferencePointService: { name: "vmcollrefpointsvc", elementName: "Collection Reference Point Service" },
} as const;
export type ServiceClass = keyof typeof SERVICES;

export function vssdInstanceId(configId: string): string {
  return `Microsoft:${configId}`;
}

/**
 * Device part of a drive's InstanceIDs, `<controller>\<n>\<address>` (stable across
 * checkpoints): an IDE drive is `<IDE GUID>\<controller number>\<address>`, a SCSI drive
 * `<that controller's own instance GUID>\0\<LUN>`, as real hosts print them.
 */
export function diskDeviceKey(controller: "scsi" | "ide", controllerIndex: number, address: number, scsiControllerGuid: string | undefined): string {
  return controller === "scsi" ? `${scsiControllerGuid}\\0\\${address}` : `${IDE_CONTROLLER_GUID}\\${controllerIndex}\\${address}`;
}

/** The instance GUID of SCSI controller `index` of a configuration's hardware. */
export function scsiControllerGuid(hw: { scsiControllerId: string | undefined; extraScsiControllerIds?: string[] }, index: number): string | undefined {
  return index === 0 ? hw.scsiControllerId : hw.extraScsiControllerIds?.[index - 1];
}

export function driveInstanceId(configId: string, deviceKey: string): string {
  return `Microsoft:${configId}\\${deviceKey}\\D`;
}

export function diskInstanceId(configId: string, deviceKey: string): string {
  return `Microsoft:${configId}\\${deviceKey}\\L`;
}

export function controllerInstanceId(configId: string, controller: "scsi" | "ide", index: number, scsiControllerId: string | undefined): string {
  return controller === "scsi" ? `Microsoft:${configId}\\${scsiControllerId}` : `Microsoft:${configId}\\${IDE_CONTROLLER_GUID}\\${index}`;
}

export function vssComponentPath(host: string, vmId: string): string {
  return objPath(host, "Msvm_VssComponent", {
    CreationClassName: "Msvm_VssComponent",
    DeviceID: `Microsoft:${vmId}\\${VSS_IC_GUID}`,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: vmId,
  });
}

export function kvpComponentPath(host: string, vmId: string): string {
  return objPath(host, "Msvm_KvpExchangeComponent", {
    CreationClassName: "Msvm_KvpExchangeComponent",
    DeviceID: `Microsoft:${vmId}\\${KVP_IC_GUID}`,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: vmId,
  });
}

export function exportSettingDataInstanceId(vmId: string): string {
  return `Microsoft:${vmId}\\ExportSettingData`;
}

/** A CIM datetime (`yyyymmddHHMMSS.mmmmmm+000`, UTC) for a time in ms since the epoch. */
export function cimDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}` +
    `${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 1000, 6)}+000`
  );
}

/** A CIM interval (`ddddddddHHMMSS.mmmmmm:000`) for a duration in ms. */
export function cimInterval(ms: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const days = Math.floor(ms / 86_400_000);
  const h = Math.floor(ms / 3_600_000) % 24;
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${p(days, 8)}${p(h)}${p(m)}${p(s)}.${p((ms % 1000) * 1000, 6)}:000`;
}
