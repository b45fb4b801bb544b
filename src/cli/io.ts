/** Where a command writes: kept apart from `process` so tests can run commands in-process. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The process's real standard streams. */
export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A command: takes the words after its name, returns the exit code. */
export type Command = (argv: string[], io: CommandIo) => Promise<number> | number;
