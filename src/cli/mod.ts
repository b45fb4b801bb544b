/**
 * The `hvbackup` command line: {@link runCli} runs one invocation and returns its exit code. The
 * bundle's entry point (build/bundle.mjs) runs it with the process's arguments.
 *
 * @module
 */
export { runCli, reportError } from "./main";
export type { Command, CommandIo } from "./io";
export type { EventOutput } from "./event_output";
