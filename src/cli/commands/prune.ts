import { pruneVm } from "../../engine/prune";
import { Repository } from "../../repository/repository";
import { parseArgs, parseInteger, requireOption } from "../args";
import { EventOutput } from "../event_output";
import type { CommandIo } from "../io";

/** `hvbackup prune --repo R --vm N --keep K [--json]`: keep the newest K points. */
export function pruneCommand(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["repo", "vm", "keep", "lab"], flags: ["json", "clear-stale-lock"] });
  const out = new EventOutput(io, args.flags.has("json"));
  const result = pruneVm(new Repository(requireOption(args, "repo")), requireOption(args, "vm"), parseInteger(requireOption(args, "keep"), "--keep"), out, { clearStaleLock: args.flags.has("clear-stale-lock") });
  out.result(result, result.removed.length === 0 ? `${result.vmName}: nothing to prune (${result.kept.length} point(s))` : `${result.vmName}: folded ${result.removed.length} point(s) into newer ones; ${result.kept.length} kept`);
  return 0;
}
