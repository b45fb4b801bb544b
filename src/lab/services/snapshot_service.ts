/**
 * Msvm_VirtualSystemSnapshotService: CreateSnapshot, DestroySnapshot, ConvertToReferencePoint.
 * Return codes: family A (0..6, 4096) per the method pages.
 */
import { sharedVhdxRefusal } from "../host/vhd_sets";
import { referencePointPath } from "../classes/reference_point";
import { vssdPath } from "../classes/settings";
import { checkpointConsistency, takeCheckpoint } from "../host/host_ops";
import { A, type Args, EFFECT_CHANGE, EFFECT_CREATE, type MethodContext, type MethodHandler, type MethodOutcome, prop, sync } from "./method_support";
import { configVersionHasRct, newGuid, type SnapshotRecord, type VmRecord } from "../host/model";
import { computerSystemPath, plannedSystemPath } from "../host/paths";
import { destroyPlannedCheckpoint, plannedOwnerOf } from "../host/planned_checkpoints";

/** What the lab's failing guest VSS reports through GetErrorEx (lab assumption: the wording). */
export const GUEST_VSS_DETAIL = "The guest's VSS writer 'SqlServerWriter' is in a failed state (VSS_WS_FAILED_AT_FREEZE, 0x800423F2): the writer rejected the freeze";

/** SnapshotType values (CIM_VirtualSystemSnapshotService.CreateSnapshot; 32768 = recovery per the Microsoft sample). */
const SNAPSHOT_TYPE_FULL = 2;
const SNAPSHOT_TYPE_DISK = 3;
const SNAPSHOT_TYPE_RECOVERY = 32768;

/** The VM a REF names, or undefined when it is not a VM of this host. */
export function vmOfRef(ctx: MethodContext, ref: string | undefined): VmRecord | undefined {
  if (!ref) return undefined;
  const inst = ctx.resolve(ref);
  if (!inst || inst.__CLASS !== "Msvm_ComputerSystem") return undefined;
  return ctx.state.vms.find((v) => v.id.toLowerCase() === String(inst["Name"]).toLowerCase());
}

/** The checkpoint a VSSD REF names, or undefined when it is not a checkpoint. */
export function snapshotOfRef(ctx: MethodContext, ref: string | undefined): SnapshotRecord | undefined {
  if (!ref) return undefined;
  const inst = ctx.resolve(ref);
  if (!inst || inst.__CLASS !== "Msvm_VirtualSystemSettingData") return undefined;
  return ctx.state.snapshots.find((s) => `Microsoft:${s.id}`.toLowerCase() === String(inst["InstanceID"]).toLowerCase());
}

export const createSnapshot: MethodHandler = (ctx: MethodContext, args: Args): MethodOutcome => {
  const vm = vmOfRef(ctx, args.ref("AffectedSystem"));
  if (!vm) return sync(A.InvalidParameter);
  const type = args.uint("SnapshotType") ?? SNAPSHOT_TYPE_FULL;
  if (type === SNAPSHOT_TYPE_DISK) return sync(A.NotSupported);
  if (type !== SNAPSHOT_TYPE_FULL && type !== SNAPSHOT_TYPE_RECOVERY) return sync(A.InvalidParameter);
  const settings = args.embedded("SnapshotSettings");
  let level: 1 | 2 = 1;
  if (settings) {
    if (String(settings.__CLASS).toLowerCase() !== "msvm_virtualsystemsnapshotsettingdata") return sync(A.InvalidParameter);
    const cl = prop(settings, "ConsistencyLevel");
    if (cl !== undefined && cl !== null) {
      const n = Number(cl);
      if (n === 2) level = 2;
      else if (n === 0 || n === 1) level = 1;
      else return sync(A.InvalidParameter);
    }
  }
  const kind = type === SNAPSHOT_TYPE_RECOVERY ? "recovery" : "standard";
  const vmPath = computerSystemPath(ctx.state.hostName, vm.id);
  // A pass-through disk cannot be checkpointed: left out only when the caller says so.
  if (vm.hardware.passthrough && !(settings && String(prop(settings, "IgnoreNonSnapshottableDisks")).toLowerCase() === "true")) {
    return {
      kind: "job",
      description: kind === "recovery" ? "Creating recovery checkpoint" : "Creating checkpoint",
      affected: [{ path: vmPath, effects: [EFFECT_CHANGE] }],
      fail: { code: 32768, description: `Cannot create a checkpoint of '${vm.name}': it has a pass-through disk, which cannot be checkpointed (set IgnoreNonSnapshottableDisks to leave it out)`, atPercent: 5 },
    };
  }
  const sharedVhdx = sharedVhdxRefusal(vm);
  if (sharedVhdx) {
    return { kind: "job", description: kind === "recovery" ? "Creating recovery checkpoint" : "Creating checkpoint", affected: [{ path: vmPath, effects: [EFFECT_CHANGE] }], fail: { code: 32768, description: sharedVhdx, atPercent: 5 } };
  }
  const c = checkpointConsistency(vm, kind, level);
  if (!c.ok) {
    return {
      kind: "job",
      description: kind === "recovery" ? "Creating recovery checkpoint" : "Creating checkpoint",
      affected: [{ path: vmPath, effects: [EFFECT_CHANGE] }],
      // ErrorDescription says that the checkpoint failed; why (the guest writer's state) comes
      // only from GetErrorEx, as on real hosts.
      fail: { code: 32768, description: c.reason, atPercent: 40, ...(vm.integration === "failing" && vm.state === 2 ? { details: [GUEST_VSS_DETAIL] } : {}) },
    };
  }
  const snapshot = takeCheckpoint(ctx.state, vm, kind, c.level, c.consistency, ctx.now);
  return {
    kind: "job",
    description: kind === "recovery" ? "Creating recovery checkpoint" : "Creating checkpoint",
    affected: [
      { path: vssdPath(ctx.state.hostName, snapshot.id), effects: [EFFECT_CREATE] },
      { path: vmPath, effects: [EFFECT_CHANGE] },
    ],
  };
};

/**
 * Removing a checkpoint in the middle of a chain re-points the file above it; the lab can do
 * that for VHDX only (lab limitation: 1 Not Supported for legacy VHD).
 */
function needsUnsupportedReparent(ctx: MethodContext, snapshot: SnapshotRecord): boolean {
  const hasChild = ctx.state.snapshots.some((s) => s.parentId === snapshot.id);
  return hasChild && snapshot.disks.some((d) => d.format !== "vhdx");
}

export const destroySnapshot: MethodHandler = (ctx, args) => {
  const ref = args.ref("AffectedSnapshot");
  const snapshot = snapshotOfRef(ctx, ref);
  if (!snapshot) {
    // A checkpoint an imported (planned) VM still references: removed from its configuration.
    const inst = ref ? ctx.resolve(ref) : undefined;
    const id = inst && inst.__CLASS === "Msvm_VirtualSystemSettingData" ? String(inst["InstanceID"]).replace(/^Microsoft:/i, "") : "";
    const owner = id ? plannedOwnerOf(ctx.state, id) : undefined;
    if (!owner) return sync(A.InvalidParameter);
    destroyPlannedCheckpoint(owner, id);
    return { kind: "job", description: "Deleting checkpoint", affected: [{ path: plannedSystemPath(ctx.state.hostName, owner.id), effects: [EFFECT_CHANGE] }] };
  }
  if (needsUnsupportedReparent(ctx, snapshot)) return sync(A.NotSupported);
  // The merge happens while the job runs: the checkpoint stays listed until it completes.
  return {
    kind: "job",
    description: "Deleting checkpoint",
    affected: [{ path: computerSystemPath(ctx.state.hostName, snapshot.vmId), effects: [EFFECT_CHANGE] }],
    completes: { kind: "destroy-checkpoint", snapshotId: snapshot.id },
  };
};

export const convertToReferencePoint: MethodHandler = (ctx, args) => {
  const snapshot = snapshotOfRef(ctx, args.ref("AffectedSnapshot"));
  if (!snapshot) return sync(A.InvalidParameter);
  // Only recovery checkpoints can become reference points (method page).
  if (snapshot.kind !== "recovery") return sync(A.InvalidParameter);
  const vm = ctx.state.vms.find((v) => v.id === snapshot.vmId);
  if (!vm) return sync(A.InvalidState);
  // Configuration versions without RCT cannot hold RCT reference points (lab assumption: 1 Not Supported).
  if (!configVersionHasRct(vm.configVersion)) return sync(A.NotSupported);
  if (needsUnsupportedReparent(ctx, snapshot)) return sync(A.NotSupported);
  // The merge happens while the job runs; the reference point exists once it completes, with
  // the id drawn now (host/pending_merges.ts).
  const id = newGuid();
  return {
    kind: "job",
    description: "Converting checkpoint to reference point",
    affected: [
      { path: referencePointPath(ctx.state.hostName, id), effects: [EFFECT_CREATE] },
      { path: computerSystemPath(ctx.state.hostName, vm.id), effects: [EFFECT_CHANGE] },
    ],
    completes: { kind: "convert-checkpoint", snapshotId: snapshot.id, referencePointId: id },
  };
};
