import { pathForHost, restoreGroup, restoreVmOrMember } from "../../engine/mod";
import { hostPathFacts } from "../host_paths";
import { UsageError } from "../../base/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { labDirFrom, openHost } from "../host";
import { openCluster, openHostOfVm } from "../fleet";
import { addVmToCluster } from "../../hyperv/mod";
import type { CommandIo } from "../io";

/**
 * `hvbackup restore --repo R --vm N [--point ID|latest|TIME] [--new-id] [--name NEWNAME]
 * [--dest DIR] [--force] [--clear-stale-lock] [--no-cluster-role] [--json]`, or a whole backup set:
 * `--group NAME [--set ID|latest|TIME] [--vm N ...]` (each member into `<DIR>/<member name>`).
 */
export async function restoreCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, { values: ["repo", "vm", "point", "name", "dest", "lab", "group", "set"], flags: ["new-id", "force", "json", "clear-stale-lock", "no-cluster-role"] });
  const out = eventOutput(io, args.flags.has("json"));
  // VMMS imports from the destination and opens the restored disks: paths on a mapped drive
  // become their share's (host_paths.ts).
  const facts = await hostPathFacts(labDirFrom(args));
  const repo = new Repository(pathForHost(requireOption(args, "repo"), facts, "repository", out));
  const destText = optionValue(args, "dest");
  const destForHost = destText === undefined ? undefined : pathForHost(destText, facts, "restore destination", out);
  const group = optionValue(args, "group");
  if (group !== undefined) {
    if (args.options.has("point") || args.options.has("name")) throw new UsageError("--point and --name are for one VM; with --group choose the set with --set");
    const host = await openHost(labDirFrom(args));
    const dest = destForHost;
    const set = optionValue(args, "set");
    const members = args.options.get("vm");
    const r = await restoreGroup(host, repo, group, {
      ...(set !== undefined ? { set } : {}),
      ...(dest !== undefined ? { destination: dest } : {}),
      ...(members !== undefined ? { members } : {}),
      newId: args.flags.has("new-id"),
      force: args.flags.has("force"),
      clearStaleLock: args.flags.has("clear-stale-lock"),
    }, out);
    out.result(r, [...r.members.map((m) => `Restored '${m.vmName}' (${m.vmId}) from ${m.pointId} of set ${r.setId} into ${m.destination}: ${m.disks.length} disk(s), every block checked`), ...r.sharedDisks.map(sharedLine)].join("\n"));
    return 0;
  }
  if (args.options.has("set")) throw new UsageError("--set chooses a backup set of a group: give --group too");
  const vm = requireOption(args, "vm");
  // On a cluster: the node running the VM (a --force restore replaces it there).
  const host = await openHostOfVm(labDirFrom(args), vm);
  const point = optionValue(args, "point");
  const name = optionValue(args, "name");
  const dest = destForHost;
  // A member of a set with shared disks comes back with them (restore_group.ts restoreVmOrMember).
  const r = await restoreVmOrMember(host, repo, vm, {
    ...(point !== undefined ? { point } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(dest !== undefined ? { destination: dest } : {}),
    newId: args.flags.has("new-id"),
    force: args.flags.has("force"),
    clearStaleLock: args.flags.has("clear-stale-lock"),
  }, out);
  // On a cluster the restored VM becomes highly available again (its cluster role), unless asked not to.
  const cluster = args.flags.has("no-cluster-role") ? undefined : await openCluster(labDirFrom(args));
  if (cluster) await addVmToCluster(cluster.session, r.vmId);
  const role = cluster ? "; highly available again (cluster role added)" : "";
  // What was moved aside holds everything the replaced VM wrote since its last backup: say where.
  const aside = r.replacedFilesMovedTo ? `\nThe replaced VM's configuration export and disk files were moved to '${r.replacedFilesMovedTo}'` : "";
  const sharedText = r.sharedDisks.map((d) => `\n${sharedLine(d)}`).join("");
  out.result({ ...r, clusterRole: cluster !== undefined }, `Restored '${r.vmName}' (${r.vmId}) from ${r.pointId} (${r.pointTime}) into ${r.destination}: ${r.disks.length} disk(s), every block checked${role}${aside}${sharedText}`);
  return 0;
}

function sharedLine(d: { sourcePath: string; path: string }): string {
  return `Restored shared disk '${d.sourcePath}' as the new VHD Set '${d.path}' (attached to the restored members)`;
}
