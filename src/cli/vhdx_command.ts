import { UsageError } from "../base/mod";
import { convertDisk } from "../disks/mod";
import { checkVhdx } from "../vhdx/mod";
import { VhdxImage } from "../vhdx/mod";
import { type VhdxOpenOptions } from "../vhdx/mod";
import { optionValue, parseArgs, parseInteger } from "./args";
import { formatBytes, terminalProgress } from "./format";
import { emitResult } from "./event_output";
import type { CommandIo } from "./io";

export const USAGE = `Usage:
  hvbackup vhdx info FILE [--parent P] [--json]
  hvbackup vhdx check FILE [--parent P] [--json]
  hvbackup vhdx convert SRC DST [--parent P] [--block-size BYTES] [--logical-sector 512|4096] [--force]

  info      type, sizes, identifiers, parent locator and chain of a VHDX file
  check     structural validation; exit 0 when the file and its chain are valid
  convert   SRC ending in .vhdx/.avhdx is read as VHDX (chain resolved), anything else as raw.
            DST ending in .vhdx/.avhdx is written as a dynamic VHDX, or with --parent as a
            differencing VHDX holding only the sectors that differ from P; anything else is
            written as raw (sparse where zero).
  --parent  for info/check: use P as the parent instead of the parent locator
`;

/** `hvbackup vhdx …`: inspect, check and convert VHDX files. */
export async function vhdxCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "info":
      return info(rest, io);
    case "check":
      return check(rest, io);
    case "convert":
      return convert(rest, io);
    case undefined:
    case "--help":
    case "-h":
      io.stdout(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown vhdx command '${sub}'\n${USAGE}`);
  }
}

/** What `vhdx info` reports about a file (its `--json` object and its `--events` result). */
interface InfoData {
  path: string;
  format: "vhdx";
  type: string;
  virtualSize: number;
  blockSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  virtualDiskId: string;
  dataWriteGuid: string;
  fileWriteGuid: string;
  logReplayed: boolean;
  parentLocator: Record<string, string> | null;
  chain: { path: string; type: string; dataWriteGuid: string }[];
  chainError?: string;
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}, got ${positionals.length}\n${USAGE}`);
  return positionals[0]!;
}

function info(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["parent"], flags: ["json"] });
  const file = onePositional(args.positionals, "FILE");
  const parent = optionValue(args, "parent");
  const opts: VhdxOpenOptions = parent !== undefined ? { parentPath: parent } : {};
  let image: VhdxImage;
  let chainError: string | undefined;
  try {
    image = VhdxImage.open(file, opts);
  } catch (e) {
    // Still describe the file itself when only its parent cannot be opened.
    const alone = VhdxImage.open(file, { noParent: true });
    if (alone.type !== "differencing") {
      alone.close();
      throw e;
    }
    image = alone;
    chainError = e instanceof Error ? e.message : String(e);
  }
  try {
    const data: InfoData = {
      path: file,
      format: "vhdx",
      type: image.type,
      virtualSize: image.virtualSize,
      blockSize: image.blockSize,
      logicalSectorSize: image.logicalSectorSize,
      physicalSectorSize: image.physicalSectorSize,
      virtualDiskId: image.virtualDiskId,
      dataWriteGuid: image.dataWriteGuid,
      fileWriteGuid: image.fileWriteGuid,
      logReplayed: image.replayedLog,
      parentLocator: image.parentLocator ? { ...image.parentLocator } : null,
      chain: image.chain().map((d) => ({ path: d.path, type: d.type, dataWriteGuid: d.dataWriteGuid })),
      ...(chainError !== undefined ? { chainError } : {}),
    };
    emitResult(io, data, () => printInfo(data, args.flags.has("json"), io));
    if (chainError !== undefined) {
      io.stderr(`hvbackup: ${chainError}\n`);
      return 1;
    }
    return 0;
  } finally {
    image.close();
  }
}

/** The human (or `--json`, one pretty object) form of `vhdx info`. */
function printInfo(data: InfoData, json: boolean, io: CommandIo): void {
  if (json) {
    io.stdout(`${JSON.stringify(data, null, 2)}\n`);
  } else {
    const lines = [
      `File:              ${data.path}`,
      `Format:            VHDX`,
      `Type:              ${data.type}`,
      `Virtual size:      ${formatBytes(data.virtualSize)} (${data.virtualSize} bytes)`,
      `Block size:        ${formatBytes(data.blockSize)}`,
      `Sector sizes:      ${data.logicalSectorSize} logical, ${data.physicalSectorSize} physical`,
      `Virtual disk id:   ${data.virtualDiskId}`,
      `DataWriteGuid:     ${data.dataWriteGuid}`,
      `FileWriteGuid:     ${data.fileWriteGuid}`,
    ];
    if (data.logReplayed) lines.push(`Log:               replayed in memory (the file was not closed cleanly)`);
    if (data.parentLocator) {
      lines.push(`Parent locator:`);
      for (const [k, v] of Object.entries(data.parentLocator)) lines.push(`  ${k.padEnd(20)} ${v}`);
    }
    lines.push(`Chain:`);
    data.chain.forEach((c, i) => lines.push(`  ${"  ".repeat(i)}${c.path} (${c.type})`));
    io.stdout(`${lines.join("\n")}\n`);
  }
}

function check(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["parent"], flags: ["json"] });
  const file = onePositional(args.positionals, "FILE");
  const parent = optionValue(args, "parent");
  const report = checkVhdx(file, parent !== undefined ? { parentPath: parent } : {});
  if (io.events) io.events.result(report, "");
  else if (args.flags.has("json")) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.ok) io.stdout(`${file}: OK\n`);
  else for (const p of report.problems) io.stderr(`hvbackup: ${p}\n`);
  return report.ok ? 0 : 1;
}

function convert(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["parent", "block-size", "logical-sector"], flags: ["force", "json"] });
  if (args.positionals.length !== 2) throw new UsageError(`expected SRC and DST, got ${args.positionals.length} arguments\n${USAGE}`);
  const [src, dst] = args.positionals as [string, string];
  const bs = optionValue(args, "block-size");
  const ls = optionValue(args, "logical-sector");
  let logicalSectorSize: 512 | 4096 | undefined;
  if (ls !== undefined) {
    if (ls !== "512" && ls !== "4096") throw new UsageError(`--logical-sector must be 512 or 4096, got '${ls}'`);
    logicalSectorSize = Number(ls) as 512 | 4096;
  }
  const parent = optionValue(args, "parent");
  const progress = terminalProgress(`Converting ${src}`);
  const result = convertDisk(src, dst, {
    ...(parent !== undefined ? { parentPath: parent } : {}),
    ...(bs !== undefined ? { blockSize: parseInteger(bs, "--block-size") } : {}),
    ...(logicalSectorSize !== undefined ? { logicalSectorSize } : {}),
    force: args.flags.has("force"),
    onProgress: (d, t) => progress.update(d, t),
  });
  progress.end();
  if (io.events) io.events.result(result, "");
  else if (args.flags.has("json")) io.stdout(`${JSON.stringify(result)}\n`);
  else io.stdout(`Converted ${src} -> ${dst}: ${formatBytes(result.virtualSize)} virtual, ${formatBytes(result.bytesRead)} read, ${formatBytes(result.bytesWritten)} written\n`);
  return 0;
}
