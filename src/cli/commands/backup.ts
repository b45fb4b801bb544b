import { backupVm, type BackupResult } from "../../engine/mod";
import { UsageError, toHvbError } from "../../base/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, parseInteger, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { formatBytes } from "../format";
import { labDirFrom, openHost } from "../host";
import type { CommandIo } from "../io";

export const BACKUP_USAGE = `Usage: hvbackup backup --vm N [--vm N ...] --repo R [--full] [--consistency application|crash]
                       [--no-crash-fallback] [--hash-changes] [--parallel K] [--clear-stale-lock]
                       [--lab DIR] [--json]

  First run of a VM: a full backup. Then RCT incremental: only what changed since the last point.
  --consistency application   ask the guest for application consistency (default); if it cannot
                              give it, fall back to crash consistency with a warning, unless
                              --no-crash-fallback, which makes the backup fail instead
  --hash-changes              when RCT cannot be used (configuration version 5.0, VHD disks, a lost
                              reference point), store only the blocks whose hashes changed since the
                              last point instead of a full copy (reads the whole disk either way)
  --parallel K                back up at most K VMs at once (default 2); one VM's failure does not stop the others
`;

/** `hvbackup backup`: back up one or more VMs into a repository. */
export async function backupCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, {
    values: ["vm", "repo", "consistency", "parallel", "lab"],
    flags: ["full", "json", "no-crash-fallback", "hash-changes", "clear-stale-lock", "help"],
  });
  if (args.flags.has("help")) {
    io.stdout(BACKUP_USAGE);
    return 0;
  }
  const out = eventOutput(io, args.flags.has("json"));
  const vms = args.options.get("vm") ?? [];
  if (vms.length === 0) throw new UsageError(`Missing required option --vm\n${BACKUP_USAGE}`);
  const repo = new Repository(requireOption(args, "repo"));
  const consistency = optionValue(args, "consistency") ?? "application";
  if (consistency !== "application" && consistency !== "crash") throw new UsageError(`--consistency must be 'application' or 'crash', got '${consistency}'`);
  const parallelText = optionValue(args, "parallel");
  const parallel = parallelText === undefined ? 2 : parseInteger(parallelText, "--parallel");
  if (parallel < 1) throw new UsageError("--parallel must be at least 1");
  const host = await openHost(labDirFrom(args));
  const options = {
    full: args.flags.has("full"),
    consistency: consistency as "application" | "crash",
    fallbackToCrash: !args.flags.has("no-crash-fallback"),
    hashChangeDetection: args.flags.has("hash-changes"),
    clearStaleLock: args.flags.has("clear-stale-lock"),
  };

  const results: Array<{ vm: string; ok: true; result: BackupResult } | { vm: string; ok: false; error: unknown }> = [];
  const queue = [...vms];
  const worker = async (): Promise<void> => {
    for (let vm = queue.shift(); vm !== undefined; vm = queue.shift()) {
      try {
        results.push({ vm, ok: true, result: await backupVm(host, repo, vm, options, out) });
      } catch (e) {
        results.push({ vm, ok: false, error: e });
        if (vms.length > 1) out.warning(`Backup of '${vm}' failed: ${(e as Error).message}`, "BackupFailed");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, vms.length) }, worker));

  const failed = results.filter((r) => !r.ok);
  if (vms.length === 1 && failed.length === 1) return out.error((failed[0] as { error: unknown }).error);
  const ok = results.filter((r): r is { vm: string; ok: true; result: BackupResult } => r.ok);
  const data = vms.length === 1 ? pointSummary(ok[0]!.result) : { results: results.map((r) => (r.ok ? { vm: r.vm, ok: true, point: pointSummary(r.result) } : failedEntry(r.vm, r.error))) };
  const human = ok.map((r) => `${r.result.vmName}: ${r.result.point.kind} backup ${r.result.point.id} (${r.result.point.consistency}-consistent), ${formatBytes(r.result.point.sizeBytes)} added`).concat(failed.map((f) => `${f.vm}: FAILED: ${(f as { error: Error }).error.message}`)).join("\n");
  out.result(data, human);
  return failed.length > 0 ? 1 : 0;
}

/** The restore-point record as `list --json` and `backup --json` show it. */
export function pointSummary(r: BackupResult): Record<string, unknown> {
  const p = r.point;
  return { id: p.id, vmName: r.vmName, vmId: r.vmId, time: p.time, kind: p.kind, consistency: p.consistency, sizeBytes: p.sizeBytes, parentId: p.parentId, disks: p.disks, warnings: r.warnings };
}

/** A failed VM in a multi-VM result: the message plus the error's code and category, so the module can raise the right ErrorRecord. */
function failedEntry(vm: string, error: unknown): Record<string, unknown> {
  const e = toHvbError(error);
  return { vm, ok: false, error: e.message, code: e.code, category: e.category };
}
