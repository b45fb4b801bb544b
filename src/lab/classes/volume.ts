/**
 * root\cimv2 Win32_Volume as the lab shows it: one instance per lab volume, Name being the
 * folder that stands for the volume (with a trailing separator, as a mount point's Name is) and
 * DeviceID the volume GUID path `\\?\Volume{GUID}\`.
 */
import type { CimInstance } from "../../cim/mod";
import { buildObjectPath } from "../../cim/mod";
import * as path from "node:path";
import type { LabState, VolumeRecord } from "../host/model";

export const CIMV2_NAMESPACE = "root\\cimv2";

export function volumeDeviceId(v: VolumeRecord): string {
  return `\\\\?\\Volume{${v.id.toLowerCase()}}\\`;
}

export function volumeInstance(state: LabState, v: VolumeRecord): CimInstance {
  const deviceId = volumeDeviceId(v);
  return {
    __CLASS: "Win32_Volume",
    __PATH: buildObjectPath({ host: state.hostName, namespace: CIMV2_NAMESPACE, className: "Win32_Volume", keys: { DeviceID: deviceId } }),
    DeviceID: deviceId,
    Name: v.root.endsWith(path.sep) ? v.root : v.root + path.sep,
    Label: v.name,
    FileSystem: v.csv ? "CSVFS" : "NTFS",
    DriveType: 3,
  };
}
