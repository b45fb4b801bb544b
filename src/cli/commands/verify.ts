import { verifyRepository } from "../../engine/mod";
import { Repository } from "../../repository/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { eventOutput } from "../event_output";
import type { CommandIo } from "../io";

/** `hvbackup verify --repo R [--vm N] [--deep] [--json]`: exit 1 when anything is damaged. */
export function verifyCommand(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["repo", "vm", "lab"], flags: ["deep", "json"] });
  const out = eventOutput(io, args.flags.has("json"));
  const report = verifyRepository(new Repository(requireOption(args, "repo")), optionValue(args, "vm"), args.flags.has("deep"), out);
  const human = report.ok
    ? `OK: ${report.pointsChecked} restore point(s) verified${report.deep ? " (every block read and checked)" : ""}`
    : [`DAMAGED: ${report.damagedPoints.length} restore point(s) cannot be restored as recorded: ${report.damagedPoints.join(", ")}`, ...report.problems.map((p) => `  ${p.vmName} ${p.pointId}${p.disk !== null ? ` disk ${p.disk}` : ""}: ${p.message}`)].join("\n");
  out.result(report, human);
  return report.ok ? 0 : 1;
}
