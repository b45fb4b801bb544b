/**
 * Backs up a set of VMs (names, patterns, every VM; on one host or a cluster's nodes) under
 * limits: at most `parallel` VMs at once, at most `perVolume` at once whose disks share a volume
 * (so a volume carries few checkpoints at a time, as products limit snapshots per volume), at
 * most `perHost` at once per node. On a cluster the limits per node and per volume default to 1.
 * A VM's failure is its own outcome; the report says per VM what happened.
 */
import { toHvbError } from "../../base/mod";
import { volumeRootOf } from "../../hyperv/mod";
import type { Repository } from "../../repository/mod";
import type { EngineEvents } from "../events";
import { type SchedulerPeaks, type ScheduledTask, runScheduled } from "../scheduler";
import { type BackupOptions, type BackupResult, backupVm } from "./backup";
import { CheckpointMeter, meteredHost } from "./checkpoint_meter";
import type { HostFleet } from "./fleet";
import { type FollowState, followingHost } from "./following_host";
import { type VmSelection, resolveSelection } from "./selection";
import { SlotLimiter } from "../slot_limiter";
import { startSharedPool } from "../pipeline/worker_pool";
import { type SnapshotVmState, StorageSnapshotRun, cleanupSnapshotVm, storageSnapshotHost } from "./storage_snapshot";

/** How a set runs. */
export interface BackupSetOptions extends BackupOptions {
  /** VMs at once over the whole run (at least 1). */
  parallel: number;
  /** VMs at once whose disks share a volume (default: unlimited; 1 on a cluster). */
  perVolume?: number;
  /** VMs at once per node (default: unlimited; 1 on a cluster). */
  perHost?: number;
  /**
   * One storage snapshot for the set (storage_snapshot.ts): the VMs checkpoint volume after
   * volume, one shadow copy per volume once its VMs have, their checkpoints converted right
   * after it; the limits then apply to copies.
   */
  storageSnapshot?: boolean;
}

/** One VM's outcome in a set. */
export interface VmOutcome {
  /** The VM's name (or the name asked for, when it was not found). */
  vm: string;
  vmId: string | undefined;
  /** The node it was backed up on (the last one, when it moved). */
  node: string | undefined;
  /** The volume roots its disks are on. */
  volumes: string[];
  ok: boolean;
  result: BackupResult | undefined;
  error: unknown;
  /** Bytes added to the repository (the point's size). */
  bytes: number;
  /** Wall seconds of this VM's backup. */
  seconds: number;
  /** Seconds the VM ran on a recovery checkpoint (creation → reference point conversion). */
  checkpointSeconds: number;
}

/** What {@link backupSet} returns. */
export interface BackupSetReport {
  outcomes: VmOutcome[];
  /** The limits used (after cluster defaults). */
  limits: { parallel: number; perVolume: number | null; perHost: number | null };
  /** Most VMs that ran at once, overall and per `volume:ROOT` / `host:NODE`, as scheduled. */
  peaks: SchedulerPeaks;
  /** True when the set ran with one storage snapshot (some volumes may still have had none: see the warnings). */
  storageSnapshot: boolean;
  seconds: number;
}

export async function backupSet(fleet: HostFleet, repo: Repository, selection: VmSelection, options: BackupSetOptions, events: EngineEvents): Promise<BackupSetReport> {
  const began = performance.now();
  // The copies' workers boot while the VMs are found, grouped and checkpointed.
  startSharedPool();
  const { vms, failures } = await resolveSelection(fleet, selection);
  const volumes = await fleet.volumes().catch((e: unknown) => {
    events.warning(`Cannot list the host's volumes (${toHvbError(e).message}); VMs are grouped by the drive or share their disk paths name`, "VolumesUnknown");
    return [];
  });
  const perVolume = options.perVolume ?? (fleet.clustered ? 1 : undefined);
  const perHost = options.perHost ?? (fleet.clustered ? 1 : undefined);
  const perKind: Record<string, number> = {};
  if (perVolume !== undefined) perKind["volume"] = perVolume;
  if (perHost !== undefined) perKind["host"] = perHost;

  const outcomes: VmOutcome[] = failures.map((f) => ({
    vm: f.name, vmId: undefined, node: undefined, volumes: [], ok: false, result: undefined, error: f.error, bytes: 0, seconds: 0, checkpointSeconds: 0,
  }));
  let snapshotRun: StorageSnapshotRun | undefined;
  let slots: SlotLimiter | undefined;
  if (options.storageSnapshot) {
    if (fleet.cimv2) {
      snapshotRun = new StorageSnapshotRun(fleet.cimv2, volumes, vms.length, events, options.parallel);
      slots = new SlotLimiter({ total: options.parallel, perKind });
    } else {
      events.warning("No storage snapshot: this connection to the host cannot reach root\\cimv2 (Win32_ShadowCopy); backing up each VM from its own checkpoint", "StorageSnapshotUnavailable");
    }
  }
  const tasks: ScheduledTask<VmOutcome>[] = vms.map(({ vm, node }) => {
    const roots = [...new Set(vm.disks.map((d) => volumeRootOf(d.hostResource, volumes)))];
    const resources = [{ kind: "host", name: node }, ...roots.map((r) => ({ kind: "volume", name: r }))];
    const outcome: VmOutcome = { vm: vm.name, vmId: vm.id, node, volumes: roots, ok: false, result: undefined, error: undefined, bytes: 0, seconds: 0, checkpointSeconds: 0 };
    outcomes.push(outcome);
    snapshotRun?.declare(vm.id, roots);
    return {
      key: vm.name,
      // With a storage snapshot every VM starts at once (they checkpoint volume after volume,
      // at most `parallel` in a checkpoint call at a time: StorageSnapshotRun.checkpointStep);
      // the slots limit the copies instead.
      resources: snapshotRun ? [] : resources,
      run: async () => {
        const meter = new CheckpointMeter();
        const follow: FollowState = { node, moves: [node] };
        const base = fleet.clustered ? followingHost(fleet, vm.id, vm.name, follow, events) : fleet.host(node);
        const snap: SnapshotVmState = { key: vm.id, ready: false, arrived: false, release: undefined, early: undefined };
        const metered = meteredHost(base, meter);
        const host = snapshotRun && slots ? storageSnapshotHost(metered, snapshotRun, snap, () => slots.acquire(resources), vm.name, events) : metered;
        const t0 = performance.now();
        try {
          outcome.result = await backupVm(host, repo, vm.id, options, events);
          outcome.ok = true;
          outcome.bytes = outcome.result.point.sizeBytes;
        } catch (e) {
          outcome.error = e;
          if (vms.length + failures.length > 1) events.warning(`Backup of '${vm.name}' failed: ${(e as Error).message}`, "BackupFailed");
        } finally {
          if (snapshotRun && !snap.arrived) snapshotRun.depart(vm.id, snap.ready);
          cleanupSnapshotVm(snap);
          outcome.seconds = (performance.now() - t0) / 1000;
          outcome.checkpointSeconds = meter.seconds;
          outcome.node = follow.node;
        }
        return outcome;
      },
    };
  });
  let run: Awaited<ReturnType<typeof runScheduled<VmOutcome>>>;
  try {
    run = await runScheduled(tasks, snapshotRun ? { total: Math.max(1, tasks.length) } : { total: options.parallel, perKind });
  } finally {
    await snapshotRun?.finish();
  }
  return {
    outcomes,
    limits: { parallel: options.parallel, perVolume: perVolume ?? null, perHost: perHost ?? null },
    peaks: slots ? slots.peaks : run.peaks,
    storageSnapshot: snapshotRun !== undefined,
    seconds: (performance.now() - began) / 1000,
  };
}
