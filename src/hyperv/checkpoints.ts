/**
 * Recovery checkpoints (reference §3, §13): Msvm_VirtualSystemSnapshotService.CreateSnapshot
 * with SnapshotType 32768 and an embedded Msvm_VirtualSystemSnapshotSettingData, and
 * DestroySnapshot. The new checkpoint is found as the job's affected
 * Msvm_VirtualSystemSettingData (CIM_AffectedJobElement, ElementEffects 5 Create), or in the
 * ResultingSnapshot out-parameter when the call completed synchronously.
 */
import { HvbError } from "../base/mod";
import type { CimInstance } from "../cim/mod";
import { SYSTEM_TYPE, VSSD_CLASS, readConfiguration } from "./configuration";
import { type ClientContext, affectedElements, runMethod, servicePath, subjects } from "./jobs";
import type { Checkpoint, VmInfo } from "./types";
import { vmCheckpointSettings } from "./vm_queries";
import { embedForHost } from "./host_classes";
import { stringOrUndefined } from "../cim/mod";

export const SNAPSHOT_SERVICE = "Msvm_VirtualSystemSnapshotService";

/** SnapshotType of a recovery (backup) checkpoint: vendor value 32768 (Microsoft xHyper-VBackup sample). */
export const SNAPSHOT_TYPE_RECOVERY = 32768;

/** Msvm_VirtualSystemSnapshotSettingData.ConsistencyLevel: 1 Application Consistent, 2 Crash Consistent. */
export const CONSISTENCY_LEVEL = { application: 1, crash: 2 } as const;

/** Msvm_VirtualSystemSnapshotSettingData.GuestBackupType (Windows 10 1703+): 1 Full, 2 Copy. */
export const GUEST_BACKUP_TYPE = { full: 1, copy: 2 } as const;

/** Options of {@link createRecoveryCheckpoint}. */
export interface RecoveryCheckpointOptions {
  /**
   * VSS backup type inside the guest. `full` lets guest applications treat the backup as a full
   * one (e.g. truncate logs); `copy` leaves in-guest backup chains alone. Omitted: not sent
   * (0 Undefined, the host's default). Only meaningful with application consistency.
   */
  guestBackupType?: "full" | "copy";
  /** Skip pass-through / Fibre Channel disks instead of failing (default true, as the Microsoft sample). */
  ignoreNonSnapshottableDisks?: boolean;
  /** ElementName for the checkpoint; the host names it when omitted. */
  name?: string;
}

/** The embedded Msvm_VirtualSystemSnapshotSettingData for a recovery checkpoint (pure). */
export function snapshotSettings(consistency: "application" | "crash", options: RecoveryCheckpointOptions = {}): { __CLASS: string; [k: string]: unknown } {
  const s: { __CLASS: string; [k: string]: unknown } = {
    __CLASS: "Msvm_VirtualSystemSnapshotSettingData",
    ConsistencyLevel: CONSISTENCY_LEVEL[consistency],
    IgnoreNonSnapshottableDisks: options.ignoreNonSnapshottableDisks ?? true,
  };
  if (options.guestBackupType !== undefined && consistency === "application") s["GuestBackupType"] = GUEST_BACKUP_TYPE[options.guestBackupType];
  if (options.name !== undefined) s["ElementName"] = options.name;
  return s;
}

/**
 * Takes a recovery checkpoint of `vm` and returns it with the frozen files its disks refer to.
 * An application-consistent request on a guest whose VSS fails ends in a
 * {@link HyperVMethodError} (the job's ErrorDescription says why); retrying with `crash` is the
 * caller's policy.
 */
export async function createRecoveryCheckpoint(
  ctx: ClientContext,
  vm: VmInfo,
  consistency: "application" | "crash",
  options: RecoveryCheckpointOptions = {},
): Promise<Checkpoint> {
  const svc = await servicePath(ctx, SNAPSHOT_SERVICE);
  const outcome = await runMethod(
    ctx,
    svc,
    "CreateSnapshot",
    {
      AffectedSystem: vm.path,
      // GuestBackupType is new in 1703: a host without it takes the guest's default backup type.
      SnapshotSettings: await embedForHost(ctx, snapshotSettings(consistency, options), { optional: ["GuestBackupType"], purpose: "a recovery checkpoint" }),
      SnapshotType: SNAPSHOT_TYPE_RECOVERY,
    },
    subjects.vm(vm.name),
  );
  let vssd: CimInstance | undefined;
  const affected = await affectedElements(ctx, outcome, VSSD_CLASS);
  vssd = affected.find((s) => s["VirtualSystemType"] === SYSTEM_TYPE.recoveryCheckpoint) ?? affected[0];
  const resulting = stringOrUndefined(outcome.out["ResultingSnapshot"]);
  if (!vssd && resulting) vssd = await ctx.session.getInstance(resulting);
  if (!vssd) {
    throw new HvbError("CheckpointNotFound", `CreateSnapshot on VM '${vm.name}' succeeded but the host named no resulting checkpoint`, {
      category: "InvalidData",
      target: vm.name,
    });
  }
  return describeCheckpoint(ctx, vssd, vm, consistency);
}

/** Builds a {@link Checkpoint} from its VSSD. */
export async function describeCheckpoint(
  ctx: ClientContext,
  vssd: CimInstance,
  vm: Pick<VmInfo, "id" | "name" | "path">,
  requestedConsistency?: "application" | "crash",
): Promise<Checkpoint> {
  const config = await readConfiguration(ctx, vssd.__PATH);
  return {
    path: vssd.__PATH,
    instanceId: String(vssd["InstanceID"] ?? ""),
    name: String(vssd["ElementName"] ?? ""),
    systemType: String(vssd["VirtualSystemType"] ?? ""),
    vmId: vm.id,
    vmName: vm.name,
    vmPath: vm.path,
    creationTime: stringOrUndefined(vssd["CreationTime"]),
    requestedConsistency,
    disks: config.disks.map((d) => ({
      index: d.index,
      location: d.location,
      path: d.hostResource,
      instanceId: d.instanceId,
      controller: d.controller,
      controllerNumber: d.controllerNumber,
      address: d.address,
      format: d.format,
    })),
    ...(config.sharedDisks.length > 0 ? { sharedDisks: config.sharedDisks } : {}),
  };
}

/** Which checkpoints {@link listCheckpoints} returns. */
export type CheckpointKind = "recovery" | "standard" | "all";

/** The VM's checkpoints of one kind (Msvm_SnapshotOfVirtualSystem), oldest first by CreationTime. */
export async function listCheckpoints(ctx: ClientContext, vm: Pick<VmInfo, "id" | "name" | "path">, kind: CheckpointKind = "all"): Promise<Checkpoint[]> {
  const all = await vmCheckpointSettings(ctx, vm.path);
  const wanted = all.filter(
    (s) =>
      kind === "all" ||
      (kind === "recovery" && s["VirtualSystemType"] === SYSTEM_TYPE.recoveryCheckpoint) ||
      (kind === "standard" && s["VirtualSystemType"] === SYSTEM_TYPE.standardCheckpoint),
  );
  wanted.sort((a, b) => String(a["CreationTime"] ?? "").localeCompare(String(b["CreationTime"] ?? "")));
  const out: Checkpoint[] = [];
  for (const s of wanted) out.push(await describeCheckpoint(ctx, s, vm));
  return out;
}

/** Deletes a checkpoint (DestroySnapshot); Hyper-V merges its differencing disks back. */
export async function destroyCheckpoint(ctx: ClientContext, cp: Pick<Checkpoint, "path" | "name" | "vmName">): Promise<void> {
  const svc = await servicePath(ctx, SNAPSHOT_SERVICE);
  await runMethod(ctx, svc, "DestroySnapshot", { AffectedSnapshot: cp.path }, subjects.checkpoint(cp.name, cp.vmName));
}
