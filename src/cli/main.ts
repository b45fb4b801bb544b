import { HvbError, UsageError, toHvbError } from "../base/mod";
import { HelpRequested } from "./args";
import { listenForStop } from "./control";
import { EventOutput } from "./event_output";
import { usageFor } from "./usage";
import { type Command, type CommandIo, processIo } from "./io";
import { vhdxCommand } from "./vhdx_command";
import { demoCommand } from "./demo_command";
import { labCommand } from "./lab_command";
import { backupCommand } from "./commands/backup";
import { cleanupCommand } from "./commands/cleanup";
import { exportDiskCommand } from "./commands/export_disk";
import { listCommand } from "./commands/list";
import { pruneCommand } from "./commands/prune";
import { readinessCommand } from "./commands/readiness";
import { doctorCommand } from "./commands/doctor";
import { nodesCommand } from "./commands/nodes";
import { restoreCommand } from "./commands/restore";
import { verifyCommand } from "./commands/verify";

/** Top-level commands of `hvbackup`; each lives in its own file. */
const COMMANDS: Record<string, Command> = {
  vhdx: vhdxCommand,
  demo: (argv, io) => demoCommand(argv, io, runCli),
  lab: labCommand,
  backup: backupCommand,
  list: listCommand,
  restore: restoreCommand,
  verify: verifyCommand,
  prune: pruneCommand,
  "export-disk": exportDiskCommand,
  cleanup: cleanupCommand,
  readiness: readinessCommand,
  doctor: doctorCommand,
  nodes: nodesCommand,
};

const USAGE = `Usage: hvbackup <command> [options]

Commands:
  backup      back up VMs into a repository (full first, then RCT incremental)
  list        restore points in a repository
  restore     restore a VM from a restore point (keep or renew its id)
  verify      check restore points (--deep reads every block against its hash)
  prune       keep the newest K points, merging older increments into the full
  export-disk one disk of one point as a standalone VHDX
  cleanup     remove lingering recovery checkpoints and stale reference points
  readiness   what the next backup of a VM will do, and why
  doctor      preflight checks of the host, its VMs and a repository (before trusting backups)
  nodes       which cluster node runs each VM (the module backs up each node's VMs there)
  lab         the lab host: an emulated Hyper-V host over real VHDX files
  vhdx info|check|convert   inspect, validate and convert VHDX files
  demo        back up and restore a VM on a freshly made lab host (--vhdx: the VHDX tools)

Every command that talks to a host takes --lab DIR (or HYPERVBACKUP_LAB=DIR) to use a lab
host; without either it uses the local Hyper-V host. --json prints line-delimited JSON events.
--events (any command, anywhere on the line): stdout carries only line-delimited JSON events,
ending in exactly one {"type":"result",...} or {"type":"error",...} line.
Run 'hvbackup <command> --help' for the options of a command.
Exit codes: 0 success, 1 failure or bad input, 2 usage error.
`;

/**
 * Runs one `hvbackup` invocation and returns its exit code: 0 success, 1 failure or bad
 * input (one message on stderr, no stack trace), 2 usage error.
 */
export async function runCli(argv: string[], io: CommandIo = processIo): Promise<number> {
  const words = argv.filter((w) => w !== "--events");
  if (words.length !== argv.length) return runWithEvents(words, io);
  // A nested run (the demo's steps) never inherits an outer run's event stream.
  return dispatch(words, io.events ? { stdout: (t) => io.stdout(t), stderr: (t) => io.stderr(t) } : io);
}

/**
 * `--events`: stdout carries only line-delimited JSON events (event_output.ts), ending in exactly
 * one `result` or `error` line; the command's human text goes to stderr. A command that ends
 * without reporting either gets one here: a `null` result on success, else an error carrying
 * the last message it wrote to stderr.
 */
async function runWithEvents(argv: string[], io: CommandIo): Promise<number> {
  const events = new EventOutput(io, true);
  let lastMessage: string | undefined;
  const stderr = (text: string): void => {
    const m = /^hvbackup: (.*)$/m.exec(text);
    if (m) lastMessage = m[1];
    io.stderr(text);
  };
  const commandIo: CommandIo = { stdout: stderr, stderr, events };
  let code: number;
  try {
    code = await dispatch(argv, commandIo);
  } catch (e) {
    return events.ended ? (e instanceof UsageError ? 2 : 1) : events.error(e);
  }
  if (!events.ended) {
    if (code === 0) events.result(null, "");
    else if (code === 2) events.error(new UsageError(lastMessage ?? "Usage error: run 'hvbackup --help'"));
    else events.error(new HvbError("InternalError", lastMessage ?? `hvbackup exited with ${code}`));
  }
  return code;
}

async function dispatch(argv: string[], io: CommandIo): Promise<number> {
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
    if (e instanceof HelpRequested) {
      io.stdout(usageFor(argv, USAGE));
      return 0;
    }
    if (io.events) return io.events.error(e);
    if (rest.includes("--json")) {
      // The PowerShell bridge reads failures as an error event on stdout (see event_output.ts).
      return new EventOutput(io, true).error(e);
    }
    return reportError(e, io);
  }
}

/** Turns an exception into one line on stderr and an exit code. */
export function reportError(e: unknown, io: CommandIo): number {
  const err = toHvbError(e);
  io.stderr(`hvbackup: ${err.message}\n`);
  if (err.code === "InternalError" && process.env["HVBACKUP_DEBUG"] && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return e instanceof UsageError ? 2 : 1;
}

/**
 * Node ends a process whose event loop has nothing left to do with exit code 0, even while the
 * command still awaits a promise nothing can settle any more (a wait no timer, file or worker
 * will end). A backup would then "succeed" with no result. Before such an exit, the unfinished
 * command becomes one error and exit code 1 instead.
 */
export function failIfExitingUnfinished(io: CommandIo): { settled(): void } {
  let done = false;
  const onBeforeExit = (): void => {
    if (done) return;
    done = true;
    process.exitCode = reportError(new HvbError("InternalError", "the command stopped before it finished: it was waiting for something that could no longer happen (no result was produced; run it again, and report this with HVBACKUP_DEBUG=1)"), io);
  };
  process.on("beforeExit", onBeforeExit);
  return {
    settled: () => {
      done = true;
      process.off("beforeExit", onBeforeExit);
    },
  };
}

// Entry point when bundled: run with the process's arguments and exit with the code.
if (typeof require !== "undefined" && require.main === module) {
  listenForStop();
  const guard = failIfExitingUnfinished(processIo);
  runCli(process.argv.slice(2)).then(
    (code) => {
      guard.settled();
      process.exitCode = code;
    },
    (e: unknown) => {
      guard.settled();
      process.exitCode = reportError(e, processIo);
    },
  );
}
