/** root\cimv2 Win32_ShadowCopy: the lab's shadow copies (host/shadow_copies.ts). */
import type { CimInstance } from "../../cim/mod";
import { buildObjectPath } from "../../cim/mod";
import type { LabState, ShadowCopyRecord } from "../host/model";
import { cimDateTime } from "../host/paths";
import { CIMV2_NAMESPACE, volumeDeviceId } from "./volume";

export function shadowCopyPath(host: string, id: string): string {
  return buildObjectPath({ host, namespace: CIMV2_NAMESPACE, className: "Win32_ShadowCopy", keys: { ID: id } });
}

export function shadowCopyInstance(state: LabState, s: ShadowCopyRecord): CimInstance {
  const volume = (state.volumes ?? []).find((v) => v.name === s.volume);
  return {
    __CLASS: "Win32_ShadowCopy",
    __PATH: shadowCopyPath(state.hostName, s.id),
    ID: s.id,
    DeviceObject: s.folder,
    VolumeName: volume ? volumeDeviceId(volume) : "",
    InstallDate: cimDateTime(s.createdAt),
    OriginatingMachine: state.hostName,
    ServiceMachine: state.hostName,
    ClientAccessible: true,
    Persistent: true,
    // 12 = Created (Win32_ShadowCopy.State).
    State: 12,
  };
}
