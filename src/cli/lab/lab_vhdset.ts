/** `hvbackup lab vhdset new`: a VHD Set (.vhds) guest cluster VMs can share (`lab vm new --shared-disk`). */
import { UsageError } from "../../base/mod";
import { createVhdSet, mutateLab } from "../../lab/mod";
import { parseArgs, parseSize, requireOption } from "../args";
import { emitResult } from "../event_output";
import type { CommandIo } from "../io";

export const LAB_VHDSET_USAGE = "Usage: hvbackup lab vhdset new --lab DIR --path FILE.vhds --size SIZE";

export function labVhdset(argv: string[], io: CommandIo): number {
  const [sub, ...rest] = argv;
  if (sub !== "new") throw new UsageError(LAB_VHDSET_USAGE);
  const a = parseArgs(rest, { values: ["lab", "path", "size"] });
  if (a.positionals.length > 0) throw new UsageError(`Unexpected argument '${a.positionals[0]}'\n${LAB_VHDSET_USAGE}`);
  const dir = requireOption(a, "lab");
  const file = requireOption(a, "path");
  const size = parseSize(requireOption(a, "size"), "--size");
  if (!/\.vhds$/i.test(file)) throw new UsageError(`--path must name a .vhds file, got '${file}'`);
  if (size <= 0 || size % (1024 * 1024) !== 0) throw new UsageError(`--size must be whole MiB, got ${size} bytes`);
  const summary = mutateLab(dir, (state) => {
    const set = createVhdSet(state, file, size, Date.now());
    return { path: set.path, id: set.id, size: set.virtualSize };
  });
  emitResult(io, summary, () => io.stdout(`Created VHD Set '${summary.path}' (${summary.size} bytes)\n`));
  return 0;
}
