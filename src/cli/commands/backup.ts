import { type BackupResult, type BackupSetOptions, type BackupSetReport, type VmOutcome, backupSet, hasWildcard } from "../../engine/mod";
import { UsageError, toHvbError } from "../../base/mod";
import { backupGroups, groupSummaries } from "../group_backup";
import { Repository } from "../../repository/mod";
import { type ParsedArgs, optionValue, parseArgs, parseInteger, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { formatBytes } from "../format";
import { stopSignal } from "../control";
import { openFleet } from "../fleet";
import { hostPathFacts, repositoryForHost } from "../host_paths";
import { labDirFrom } from "../host";
import type { CommandIo } from "../io";

export const BACKUP_USAGE = `Usage: hvbackup backup (--vm N|PATTERN [--vm ...] | --all | --group G [--group ...]) --repo R [--full] [--consistency application|file-system|crash]
                       [--no-crash-fallback] [--hash-changes] [--parallel K] [--per-volume K] [--per-host K] [--storage-snapshot]
                       [--passthrough warn|refuse] [--clear-stale-lock] [--lab DIR] [--json]

  First run of a VM: a full backup. Then RCT incremental: only what changed since the last point.
  --vm N|PATTERN              a VM name or id, or a name pattern as Get-VM takes (web*, db?, vm[1-3])
  --all                       every VM of the host (of every node, on a cluster)
  --consistency application   ask the guest for application consistency (default); if it cannot
                              give it, fall back to crash consistency with a warning, unless
                              --no-crash-fallback, which makes the backup fail instead.
                              A Linux guest frozen by its integration services gives file-system
                              consistency (recorded as such, whichever of the first two was asked)
  --consistency file-system   the same request (the guest freezes what it can), for Linux guests
  --consistency crash         do not involve the guest
  --hash-changes              when RCT cannot be used (configuration version 5.0, VHD disks, a lost
                              reference point), store only the blocks whose hashes changed since the
                              last point instead of a full copy (reads the whole disk either way)
  --parallel K                back up at most K VMs at once (default 2); one VM's failure does not stop the others
  --per-volume K              at most K VMs at once whose disks share a volume (default: no limit; 1 on a cluster)
  --per-host K                at most K VMs at once per host or cluster node (default: no limit; 1 on a cluster)
  --storage-snapshot          one storage snapshot for the whole set: the VMs take their checkpoints volume
                              after volume, one volume shadow copy per volume once its VMs have, their
                              checkpoints become reference points right after it (VMs are back on their base
                              disks within seconds), and the disks are copied
                              from the shadow copies (the limits then apply to the copies); without VSS a
                              warning says so and each VM is backed up from its own checkpoint
  --passthrough warn|refuse   a VM with pass-through disks (host disks given to the guest, which no
                              checkpoint holds): back up its virtual disks and name the pass-through
                              ones in a warning (warn, the default), or do not back it up (refuse)
  --group G                   a VM group (New-VMGroup): every member checkpointed at one moment and
                              published as one set, all or none (list --json shows each point's setId)
`;

/** `hvbackup backup`: back up one or more VMs into a repository. */
export async function backupCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, {
    values: ["vm", "group", "repo", "consistency", "parallel", "per-volume", "per-host", "lab", "passthrough"],
    flags: ["full", "json", "no-crash-fallback", "hash-changes", "clear-stale-lock", "all", "storage-snapshot", "help"],
  });
  if (args.flags.has("help")) {
    io.stdout(BACKUP_USAGE);
    return 0;
  }
  const out = eventOutput(io, args.flags.has("json"));
  const vms = args.options.get("vm") ?? [];
  const all = args.flags.has("all");
  const groups = args.options.get("group") ?? [];
  if (vms.length === 0 && !all && groups.length === 0) throw new UsageError(`Missing required option --vm (or --all, or --group)\n${BACKUP_USAGE}`);
  const repoText = requireOption(args, "repo");
  const consistency = optionValue(args, "consistency") ?? "application";
  if (consistency !== "application" && consistency !== "file-system" && consistency !== "crash") throw new UsageError(`--consistency must be 'application', 'file-system' or 'crash', got '${consistency}'`);
  const passThrough = optionValue(args, "passthrough") ?? "warn";
  if (passThrough !== "warn" && passThrough !== "refuse") throw new UsageError(`--passthrough must be 'warn' or 'refuse', got '${passThrough}'`);
  const parallel = limitOption(args, "parallel") ?? 2;
  const perVolume = limitOption(args, "per-volume");
  const perHost = limitOption(args, "per-host");
  const fleet = await openFleet(labDirFrom(args));
  // VMMS writes the exports into the repository: a mapped drive becomes its share (host_paths.ts).
  const repo = new Repository(repositoryForHost(repoText, await hostPathFacts(labDirFrom(args)), out));
  const options: BackupSetOptions = {
    full: args.flags.has("full"),
    consistency: consistency as "application" | "file-system" | "crash",
    fallbackToCrash: !args.flags.has("no-crash-fallback"),
    hashChangeDetection: args.flags.has("hash-changes"),
    clearStaleLock: args.flags.has("clear-stale-lock"),
    passThrough,
    parallel,
    ...(perVolume === undefined ? {} : { perVolume }),
    ...(perHost === undefined ? {} : { perHost }),
    signal: stopSignal,
    storageSnapshot: args.flags.has("storage-snapshot"),
  };

  // Groups first, one after the other: each is one set on one host (its members' checkpoint is one call).
  const groupResults = await backupGroups(fleet.host(fleet.nodes[0]!), repo, groups, options, out);
  const g = groupSummaries(groupResults);
  if (vms.length === 0 && !all) {
    const failedGroups = groupResults.filter((r) => !r.ok);
    if (groups.length === 1 && failedGroups.length === 1) return out.error((failedGroups[0] as { error: unknown }).error);
    out.result(groups.length === 1 ? g.data[0] : { results: g.data }, g.human);
    return failedGroups.length > 0 ? 1 : 0;
  }

  const report = await backupSet(fleet, repo, { all, names: vms }, options, out);
  const single = !all && groups.length === 0 && vms.length === 1 && !hasWildcard(vms[0]!);
  const failed = report.outcomes.filter((r) => !r.ok);
  if (single && failed.length === 1) return out.error(failed[0]!.error);
  const ok = report.outcomes.filter((r) => r.ok);
  const data = single ? pointSummary(ok[0]!.result!) : { results: [...g.data, ...report.outcomes.map(outcomeEntry)], summary: setSummary(report) };
  const human = (g.human ? [g.human] : [])
    .concat(report.outcomes
    // A set's lines also say how long each VM took and ran on its checkpoint (issue 12's summary).
    .map((r) => (r.ok ? `${r.result!.vmName}: ${r.result!.point.kind} backup ${r.result!.point.id} (${r.result!.point.consistency}-consistent), ${formatBytes(r.bytes)} added` : `${r.vm}: FAILED: ${toHvbError(r.error).message}`) + (single || r.vmId === undefined ? "" : `; ${r.seconds.toFixed(1)} s, ${r.checkpointSeconds.toFixed(1)} s on a checkpoint`))
    .concat(single ? [] : [summaryLine(report)]))
    .join("\n");
  out.result(data, human);
  return failed.length > 0 || groupResults.some((r) => !r.ok) ? 1 : 0;
}

function limitOption(args: ParsedArgs, name: string): number | undefined {
  const text = optionValue(args, name);
  if (text === undefined) return undefined;
  const n = parseInteger(text, `--${name}`);
  if (n < 1) throw new UsageError(`--${name} must be at least 1`);
  return n;
}

/** One VM of a set as `backup --json` shows it: the point (or the error) and how the run went for it. */
function outcomeEntry(r: VmOutcome): Record<string, unknown> {
  const run = { node: r.node ?? null, volumes: r.volumes, bytes: r.bytes, seconds: round(r.seconds), checkpointSeconds: round(r.checkpointSeconds) };
  return r.ok ? { vm: r.vm, ok: true, point: pointSummary(r.result!), ...run } : { ...failedEntry(r.vm, r.error), ...run };
}

/** The set's totals: counts, bytes, time, the median time on a checkpoint, the limits and the peaks seen. */
function setSummary(report: BackupSetReport): Record<string, unknown> {
  const ran = report.outcomes.filter((r) => r.vmId !== undefined);
  return {
    total: report.outcomes.length,
    succeeded: report.outcomes.filter((r) => r.ok).length,
    failed: report.outcomes.filter((r) => !r.ok).length,
    bytes: report.outcomes.reduce((n, r) => n + r.bytes, 0),
    seconds: round(report.seconds),
    medianCheckpointSeconds: round(median(ran.map((r) => r.checkpointSeconds))),
    limits: report.limits,
    peaks: report.peaks,
    storageSnapshot: report.storageSnapshot,
  };
}

function summaryLine(report: BackupSetReport): string {
  const s = setSummary(report);
  return `${String(s["succeeded"])} of ${String(s["total"])} VMs backed up, ${String(s["failed"])} failed; ${formatBytes(Number(s["bytes"]))} added in ${String(s["seconds"])} s; median ${String(s["medianCheckpointSeconds"])} s on a checkpoint${report.storageSnapshot ? " (with one storage snapshot)" : ""}`;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The restore-point record as `list --json` and `backup --json` show it. */
export function pointSummary(r: BackupResult): Record<string, unknown> {
  const p = r.point;
  return { id: p.id, vmName: r.vmName, setId: p.setId ?? null, vmId: r.vmId, time: p.time, kind: p.kind, consistency: p.consistency, sizeBytes: p.sizeBytes, parentId: p.parentId, disks: p.disks, warnings: r.warnings };
}

/** A failed VM in a multi-VM result: the message plus the error's code and category, so the module can raise the right ErrorRecord. */
export function failedEntry(vm: string, error: unknown): Record<string, unknown> {
  const e = toHvbError(error);
  return { vm, ok: false, error: e.message, code: e.code, category: e.category };
}
