/**
 * root\cimv2 Win32_OperatingSystem as the lab shows it: the Windows Server release the lab poses
 * as (`lab init --host-version`), with the Caption, Version and BuildNumber that release reports
 * (Version is "10.0.<build>" for every release from 2016 on; ProductType 3 is a server).
 */
import type { CimInstance } from "../../cim/mod";
import { buildObjectPath } from "../../cim/mod";
import type { LabState } from "../host/model";
import { HOST_BUILD } from "../host/host_versions";
import { CIMV2_NAMESPACE } from "./volume";

export function operatingSystemInstance(state: LabState): CimInstance {
  const release = state.config.hostVersion;
  const build = HOST_BUILD[release];
  return {
    __CLASS: "Win32_OperatingSystem",
    __PATH: buildObjectPath({ host: state.hostName, namespace: CIMV2_NAMESPACE, className: "Win32_OperatingSystem", keys: { Name: `Microsoft Windows Server ${release} Datacenter|C:\\Windows|\\Device\\Harddisk0\\Partition2` } }),
    Name: `Microsoft Windows Server ${release} Datacenter|C:\\Windows|\\Device\\Harddisk0\\Partition2`,
    Caption: `Microsoft Windows Server ${release} Datacenter`,
    Version: `10.0.${build}`,
    BuildNumber: String(build),
    CSName: state.hostName,
    ProductType: 3,
    OSArchitecture: "64-bit",
  };
}
