import { HvbError, UsageError, isHvbError } from "../errors/hvb_error";
import { type Command, type CommandIo, processIo } from "./io";
import { vhdxCommand } from "./vhdx_command";
import { demoCommand } from "./demo_command";

/** Top-level commands of `hvbackup`; each lives in its own file. */
const COMMANDS: Record<string, Command> = {
  vhdx: vhdxCommand,
  demo: demoCommand,
};

const USAGE = `Usage: hvbackup <command> [options]

Commands:
  vhdx info|check|convert   inspect, validate and convert VHDX files
  demo                      show the VHDX tools on a built-in example

Run 'hvbackup <command> --help' for the options of a command.
Exit codes: 0 success, 1 failure or bad input, 2 usage error.
`;

/**
 * Runs one `hvbackup` invocation and returns its exit code: 0 success, 1 failure or bad
 * input (one message on stderr, no stack trace), 2 usage error.
 */
export async function runCli(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`hvbackup: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

/** Turns an exception into one line on stderr and an exit code. */
export function reportError(e: unknown, io: CommandIo): number {
  if (e instanceof UsageError) {
    io.stderr(`hvbackup: ${e.message}\n`);
    return 2;
  }
  if (isHvbError(e)) {
    io.stderr(`hvbackup: ${e.message}\n`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string" && typeof err.message === "string") {
    // An operating-system error (ENOENT, ENOSPC, EACCES…): its message already names the path.
    io.stderr(`hvbackup: ${err.message}\n`);
    return 1;
  }
  if (e instanceof RangeError && /Array buffer allocation failed|Invalid array length/.test(e.message)) {
    io.stderr(`hvbackup: Cannot allocate memory: ${e.message}\n`);
    return 1;
  }
  io.stderr(`hvbackup: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env["HVBACKUP_DEBUG"] && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 1;
}

// Entry point when bundled: run with the process's arguments and exit with the code.
if (typeof require !== "undefined" && require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportError(e instanceof HvbError ? e : e, processIo);
    },
  );
}
