/** `hvbackup lab group new`: a VM group (Msvm_VirtualSystemCollection) of VMs already in the lab. */
import { UsageError } from "../../base/mod";
import { createGroup, mutateLab } from "../../lab/mod";
import { parseArgs, requireOption } from "../args";
import { emitResult } from "../event_output";
import type { CommandIo } from "../io";

export const LAB_GROUP_USAGE = "Usage: hvbackup lab group new --lab DIR --name NAME --vm A [--vm B ...]";

export function labGroup(argv: string[], io: CommandIo): number {
  const [sub, ...rest] = argv;
  if (sub !== "new") throw new UsageError(LAB_GROUP_USAGE);
  const a = parseArgs(rest, { values: ["lab", "name", "vm"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'\n${LAB_GROUP_USAGE}`);
  const dir = requireOption(a, "lab");
  const name = requireOption(a, "name");
  const vms = a.options.get("vm") ?? [];
  if (vms.length === 0) throw new UsageError(`Missing required option --vm (give it once per member)\n${LAB_GROUP_USAGE}`);
  const summary = mutateLab(dir, (state) => {
    const g = createGroup(state, name, vms, Date.now());
    return { name: g.name, id: g.id, members: g.vmIds.map((id) => state.vms.find((v) => v.id === id)!.name) };
  });
  emitResult(io, summary, () => io.stdout(`Created group '${summary.name}' (${summary.id}) of ${summary.members.join(", ")}\n`));
  return 0;
}
