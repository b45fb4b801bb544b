/**
 * Checkpoints of a VM group taken together (Msvm_CollectionSnapshotService): CreateSnapshot of
 * the Msvm_VirtualSystemCollection with SnapshotType 2 (Recovery, the collection page's value),
 * ConvertToReferencePoint, DestroySnapshot and ExportSnapshot with a
 * Msvm_CollectionSnapshotExportSettingData; reference point collections are removed with
 * Msvm_CollectionReferencePointService.DestroyReferencePoint. Members are reached through
 * Msvm_CollectedSnapshots / Msvm_CollectedReferencePoints.
 */
import { embedForHost } from "./host_classes";
import { HvbError } from "../base/mod";
import type { CimInstance } from "../cim/mod";
import { stringOrUndefined } from "../cim/mod";
import { snapshotSettings } from "./checkpoints";
import { describeCheckpoint } from "./checkpoints";
import { VSSD_CLASS } from "./configuration";
import { type ClientContext, affectedElements, runMethod, servicePath, type Subject } from "./jobs";
import { REFERENCE_POINT_CLASS, referencePointFrom } from "./reference_points";
import type { GroupReferencePoint, GroupSnapshot, VmGroup } from "./types";

export const COLLECTION_SNAPSHOT_SERVICE = "Msvm_CollectionSnapshotService";
export const COLLECTION_REFERENCE_POINT_SERVICE = "Msvm_CollectionReferencePointService";
export const SNAPSHOT_COLLECTION_CLASS = "Msvm_SnapshotCollection";
export const REFERENCE_POINT_COLLECTION_CLASS = "Msvm_ReferencePointCollection";

/** SnapshotType of a recovery snapshot of a collection (CreateSnapshot page: 2 Recovery Snapshot). */
export const COLLECTION_SNAPSHOT_TYPE_RECOVERY = 2;

/** Msvm_CollectionSnapshotExportSettingData.BackupIntent: 1 keep full and differential sets as they are. */
export const BACKUP_INTENT_PRESERVE_CHAIN = 1;

function groupSubject(group: Pick<VmGroup, "name">): Subject {
  return { text: `VM group '${group.name}'`, target: group.name };
}

async function describeGroupSnapshot(ctx: ClientContext, collection: CimInstance, group: VmGroup, consistency: "application" | "crash" | undefined): Promise<GroupSnapshot> {
  const vssds = await ctx.session.associators(collection.__PATH, { assocClass: "Msvm_CollectedSnapshots", resultClass: VSSD_CLASS });
  const checkpoints = [];
  for (const s of vssds) {
    const vmId = String(s["VirtualSystemIdentifier"] ?? "").toLowerCase();
    const vm = group.members.find((m) => m.id.toLowerCase() === vmId);
    if (!vm) {
      throw new HvbError("HyperVUnexpectedData", `The checkpoint of VM group '${group.name}' holds a checkpoint of VM '${vmId}', which is not a member`, { category: "InvalidData", target: group.name });
    }
    checkpoints.push(await describeCheckpoint(ctx, s, vm, consistency));
  }
  return { path: collection.__PATH, id: String(collection["CollectionID"] ?? ""), groupName: group.name, checkpoints };
}

/**
 * Takes a recovery checkpoint of every member of `group` at once. An application-consistent
 * request that one guest cannot give fails as a {@link HyperVMethodError}; retrying with
 * `crash` is the caller's policy, as for one VM.
 */
export async function createGroupRecoverySnapshot(ctx: ClientContext, group: VmGroup, consistency: "application" | "crash"): Promise<GroupSnapshot> {
  const svc = await servicePath(ctx, COLLECTION_SNAPSHOT_SERVICE);
  const outcome = await runMethod(
    ctx,
    svc,
    "CreateSnapshot",
    { Collection: group.path, SnapshotSettings: await embedForHost(ctx, snapshotSettings(consistency), { purpose: "a VM group's checkpoint" }), SnapshotType: COLLECTION_SNAPSHOT_TYPE_RECOVERY },
    groupSubject(group),
  );
  let collection: CimInstance | undefined = (await affectedElements(ctx, outcome, SNAPSHOT_COLLECTION_CLASS))[0];
  const resulting = stringOrUndefined(outcome.out["ResultingSnapshotCollection"]);
  if (!collection && resulting) collection = await ctx.session.getInstance(resulting);
  if (!collection) {
    throw new HvbError("CheckpointNotFound", `CreateSnapshot on VM group '${group.name}' succeeded but the host named no resulting snapshot collection`, { category: "InvalidData", target: group.name });
  }
  const snap = await describeGroupSnapshot(ctx, collection, group, consistency);
  if (snap.checkpoints.length !== group.members.length) {
    throw new HvbError("HyperVUnexpectedData", `The checkpoint of VM group '${group.name}' holds ${snap.checkpoints.length} member checkpoint(s) for ${group.members.length} member(s)`, { category: "InvalidData", target: group.name });
  }
  return snap;
}

/** The group's snapshot collections that exist now (e.g. left by an interrupted backup). */
export async function listGroupSnapshots(ctx: ClientContext, group: VmGroup): Promise<GroupSnapshot[]> {
  const found = await ctx.session.associators(group.path, { assocClass: "Msvm_SnapshotOfVirtualSystemCollection", resultClass: SNAPSHOT_COLLECTION_CLASS });
  const out: GroupSnapshot[] = [];
  for (const c of found) out.push(await describeGroupSnapshot(ctx, c, group, undefined));
  return out;
}

/** Removes a snapshot collection; the host merges every member checkpoint back. */
export async function destroyGroupSnapshot(ctx: ClientContext, snap: Pick<GroupSnapshot, "path" | "groupName">): Promise<void> {
  const svc = await servicePath(ctx, COLLECTION_SNAPSHOT_SERVICE);
  await runMethod(ctx, svc, "DestroySnapshot", { AffectedSnapshotCollection: snap.path }, groupSubject({ name: snap.groupName }));
}

/**
 * Exports the configuration of every member checkpoint (no storage) into `destinationDir`; the
 * host lays each member out under `<destinationDir>/<VM id>/` (see docs/lab-fidelity.md §6).
 */
export async function exportGroupSnapshot(ctx: ClientContext, snap: Pick<GroupSnapshot, "path" | "groupName">, destinationDir: string): Promise<void> {
  const svc = await servicePath(ctx, COLLECTION_SNAPSHOT_SERVICE);
  const settings = { __CLASS: "Msvm_CollectionSnapshotExportSettingData", CopyVmStorage: false, BackupIntent: BACKUP_INTENT_PRESERVE_CHAIN, DifferentialBackupBase: null };
  await runMethod(ctx, svc, "ExportSnapshot", { SnapshotCollection: snap.path, ExportDirectory: destinationDir, ExportSettingData: await embedForHost(ctx, settings, { purpose: "exporting a VM group's checkpoint" }) }, groupSubject({ name: snap.groupName }));
}

async function describeGroupReferencePoint(ctx: ClientContext, c: CimInstance, groupName: string): Promise<GroupReferencePoint> {
  const members = await ctx.session.associators(c.__PATH, { assocClass: "Msvm_CollectedReferencePoints", resultClass: REFERENCE_POINT_CLASS });
  return { path: c.__PATH, id: String(c["CollectionID"] ?? ""), groupName, referencePoints: members.map(referencePointFrom) };
}

/** Converts a recovery snapshot collection into a reference point collection (the checkpoints go away). */
export async function convertGroupSnapshotToReferencePoint(ctx: ClientContext, snap: Pick<GroupSnapshot, "path" | "groupName">): Promise<GroupReferencePoint> {
  const svc = await servicePath(ctx, COLLECTION_SNAPSHOT_SERVICE);
  const outcome = await runMethod(ctx, svc, "ConvertToReferencePoint", { AffectedSnapshotCollection: snap.path }, groupSubject({ name: snap.groupName }));
  let c: CimInstance | undefined = (await affectedElements(ctx, outcome, REFERENCE_POINT_COLLECTION_CLASS))[0];
  const resulting = stringOrUndefined(outcome.out["ResultingReferencePointCollection"]);
  if (!c && resulting) c = await ctx.session.getInstance(resulting);
  if (!c) {
    throw new HvbError("ReferencePointNotFound", `ConvertToReferencePoint on VM group '${snap.groupName}' succeeded but the host named no reference point collection`, { category: "InvalidData", target: snap.groupName });
  }
  return describeGroupReferencePoint(ctx, c, snap.groupName);
}

/** The group's reference point collections. */
export async function listGroupReferencePoints(ctx: ClientContext, group: VmGroup): Promise<GroupReferencePoint[]> {
  const found = await ctx.session.associators(group.path, { assocClass: "Msvm_ReferencePointOfVirtualSystemCollection", resultClass: REFERENCE_POINT_COLLECTION_CLASS });
  const out: GroupReferencePoint[] = [];
  for (const c of found) out.push(await describeGroupReferencePoint(ctx, c, group.name));
  return out;
}

/** Removes a reference point collection and every member reference point. */
export async function destroyGroupReferencePoint(ctx: ClientContext, rp: Pick<GroupReferencePoint, "path" | "groupName">): Promise<void> {
  const svc = await servicePath(ctx, COLLECTION_REFERENCE_POINT_SERVICE);
  await runMethod(ctx, svc, "DestroyReferencePoint", { AffectedReferencePointCollection: rp.path }, groupSubject({ name: rp.groupName }));
}
