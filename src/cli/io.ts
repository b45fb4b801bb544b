import type { EventOutput } from "./event_output";

/** Where a command writes: kept apart from `process` so tests can run commands in-process. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * Set under the global `--events` flag: the one event stream of the invocation. Commands
   * report their result through it (see event_output.ts); their `stdout` then goes to stderr.
   */
  readonly events?: EventOutput;
}

/** The process's real standard streams. */
export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A command: takes the words after its name, returns the exit code. */
export type Command = (argv: string[], io: CommandIo) => Promise<number> | number;
