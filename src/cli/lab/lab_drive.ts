/** `hvbackup lab drive map`: a drive letter mapped in the caller's logon session (issue 13 A9). */
import { UsageError } from "../../base/mod";
import { mutateLab } from "../../lab/mod";
import { optionValue, parseArgs, requireOption } from "../args";
import { emitResult } from "../event_output";
import type { CommandIo } from "../io";

export const LAB_DRIVE_USAGE = "Usage: hvbackup lab drive map --lab DIR --letter Z: (--to SHARE | --unknown-share)";

/**
 * Declares `--letter` a mapped network drive: Win32_LogicalDisk shows it with DriveType 4 and
 * ProviderName SHARE (absent with --unknown-share, as for a disconnected mapping); VMMS methods
 * fail on paths that start with it. In the lab SHARE is the folder that stands for the share
 * (the lab has no network), as a volume's folder stands for its drive root.
 */
export function labDrive(argv: string[], io: CommandIo): number {
  const [sub, ...rest] = argv;
  if (sub !== "map") throw new UsageError(LAB_DRIVE_USAGE);
  const a = parseArgs(rest, { values: ["lab", "letter", "to"], flags: ["unknown-share"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'\n${LAB_DRIVE_USAGE}`);
  const dir = requireOption(a, "lab");
  const m = /^([A-Za-z]):?$/.exec(requireOption(a, "letter"));
  if (!m) throw new UsageError(`--letter must be a drive letter such as Z:, got '${optionValue(a, "letter")}'`);
  const letter = `${m[1]!.toUpperCase()}:`;
  const target = a.flags.has("unknown-share") ? "" : requireOption(a, "to");
  mutateLab(dir, (state) => {
    state.mappedDrives = [...(state.mappedDrives ?? []).filter((d) => d.letter !== letter), { letter, target }];
  });
  emitResult(io, { letter, target }, () => io.stdout(`Mapped ${letter} to ${target || "(a share the host does not name)"}\n`));
  return 0;
}
