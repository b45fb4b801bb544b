import { readiness } from "../../engine/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { labDirFrom } from "../host";
import { openHostOfVm } from "../fleet";
import type { CommandIo } from "../io";

/** `hvbackup readiness --vm N [--repo R] [--json]`: what the next backup will do, and why. */
export async function readinessCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, { values: ["vm", "repo", "lab"], flags: ["json", "hash-changes"] });
  const out = eventOutput(io, args.flags.has("json"));
  const vm = requireOption(args, "vm");
  const host = await openHostOfVm(labDirFrom(args), vm);
  const repoPath = optionValue(args, "repo");
  let catalog;
  let store;
  if (repoPath !== undefined) {
    const repo = new Repository(repoPath);
    const hostVm = await host.findVm(vm);
    store = repo.listVms().find((s) => s.readCatalog().vmId.toLowerCase() === hostVm.id.toLowerCase());
    catalog = store?.readCatalog();
  }
  // With the VM's folder, readiness also says when a job an earlier backup left running holds the next one back.
  const r = await readiness(host, vm, catalog, { hashChanges: args.flags.has("hash-changes"), ...(store ? { store } : {}) });
  const lines = [
    `${r.vmName} (${r.vmId}): ${r.state}, configuration version ${r.configVersion}, generation ${r.generation}`,
    ...(r.notReady ? [`Not ready: ${r.notReady.code}: ${r.notReady.message}`] : []),
    r.ready ? `Next backup: ${r.nextBackup}, expected ${r.expectedConsistency}-consistent` : `Next backup: none (${r.notReady?.code === "HostJobRunning" ? "a job on the host must end first" : "refused alone"})`,
    `Resilient Change Tracking: ${r.rct ? "yes" : `no — ${r.rctReason}`}`,
    ...r.disks.map((d) => `  disk ${d.index} ${d.path} (${d.format}): ${d.method}${d.reason ? ` — ${d.reason}` : ""}`),
    ...r.warnings.map((w) => `WARNING: ${w}`),
  ];
  out.result(r, lines.join("\n"));
  return 0;
}
