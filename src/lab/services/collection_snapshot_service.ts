/**
 * Msvm_CollectionSnapshotService: CreateSnapshot, DestroySnapshot, ConvertToReferencePoint and
 * ExportSnapshot of a VM group (family A return codes, 0..6 and 4096, per the method pages).
 * Each acts on every member or, when anything is wrong, on none: the checks come first, the
 * changes after, all under the lab lock (see ../host/jobs.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { groupPath, referencePointCollectionPath, snapshotCollectionPath } from "../classes/collections";
import { vssdPath } from "../classes/settings";
import { configView } from "../host/config_lookup";
import { collectionSnapshots, groupMembers, groupsOf, snapshotCollectionsOf } from "../host/groups";
import { checkpointConsistency, takeCheckpoint } from "../host/host_ops";
import { configVersionHasRct, type GroupRecord, newGuid, type SnapshotCollectionRecord, type SnapshotKind } from "../host/model";
import { computerSystemPath } from "../host/paths";
import { sharedVhdxRefusal, snapshotGroupVhdSets } from "../host/vhd_sets";
import { writeDefinition } from "./management_service";
import { referencedCheckpoints } from "../host/planned_checkpoints";
import { A, type Args, EFFECT_CHANGE, EFFECT_CREATE, type MethodContext, type MethodHandler, prop, sync } from "./method_support";

/** SnapshotType of CreateSnapshot on a collection (method page): 1 Standard, 2 Recovery. */
const COLLECTION_SNAPSHOT_TYPE = { standard: 1, recovery: 2 } as const;

/** The group a REF names, or undefined. */
export function groupOfRef(ctx: MethodContext, ref: string | undefined): GroupRecord | undefined {
  const inst = ref ? ctx.resolve(ref) : undefined;
  if (!inst || inst.__CLASS !== "Msvm_VirtualSystemCollection") return undefined;
  return groupsOf(ctx.state).find((g) => g.id.toLowerCase() === String(inst["CollectionID"]).toLowerCase());
}

/** The snapshot collection a REF names, or undefined. */
export function snapshotCollectionOfRef(ctx: MethodContext, ref: string | undefined): SnapshotCollectionRecord | undefined {
  const inst = ref ? ctx.resolve(ref) : undefined;
  if (!inst || inst.__CLASS !== "Msvm_SnapshotCollection") return undefined;
  return snapshotCollectionsOf(ctx.state).find((c) => c.id.toLowerCase() === String(inst["CollectionID"]).toLowerCase());
}

/** ConsistencyLevel of the embedded snapshot settings: 1 application (default), 2 crash; undefined when invalid. */
function requestedLevel(args: Args): 1 | 2 | undefined {
  const settings = args.embedded("SnapshotSettings");
  if (!settings) return 1;
  // The page says only "the parameter settings"; the lab takes the class a VM's CreateSnapshot takes.
  if (String(settings.__CLASS).toLowerCase() !== "msvm_virtualsystemsnapshotsettingdata") return undefined;
  const cl = prop(settings, "ConsistencyLevel");
  if (cl === undefined || cl === null) return 1;
  const n = Number(cl);
  return n === 2 ? 2 : n === 0 || n === 1 ? 1 : undefined;
}

export const createCollectionSnapshot: MethodHandler = (ctx, args) => {
  const group = groupOfRef(ctx, args.ref("Collection"));
  if (!group) return sync(A.InvalidParameter);
  const type = args.uint("SnapshotType") ?? COLLECTION_SNAPSHOT_TYPE.standard;
  if (type !== COLLECTION_SNAPSHOT_TYPE.standard && type !== COLLECTION_SNAPSHOT_TYPE.recovery) return sync(A.InvalidParameter);
  const level = requestedLevel(args);
  if (level === undefined) return sync(A.InvalidParameter);
  const members = groupMembers(ctx.state, group);
  if (members.length === 0) return sync(A.InvalidState);
  const kind: SnapshotKind = type === COLLECTION_SNAPSHOT_TYPE.recovery ? "recovery" : "standard";
  const groupRef = groupPath(ctx.state.hostName, group.id);
  const description = `Creating ${kind === "recovery" ? "recovery " : ""}checkpoint of group '${group.name}'`;
  // Every member first: one guest that cannot give the consistency asked for fails the whole
  // group (lab assumption: the host does not mix levels within one collection snapshot).
  const plans = members.map((vm) => ({ vm, c: checkpointConsistency(vm, kind, level) }));
  const refused = plans.find((p) => !p.c.ok);
  if (refused && !refused.c.ok) {
    return { kind: "job", description, affected: [{ path: groupRef, effects: [EFFECT_CHANGE] }], fail: { code: 32768, description: refused.c.reason, atPercent: 40 } };
  }
  const sharedVhdx = members.map(sharedVhdxRefusal).find((x) => x !== undefined);
  if (sharedVhdx) return { kind: "job", description, affected: [{ path: groupRef, effects: [EFFECT_CHANGE] }], fail: { code: 32768, description: sharedVhdx, atPercent: 10 } };
  const record: SnapshotCollectionRecord = { id: newGuid(), groupId: group.id, kind, createdAt: ctx.now, snapshotIds: [] };
  for (const { vm, c } of plans) {
    if (!c.ok) continue;
    record.snapshotIds.push(takeCheckpoint(ctx.state, vm, kind, c.level, c.consistency, ctx.now).id);
  }
  // The VHD Sets the members share: one snapshot each, at the same cut (lab assumption, see vhd_sets.ts).
  const sets = snapshotGroupVhdSets(ctx.state, members, collectionSnapshots(ctx.state, record), ctx.now);
  if (sets.length > 0) record.vhdSetSnapshots = sets;
  snapshotCollectionsOf(ctx.state).push(record);
  const resulting = snapshotCollectionPath(ctx.state.hostName, record.id);
  return {
    kind: "job",
    description,
    out: { ResultingSnapshotCollection: resulting },
    affected: [
      { path: resulting, effects: [EFFECT_CREATE] },
      ...record.snapshotIds.map((id) => ({ path: vssdPath(ctx.state.hostName, id), effects: [EFFECT_CREATE] })),
      { path: groupRef, effects: [EFFECT_CHANGE] },
    ],
  };
};

/** Member checkpoints removed after one of their VMs moved on are not merged twice; the lab only reparents VHDX. */
function unsupportedReparent(ctx: MethodContext, c: SnapshotCollectionRecord): boolean {
  return collectionSnapshots(ctx.state, c).some((s) => ctx.state.snapshots.some((x) => x.parentId === s.id) && s.disks.some((d) => d.format !== "vhdx"));
}

export const destroyCollectionSnapshot: MethodHandler = (ctx, args) => {
  const c = snapshotCollectionOfRef(ctx, args.ref("AffectedSnapshotCollection"));
  if (!c) return sync(A.InvalidParameter);
  if (unsupportedReparent(ctx, c)) return sync(A.NotSupported);
  const vmIds = new Set(collectionSnapshots(ctx.state, c).map((s) => s.vmId));
  // The members' merges happen while the job runs (host/pending_merges.ts).
  return {
    kind: "job",
    description: "Deleting checkpoint of group",
    affected: [...vmIds].map((id) => ({ path: computerSystemPath(ctx.state.hostName, id), effects: [EFFECT_CHANGE] })),
    completes: { kind: "destroy-group-checkpoint", collectionId: c.id },
  };
};

export const convertCollectionToReferencePoint: MethodHandler = (ctx, args) => {
  const c = snapshotCollectionOfRef(ctx, args.ref("AffectedSnapshotCollection"));
  if (!c) return sync(A.InvalidParameter);
  // Only recovery snapshots can become reference points (method page).
  if (c.kind !== "recovery") return sync(A.InvalidParameter);
  const snapshots = collectionSnapshots(ctx.state, c);
  // A member checkpoint removed on its own leaves a collection that no longer holds the group (lab assumption: 5 Invalid State).
  if (snapshots.length !== c.snapshotIds.length) return sync(A.InvalidState);
  const pairs = snapshots.map((s) => ({ s, vm: ctx.state.vms.find((v) => v.id === s.vmId) }));
  if (pairs.some((p) => !p.vm)) return sync(A.InvalidState);
  if (pairs.some((p) => !configVersionHasRct(p.vm!.configVersion))) return sync(A.NotSupported);
  if (unsupportedReparent(ctx, c)) return sync(A.NotSupported);
  // The members' merges happen while the job runs; the reference points and their collection
  // exist once it completes, with the ids drawn now (host/pending_merges.ts).
  const id = newGuid();
  const resulting = referencePointCollectionPath(ctx.state.hostName, id);
  return {
    kind: "job",
    description: "Converting checkpoint of group to reference point",
    out: { ResultingReferencePointCollection: resulting },
    affected: [{ path: resulting, effects: [EFFECT_CREATE] }, ...pairs.map((p) => ({ path: computerSystemPath(ctx.state.hostName, p.vm!.id), effects: [EFFECT_CHANGE] }))],
    completes: { kind: "convert-group-checkpoint", collectionId: c.id, referencePointCollectionId: id, referencePointIds: snapshots.map(() => newGuid()) },
  };
};

/**
 * ExportSnapshot: every member's checkpoint configuration, each into `<ExportDirectory>/<VM id>/`
 * laid out as ExportSystemDefinition lays out one VM (lab assumption: the page does not say how
 * members are laid out). Storage is never copied (CopyVmStorage true: 1 Not Supported in the lab).
 */
export const exportCollectionSnapshot: MethodHandler = (ctx, args) => {
  const c = snapshotCollectionOfRef(ctx, args.ref("SnapshotCollection"));
  const dir = args.string("ExportDirectory");
  if (!c || !dir || !path.isAbsolute(dir)) return sync(A.InvalidParameter);
  const esd = args.embedded("ExportSettingData");
  if (esd) {
    if (String(esd.__CLASS).toLowerCase() !== "msvm_collectionsnapshotexportsettingdata") return sync(A.InvalidParameter);
    const copy = prop(esd, "CopyVmStorage");
    if (copy === true || copy === "true" || copy === "TRUE") return sync(A.NotSupported);
    const intent = prop(esd, "BackupIntent");
    if (intent !== undefined && intent !== null && ![1, 2].includes(Number(intent))) return sync(A.InvalidParameter);
    const base = prop(esd, "DifferentialBackupBase");
    if (typeof base === "string" && base !== "") {
      const b = ctx.resolve(base);
      const ok = b && (b.__CLASS === "Msvm_ReferencePointCollection" || b.__CLASS === "Msvm_SnapshotCollection");
      if (!ok) return sync(A.InvalidParameter);
    }
  }
  const snapshots = collectionSnapshots(ctx.state, c);
  if (snapshots.length !== c.snapshotIds.length) return sync(A.InvalidState);
  const groupRef = groupPath(ctx.state.hostName, c.groupId);
  const targets = snapshots.map((s) => ({ s, vm: ctx.state.vms.find((v) => v.id === s.vmId)!, target: path.join(dir, s.vmId) }));
  const taken = targets.find((t) => fs.existsSync(path.join(t.target, "Virtual Machines", `${t.vm.id}.vmcx`)));
  if (taken) {
    return {
      kind: "job",
      description: "Exporting checkpoint of group",
      affected: [{ path: groupRef, effects: [EFFECT_CHANGE] }],
      fail: { code: 32768, description: `Failed to export virtual machine '${taken.vm.name}': '${path.join(taken.target, "Virtual Machines", `${taken.vm.id}.vmcx`)}' already exists`, atPercent: 10 },
    };
  }
  for (const { s, vm, target } of targets) {
    const view = configView(ctx.state, vm, s);
    writeDefinition(target, vm, view, s.id, ctx.now, view.disks.map(({ path: p, ...rest }) => ({ ...rest, file: p })), referencedCheckpoints(ctx.state, vm, s));
  }
  return { kind: "job", description: "Exporting checkpoint of group", affected: [{ path: groupRef, effects: [EFFECT_CHANGE] }] };
};
