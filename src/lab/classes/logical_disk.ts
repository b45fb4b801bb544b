/**
 * root\cimv2 classes about drives and the host's account: Win32_LogicalDisk for the drive
 * letters mapped in the caller's logon session (`lab drive map`: DriveType 4 Network Drive,
 * ProviderName the share; the lab's local volumes have no letters and are not listed), and
 * Win32_ComputerSystem (Name = the host's name, Domain "LAB", PartOfDomain true) for the
 * computer account a share must let in.
 */
import { buildObjectPath, type CimInstance } from "../../cim/mod";
import type { LabState } from "../host/model";
import { CIMV2_NAMESPACE } from "./volume";

export function mappedDiskInstances(state: LabState): CimInstance[] {
  return (state.mappedDrives ?? []).map((d) => ({
    __CLASS: "Win32_LogicalDisk",
    __PATH: buildObjectPath({ host: state.hostName, namespace: CIMV2_NAMESPACE, className: "Win32_LogicalDisk", keys: { DeviceID: d.letter } }),
    DeviceID: d.letter,
    DriveType: 4,
    ProviderName: d.target === "" ? null : d.target,
    Description: "Network Connection",
    FileSystem: "NTFS",
  }));
}

export function computerSystemInstance(state: LabState): CimInstance {
  return {
    __CLASS: "Win32_ComputerSystem",
    __PATH: buildObjectPath({ host: state.hostName, namespace: CIMV2_NAMESPACE, className: "Win32_ComputerSystem", keys: { Name: state.hostName } }),
    Name: state.hostName,
    Domain: "LAB",
    PartOfDomain: true,
  };
}

/**
 * Why VMMS cannot open `file`, or undefined: a path on a letter mapped in the caller's session
 * does not exist for LocalSystem in session 0 (what a real host answers is not documented; the
 * lab fails the call's job with "path not found").
 */
export function vmmsPathProblem(state: LabState, file: string | undefined): string | undefined {
  const m = file ? /^([A-Za-z]):/.exec(file) : null;
  if (!m) return undefined;
  const letter = `${m[1]!.toUpperCase()}:`;
  return (state.mappedDrives ?? []).some((d) => d.letter.toUpperCase() === letter)
    ? `The system cannot find the path specified: '${file}' (${letter} is a drive mapped in a user's logon session; the Virtual Machine Management Service runs as LocalSystem in session 0)`
    : undefined;
}
