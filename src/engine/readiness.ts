import { HvbError } from "../base/mod";
import type { Catalog, VmStore } from "../repository/mod";
import { rctIdAt } from "../hyperv/mod";
import { pairWithBase } from "./backup/plan";
import { achievedConsistency } from "./backup/consistency";
import { refuseSharedDisksAlone } from "./backup/shared_disk_policy";
import { refuseWhilePendingJobsRun } from "./backup/pending_jobs";
import type { HostApi, HostDisk, HostVm } from "./host_api";

/** Lowest configuration version with Resilient Change Tracking (Windows Server 2016 = 8.0; RCT from 6.2 per Microsoft sources). */
const MIN_RCT_VERSION = [6, 2] as const;

/**
 * Why RCT cannot be used for a VM (or one of its disks), or undefined when it can.
 *
 * @example
 * rctUnavailableReason({ configVersion: "5.0", ... }); // "configuration version 5.0 has no RCT (needs 6.2 or later; upgrade with Update-VMVersion)"
 */
export function rctUnavailableReason(vm: Pick<HostVm, "configVersion">, disk?: Pick<HostDisk, "format" | "hostResource">): string | undefined {
  const [major, minor] = vm.configVersion.split(".").map((x) => Number(x));
  if (major === undefined || Number.isNaN(major) || major < MIN_RCT_VERSION[0] || (major === MIN_RCT_VERSION[0] && (minor ?? 0) < MIN_RCT_VERSION[1])) {
    return `configuration version ${vm.configVersion} has no RCT (needs 6.2 or later; upgrade with Update-VMVersion)`;
  }
  if (disk && disk.format === "vhd") return `'${disk.hostResource}' is a VHD file; RCT needs VHDX (convert with Convert-VHD)`;
  return undefined;
}

/** What the next backup of a VM will do, and why. */
export interface ReadinessReport {
  /**
   * Whether `hvbackup backup --vm` would back this VM up at all; when not, {@link notReady}
   * carries the backup's own refusal (code and message), so the two never disagree.
   */
  ready: boolean;
  notReady?: { code: string; message: string };
  vmName: string;
  vmId: string;
  state: string;
  configVersion: string;
  generation: number;
  /** "full" or "incremental". */
  nextBackup: "full" | "incremental";
  /** Resilient Change Tracking usable for every disk; when not, {@link rctReason} says why. */
  rct: boolean;
  rctReason?: string;
  /** Per disk: "rct", "hash" or "full", with the reason when not RCT. */
  disks: Array<{ index: number; path: string; format: string; method: "rct" | "hash" | "full"; reason?: string }>;
  /** The consistency the guest is expected to give. */
  expectedConsistency: "application" | "file-system" | "crash";
  warnings: string[];
}

/** Readiness of a VM for its next backup into a repository (catalog may be absent). */
export async function readiness(host: HostApi, vmNameOrId: string, catalog: Catalog | undefined, options: { hashChanges?: boolean; store?: VmStore } = {}): Promise<ReadinessReport> {
  // Without RCT the next backup copies the whole disk, or with hash change detection only what changed.
  const noRct = options.hashChanges ? ("hash" as const) : ("full" as const);
  const vm = await host.findVm(vmNameOrId);
  const warnings: string[] = [];
  if (!vm.hasScsiController) warnings.push(`VM '${vm.name}' has no SCSI controller: application-consistent backups of generation 1 VMs need one (add one with Add-VMScsiController)`);
  if (vm.backupIntegration !== "ok") warnings.push(`Backup integration service of '${vm.name}' is ${vm.backupIntegration}: backups will be crash-consistent`);
  if (vm.state === "Paused") warnings.push(`VM '${vm.name}' is paused`);
  const last = catalog?.points[catalog.points.length - 1];
  const rps = last?.referencePoint ? await host.listReferencePoints(vm) : [];
  const rp = last?.referencePoint ? rps.find((r) => r.instanceId === last.referencePoint!.instanceId) : undefined;
  // Each disk is paired with the last point's disk at the same location (as the backup pairs
  // them, src/engine/backup/plan.ts), and with the reference point's RCT id at its location:
  // the host lists disks in no documented order.
  const disks = vm.disks.map((d): ReadinessReport["disks"][number] => {
    const reason = rctUnavailableReason(vm, d);
    const paired = last ? pairWithBase(last, d) : {};
    const row = { index: d.index, path: d.hostResource, format: d.format };
    if (!last) return { ...row, method: "full" as const, reason: "no earlier backup in this repository" };
    if (paired.moved) return { ...row, method: "full" as const, reason: `the disk is ${paired.moved}` };
    if (!paired.base) return { ...row, method: "full" as const, reason: "new disk since the last backup" };
    if (reason) return { ...row, method: noRct, reason };
    if (!last.referencePoint) return { ...row, method: noRct, reason: "the last backup left no reference point" };
    if (!rp) return { ...row, method: noRct, reason: `reference point '${last.referencePoint.instanceId}' no longer exists on the host` };
    if (!rctIdAt(rp, d.location)) return { ...row, method: noRct, reason: `reference point '${rp.instanceId}' has no RCT id for the disk at '${d.location}'` };
    return { ...row, method: "rct" as const };
  });
  // Without RCT (old configuration version, VHD disks) say so even before the first backup:
  // every later backup reads the whole disk to find its changes.
  const rctReasons = vm.disks.map((d) => rctUnavailableReason(vm, d));
  disks.forEach((d, i) => {
    const inherent = rctReasons[i];
    const then = options.hashChanges ? "backups after the first find changes by reading and hashing the whole disk" : "every backup is a full copy of it (--hash-changes stores only changed blocks)";
    if (inherent) warnings.push(`disk ${d.index}: no RCT (${inherent}); ${then}`);
    else if (d.reason && last && last.disks.some((x) => x.index === d.index || x.location === vm.disks[i]!.location)) warnings.push(`disk ${d.index}: no RCT (${d.reason}); ${options.hashChanges ? "changes will be found by hashing" : "the next backup copies it in full"}`);
  });
  const rctReason = rctReasons.find((r) => r !== undefined);
  const notReady = (await refusalOf(host, vm)) ?? (options.store ? await pendingJobRefusal(host, options.store, vm) : undefined);
  return {
    ready: notReady === undefined,
    ...(notReady ? { notReady } : {}),
    vmName: vm.name,
    vmId: vm.id,
    state: vm.state,
    configVersion: vm.configVersion,
    generation: vm.generation,
    nextBackup: disks.some((d) => d.method !== "full") ? "incremental" : "full",
    rct: rctReason === undefined,
    ...(rctReason !== undefined ? { rctReason } : {}),
    disks,
    expectedConsistency: vm.backupIntegration === "ok" && vm.state === "Running" ? achievedConsistency(vm, "application") : "crash",
    warnings,
  };
}

/** The backup's refusal while a job an earlier backup left running still runs (backup/pending_jobs.ts). */
async function pendingJobRefusal(host: HostApi, store: VmStore, vm: HostVm): Promise<ReadinessReport["notReady"]> {
  try {
    await refuseWhilePendingJobsRun(host, store, vm);
    return undefined;
  } catch (e) {
    if (!(e instanceof HvbError)) throw e;
    return { code: e.code, message: e.message };
  }
}

/**
 * The backup's refusal of this VM backed up alone, asked of the backup's own policy
 * (backup/shared_disk_policy.ts) so readiness cannot announce a backup that `backup` refuses.
 * A VHD Set member is backed up only with its group: the group it is in is named, when it is in one.
 */
async function refusalOf(host: HostApi, vm: HostVm): Promise<ReadinessReport["notReady"]> {
  try {
    refuseSharedDisksAlone(vm);
    return undefined;
  } catch (e) {
    if (!(e instanceof HvbError)) throw e;
    if (!(vm.sharedDisks ?? []).some((d) => d.kind === "vhdset") || (vm.sharedDisks ?? []).some((d) => d.kind === "shared-vhdx")) return { code: e.code, message: e.message };
    const groups = (await host.listGroups()).filter((g) => g.members.some((m) => m.id.toLowerCase() === vm.id.toLowerCase()));
    const hint = groups.length > 0 ? `; it is ready only as part of its group: ${groups.map((g) => `'hvbackup backup --group ${g.name}'`).join(" or ")}` : "; it is in no VM group yet";
    return { code: e.code, message: e.message + hint };
  }
}
