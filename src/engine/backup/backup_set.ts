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

/** How a set runs. */
export interface BackupSetOptions extends BackupOptions {
  /** VMs at once over the whole run (at least 1). */
  parallel: number;
  /** VMs at once whose disks share a volume (default: unlimited; 1 on a cluster). */
  perVolume?: number;
  /** VMs at once per node (default: unlimited; 1 on a cluster). */
  perHost?: number;
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
  seconds: number;
}

export async function backupSet(fleet: HostFleet, repo: Repository, selection: VmSelection, options: BackupSetOptions, events: EngineEvents): Promise<BackupSetReport> {
  const began = performance.now();
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
  const tasks: ScheduledTask<VmOutcome>[] = vms.map(({ vm, node }) => {
    const roots = [...new Set(vm.disks.map((d) => volumeRootOf(d.hostResource, volumes)))];
    const outcome: VmOutcome = { vm: vm.name, vmId: vm.id, node, volumes: roots, ok: false, result: undefined, error: undefined, bytes: 0, seconds: 0, checkpointSeconds: 0 };
    outcomes.push(outcome);
    return {
      key: vm.name,
      resources: [{ kind: "host", name: node }, ...roots.map((r) => ({ kind: "volume", name: r }))],
      run: async () => {
        const meter = new CheckpointMeter();
        const follow: FollowState = { node, moves: [node] };
        const base = fleet.clustered ? followingHost(fleet, vm.id, vm.name, follow, events) : fleet.host(node);
        const t0 = performance.now();
        try {
          outcome.result = await backupVm(meteredHost(base, meter), repo, vm.id, options, events);
          outcome.ok = true;
          outcome.bytes = outcome.result.point.sizeBytes;
        } catch (e) {
          outcome.error = e;
          if (vms.length + failures.length > 1) events.warning(`Backup of '${vm.name}' failed: ${(e as Error).message}`, "BackupFailed");
        } finally {
          outcome.seconds = (performance.now() - t0) / 1000;
          outcome.checkpointSeconds = meter.seconds;
          outcome.node = follow.node;
        }
        return outcome;
      },
    };
  });
  const run = await runScheduled(tasks, { total: options.parallel, perKind });
  return {
    outcomes,
    limits: { parallel: options.parallel, perVolume: perVolume ?? null, perHost: perHost ?? null },
    peaks: run.peaks,
    seconds: (performance.now() - began) / 1000,
  };
}
