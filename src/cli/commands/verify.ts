import { verifyRepository, verifySets } from "../../engine/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { eventOutput } from "../event_output";
import type { CommandIo } from "../io";

/**
 * `hvbackup verify --repo R [--vm N] [--deep] [--json]`: exit 1 when anything is damaged or a VM
 * could not be verified (its lock held by a running operation).
 */
export function verifyCommand(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["repo", "vm", "lab"], flags: ["deep", "json"] });
  const out = eventOutput(io, args.flags.has("json"));
  const repo = new Repository(requireOption(args, "repo"));
  const vm = optionValue(args, "vm");
  const report = verifyRepository(repo, vm, args.flags.has("deep"), out);
  // Backup sets (VM groups) must be whole: every member's point there and sound.
  if (vm === undefined) {
    const sets = verifySets(repo, report.problems);
    report.problems.push(...sets.problems);
    report.damagedPoints.push(...[...new Set(sets.problems.map((p) => `${p.vmName}/${p.pointId}`))]);
    report.ok = report.problems.length === 0 && report.skipped.length === 0;
  }
  const skipped = report.skipped.map((x) => `NOT VERIFIED: ${x.vmName}: ${x.reason}`);
  const human = report.problems.length === 0
    ? [`${report.ok ? "OK" : "INCOMPLETE"}: ${report.pointsChecked} restore point(s) verified${report.deep ? " (every block read and checked)" : ""}`, ...skipped].join("\n")
    : [`DAMAGED: ${report.damagedPoints.length} restore point(s) cannot be restored as recorded: ${report.damagedPoints.join(", ")}`, ...report.problems.map((p) => `  ${p.vmName} ${p.pointId}${p.disk !== null ? ` disk ${p.disk}` : ""}: ${p.message}`), ...skipped].join("\n");
  out.result(report, human);
  return report.ok ? 0 : 1;
}
