import { restoreVm } from "../../engine/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { labDirFrom, openHost } from "../host";
import type { CommandIo } from "../io";

/**
 * `hvbackup restore --repo R --vm N [--point ID|latest|TIME] [--new-id] [--name NEWNAME]
 * [--dest DIR] [--force] [--clear-stale-lock] [--json]`
 */
export async function restoreCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, { values: ["repo", "vm", "point", "name", "dest", "lab"], flags: ["new-id", "force", "json", "clear-stale-lock"] });
  const out = eventOutput(io, args.flags.has("json"));
  const repo = new Repository(requireOption(args, "repo"));
  const vm = requireOption(args, "vm");
  const host = await openHost(labDirFrom(args));
  const point = optionValue(args, "point");
  const name = optionValue(args, "name");
  const dest = optionValue(args, "dest");
  const r = await restoreVm(host, repo, vm, {
    ...(point !== undefined ? { point } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(dest !== undefined ? { destination: dest } : {}),
    newId: args.flags.has("new-id"),
    force: args.flags.has("force"),
    clearStaleLock: args.flags.has("clear-stale-lock"),
  }, out);
  out.result(r, `Restored '${r.vmName}' (${r.vmId}) from ${r.pointId} (${r.pointTime}) into ${r.destination}: ${r.disks.length} disk(s), every block checked`);
  return 0;
}
