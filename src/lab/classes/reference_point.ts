/** Msvm_VirtualSystemReferencePoint: ReferencePointType 2 (RCT based) per the class page. */
import type { CimInstance } from "../../cim/mod";
import type { LabState, ReferencePointRecord } from "../host/model";
import { cimDateTime, instanceIdPath } from "../host/paths";

export function referencePointInstanceId(id: string): string {
  return `Microsoft:${id}`;
}

export function referencePointPath(host: string, id: string): string {
  return instanceIdPath(host, "Msvm_VirtualSystemReferencePoint", referencePointInstanceId(id));
}

export function referencePointInstance(state: LabState, r: ReferencePointRecord): CimInstance {
  return {
    __CLASS: "Msvm_VirtualSystemReferencePoint",
    __PATH: referencePointPath(state.hostName, r.id),
    InstanceID: referencePointInstanceId(r.id),
    Caption: "Reference Point",
    Description: "Virtual system reference point",
    ElementName: cimDateTime(r.createdAt),
    ReferencePointType: 2,
    ConsistencyLevel: r.consistencyLevel,
    VirtualSystemIdentifier: r.vmId,
    HasAssociatedData: false,
    VirtualDiskIdentifiers: [...r.diskIds],
    ResilientChangeTrackingIdentifiers: [...r.rctIds],
  };
}
