/**
 * Reference points (reference §3.3, §4): ConvertToReferencePoint turns a recovery checkpoint into
 * a Msvm_VirtualSystemReferencePoint (the checkpoint disappears, its disks are merged back);
 * the VM's reference points are reached through Msvm_ReferencePointOfVirtualSystem and removed
 * with Msvm_VirtualSystemReferencePointService.DestroyReferencePoint.
 */
import { HvbError } from "../base/mod";
import type { CimInstance } from "../cim/mod";
import { SNAPSHOT_SERVICE } from "./checkpoints";
import { type ClientContext, affectedElements, runMethod, servicePath, subjects } from "./jobs";
import type { Checkpoint, ReferencePoint, VmDisk, VmInfo } from "./types";
import { locationOfInstanceId } from "./configuration";
import { numberOrUndefined, stringArray, stringOrUndefined, wqlString } from "../cim/mod";

export const REFERENCE_POINT_CLASS = "Msvm_VirtualSystemReferencePoint";
export const REFERENCE_POINT_SERVICE = "Msvm_VirtualSystemReferencePointService";

/** Parses a Msvm_VirtualSystemReferencePoint instance (pure). */
export function referencePointFrom(rp: CimInstance): ReferencePoint {
  return {
    path: rp.__PATH,
    instanceId: String(rp["InstanceID"] ?? ""),
    vmId: String(rp["VirtualSystemIdentifier"] ?? ""),
    referencePointType: numberOrUndefined(rp["ReferencePointType"]) ?? 0,
    consistencyLevel: numberOrUndefined(rp["ConsistencyLevel"]),
    rctIds: stringArray(rp["ResilientChangeTrackingIdentifiers"]),
    virtualDiskIds: stringArray(rp["VirtualDiskIdentifiers"]),
  };
}

/**
 * The RCT id a reference point holds for the disk at `location` (see
 * {@link VmDisk.location}), or undefined when it lists none there. The two arrays are
 * index-aligned with each other, but in no documented order relative to the VM's disks: the
 * pairing goes through the disk identifiers' locations, never through positions.
 */
export function rctIdAt(rp: Pick<ReferencePoint, "rctIds" | "virtualDiskIds">, location: string): string | undefined {
  const want = location.toLowerCase();
  const i = rp.virtualDiskIds.findIndex((id) => locationOfInstanceId(id) === want);
  const id = i >= 0 ? rp.rctIds[i] : undefined;
  return id ? id : undefined;
}

/** Converts a recovery checkpoint into a reference point and returns the reference point. */
export async function convertToReferencePoint(ctx: ClientContext, cp: Pick<Checkpoint, "path" | "name" | "vmName">): Promise<ReferencePoint> {
  const svc = await servicePath(ctx, SNAPSHOT_SERVICE);
  const subject = subjects.checkpoint(cp.name, cp.vmName);
  const outcome = await runMethod(ctx, svc, "ConvertToReferencePoint", { AffectedSnapshot: cp.path }, subject);
  let rp: CimInstance | undefined = (await affectedElements(ctx, outcome, REFERENCE_POINT_CLASS))[0];
  const resulting = stringOrUndefined(outcome.out["ResultingReferencePoint"]);
  if (!rp && resulting) rp = await ctx.session.getInstance(resulting);
  if (!rp) {
    throw new HvbError("ReferencePointNotFound", `ConvertToReferencePoint on ${subject.text} succeeded but the host named no resulting reference point`, {
      category: "InvalidData",
      target: cp.path,
    });
  }
  return referencePointFrom(rp);
}

/** The VM's reference points (all of them, also those other products made). */
export async function listReferencePoints(ctx: ClientContext, vm: Pick<VmInfo, "path">): Promise<ReferencePoint[]> {
  const found = await ctx.session.associators(vm.path, { resultClass: REFERENCE_POINT_CLASS, assocClass: "Msvm_ReferencePointOfVirtualSystem" });
  return found.map(referencePointFrom);
}

/** The reference point with this InstanceID, or undefined when it no longer exists. */
export async function findReferencePoint(ctx: ClientContext, instanceId: string): Promise<ReferencePoint | undefined> {
  const found = await ctx.session.query(`SELECT * FROM ${REFERENCE_POINT_CLASS} WHERE InstanceID=${wqlString(instanceId)}`);
  return found[0] ? referencePointFrom(found[0]) : undefined;
}

/** Removes a reference point (DestroyReferencePoint). */
export async function destroyReferencePoint(ctx: ClientContext, rp: Pick<ReferencePoint, "path" | "instanceId">): Promise<void> {
  const svc = await servicePath(ctx, REFERENCE_POINT_SERVICE);
  await runMethod(ctx, svc, "DestroyReferencePoint", { AffectedReferencePoint: rp.path }, subjects.referencePoint(rp.instanceId));
}
