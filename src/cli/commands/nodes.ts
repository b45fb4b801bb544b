import { resolveSelection } from "../../engine/mod";
import { toHvbError } from "../../base/mod";
import { parseArgs } from "../args";
import { eventOutput } from "../event_output";
import { openFleet } from "../fleet";
import { labDirFrom } from "../host";
import type { CommandIo } from "../io";

export const NODES_USAGE = `Usage: hvbackup nodes (--vm N|PATTERN [--vm ...] | --all) [--lab DIR] [--json]

  Which node of a failover cluster runs each VM now (the owner of its cluster role, else the node
  that shows it), as backup would find it. The PowerShell module uses it to run the backup of each
  node's VMs on that node (PowerShell remoting). On a standalone host every VM is on 'localhost'
  and clustered is false. A name that matches no VM is listed under failures, not an error.
`;

/** `hvbackup nodes`: the owner node of each selected VM. */
export async function nodesCommand(argv: string[], io: CommandIo): Promise<number> {
  const args = parseArgs(argv, { values: ["vm", "lab"], flags: ["all", "json"] });
  const out = eventOutput(io, args.flags.has("json"));
  const names = args.options.get("vm") ?? [];
  const all = args.flags.has("all");
  const fleet = await openFleet(labDirFrom(args));
  const selection = await resolveSelection(fleet, { all, names });
  const vms = selection.vms.map((s) => ({ name: s.vm.name, id: s.vm.id, node: s.node }));
  const failures = selection.failures.map((f) => ({ name: f.name, error: toHvbError(f.error).message }));
  const human = [...vms.map((v) => `${v.name} (${v.id}): ${v.node}`), ...failures.map((f) => `${f.name}: ${f.error}`)].join("\n");
  out.result({ clustered: fleet.clustered, nodes: fleet.nodes, vms, failures }, human);
  return 0;
}
