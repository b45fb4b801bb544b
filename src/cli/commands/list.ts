import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { formatBytes } from "../format";
import { emitResult } from "../event_output";
import type { CommandIo } from "../io";

/** `hvbackup list --repo R [--vm N] [--json]`: restore points, oldest first. */
export function listCommand(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["repo", "vm", "lab"], flags: ["json"] });
  const repo = new Repository(requireOption(args, "repo"));
  repo.requireExists();
  const vm = optionValue(args, "vm");
  const stores = vm === undefined ? repo.listVms() : [repo.findVm(vm)];
  const rows = stores.flatMap((s) => {
    const c = s.readCatalog();
    return c.points.map((p) => ({
      id: p.id,
      vmName: c.vmName,
      setId: p.setId ?? null,
      vmId: c.vmId,
      time: p.time,
      kind: p.kind,
      consistency: p.consistency,
      sizeBytes: p.sizeBytes,
      parentId: p.parentId,
      disks: p.disks.map((d) => ({ index: d.index, file: d.file, virtualSize: d.virtualSize, method: d.method, storedBytes: d.storedBytes })),
      hasReferencePoint: p.referencePoint !== null,
    }));
  });
  emitResult(io, rows, () => {
    if (args.flags.has("json")) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) io.stdout("No restore points.\n");
    else {
      const lines = rows.map((r) => `${r.vmName.padEnd(20)} ${r.id.padEnd(28)} ${r.kind.padEnd(12)} ${r.consistency.padEnd(12)} ${formatBytes(r.sizeBytes).padStart(10)}`);
      io.stdout(`${"VM".padEnd(20)} ${"Restore point".padEnd(28)} ${"Kind".padEnd(12)} ${"Consistency".padEnd(12)} ${"Size".padStart(10)}\n${lines.join("\n")}\n`);
    }
  });
  return 0;
}
