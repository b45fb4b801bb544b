/** The singleton services: management, snapshot, reference point and image management. */
import type { CimInstance } from "../../cim/mod";
import type { LabState } from "../host/model";
import { SERVICES, type ServiceClass, instanceIdPath, servicePath } from "../host/paths";

export function serviceInstance(state: LabState, className: ServiceClass): CimInstance {
  const s = SERVICES[className];
  return {
    __CLASS: className,
    __PATH: servicePath(state.hostName, className, s.name),
    Caption: s.elementName,
    Description: s.elementName,
    ElementName: s.elementName,
    CreationClassName: className,
    Name: s.name,
    SystemCreationClassName: "Msvm_ComputerSystem",
    SystemName: state.hostName,
    EnabledState: 2,
    HealthState: 5,
    OperationalStatus: [2],
    Started: true,
    StartMode: "Automatic",
  };
}

/** InstanceID of the management service's settings (class page: "Microsoft:host"). */
export const SERVICE_SETTINGS_INSTANCE_ID = "Microsoft:host";

export function serviceSettingsPath(host: string): string {
  return instanceIdPath(host, "Msvm_VirtualSystemManagementServiceSettingData", SERVICE_SETTINGS_INSTANCE_ID);
}

/**
 * Msvm_VirtualSystemManagementServiceSettingData: the host's default folders for new VMs'
 * configuration (DefaultExternalDataRoot) and virtual hard disks (DefaultVirtualHardDiskPath),
 * fixed at `lab init` inside the lab folder (a real host's are under C:\ProgramData and
 * C:\Users\Public\Documents).
 */
export function serviceSettingsInstance(state: LabState): CimInstance {
  return {
    __CLASS: "Msvm_VirtualSystemManagementServiceSettingData",
    __PATH: serviceSettingsPath(state.hostName),
    InstanceID: SERVICE_SETTINGS_INSTANCE_ID,
    Caption: "Hyper-V Virtual System Management Service",
    Description: "Settings for the Virtual System Management Service",
    ElementName: "Hyper-V Virtual System Management Service",
    BiosLockString: "",
    DefaultExternalDataRoot: state.config.defaultExternalDataRoot,
    DefaultVirtualHardDiskPath: state.config.defaultVirtualHardDiskPath,
    MaximumMacAddress: "00155DFFFFFF",
    MinimumMacAddress: "00155D000000",
    NumaSpanningEnabled: true,
    PrimaryOwnerContact: "",
    PrimaryOwnerName: "Administrators",
    HbaLunTimeout: 90,
    MaximumWWPNAddress: "C003FF5778E5FFFF",
    MinimumWWPNAddress: "C003FF5778E50000",
    CurrentWWNNAddress: "C003FF0000FFFF00",
    DefaultVirtualHardDiskCachingMode: 0,
    EnhancedSessionModeEnabled: false,
  };
}
