import { cleanupVm } from "../../engine/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { labDirFrom } from "../host";
import { openHostOfVm } from "../fleet";
import type { CommandIo } from "../io";

/** `hvbackup cleanup --vm N [--repo R] [--what-if] [--clear-stale-lock] [--json]`: remove lingering checkpoints and our stale reference points. */
export async function cleanupCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, { values: ["vm", "repo", "lab"], flags: ["json", "what-if", "clear-stale-lock"] });
  const out = eventOutput(io, args.flags.has("json"));
  const repoPath = optionValue(args, "repo");
  const host = await openHostOfVm(labDirFrom(args), requireOption(args, "vm"));
  const r = await cleanupVm(host, requireOption(args, "vm"), repoPath === undefined ? undefined : new Repository(repoPath), out, { dryRun: args.flags.has("what-if"), clearStaleLock: args.flags.has("clear-stale-lock") });
  out.result(r, `${r.vmName}: ${r.dryRun ? "would remove" : "removed"} ${r.removedCheckpoints.length} recovery checkpoint(s) and ${r.removedReferencePoints.length} reference point(s); kept ${r.keptReferencePoints.length} reference point(s)`);
  return 0;
}
