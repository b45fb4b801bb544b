import { dropBrokenSets, pruneGroup, pruneVm } from "../../engine/mod";
import { Repository } from "../../repository/mod";
import { UsageError } from "../../base/mod";
import { optionValue, parseArgs, parseInteger, requireOption } from "../args";
import { eventOutput } from "../event_output";
import type { CommandIo } from "../io";

/**
 * `hvbackup prune --repo R --vm N (--keep K [--keep-since TIME] | --point ID) [--json]`: keep the
 * newest K points and/or every point taken at or after TIME (at least one of the two; the newest
 * is always kept), or remove the one point ID (any but the newest: merged into the next one).
 * With `--group G` instead of `--vm`, the same for the group's backup sets, each removed as one.
 */
export function pruneCommand(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["repo", "vm", "group", "keep", "keep-since", "point", "lab"], flags: ["json", "clear-stale-lock"] });
  const out = eventOutput(io, args.flags.has("json"));
  const keepText = optionValue(args, "keep");
  const sinceText = optionValue(args, "keep-since");
  const pointText = optionValue(args, "point");
  if (pointText !== undefined && (keepText !== undefined || sinceText !== undefined)) throw new UsageError("prune takes --point ID, or --keep K and/or --keep-since TIME, not both");
  if (keepText === undefined && sinceText === undefined && pointText === undefined) throw new UsageError("prune needs --keep K and/or --keep-since TIME, or --point ID");
  const since = sinceText === undefined ? undefined : new Date(sinceText);
  if (since && Number.isNaN(since.getTime())) throw new UsageError(`--keep-since must be a time such as 2026-11-01 or 2026-11-01T00:00:00Z, got '${sinceText}'`);
  const keep = keepText === undefined ? 1 : parseInteger(keepText, "--keep");
  const repo = new Repository(requireOption(args, "repo"));
  const options = { clearStaleLock: args.flags.has("clear-stale-lock"), ...(since ? { keepSince: since } : {}) };
  const group = optionValue(args, "group");
  if (group !== undefined) {
    if (args.options.has("vm")) throw new UsageError("prune takes --vm or --group, not both");
    if (pointText !== undefined) throw new UsageError("prune --point takes --vm, not --group (a backup set is removed whole by --keep/--keep-since)");
    const r = pruneGroup(repo, group, keep, out, options);
    out.result(r, r.removedSets.length === 0 ? `${r.groupName}: nothing to prune (${r.keptSets.length} set(s))` : `${r.groupName}: removed ${r.removedSets.length} set(s) whole; ${r.keptSets.length} kept`);
    return 0;
  }
  const result = pruneVm(repo, requireOption(args, "vm"), keep, out, { ...options, ...(pointText !== undefined ? { pointId: pointText } : {}) });
  // A set that lost a member's point is no longer a set (restored whole or not at all).
  dropBrokenSets(repo, out);
  out.result(result, result.removed.length === 0 ? `${result.vmName}: nothing to prune (${result.kept.length} point(s))` : `${result.vmName}: folded ${result.removed.length} point(s) into newer ones; ${result.kept.length} kept`);
  return 0;
}
