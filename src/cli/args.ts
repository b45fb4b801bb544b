import { type ParseArgsConfig, parseArgs as nodeParseArgs } from "node:util";
import { UsageError } from "../base/mod";

/** A parsed command line: positional words and `--name value` / `--flag` options. */
export interface ParsedArgs {
  positionals: string[];
  /** Every value given for an option, in order (options may repeat, e.g. `--disk`). */
  options: Map<string, string[]>;
  flags: Set<string>;
}

/** What a command accepts: options that take a value and options that are plain flags. */
export interface ArgSpec {
  values?: readonly string[];
  flags?: readonly string[];
}

/**
 * Parses `argv` against `spec` with node's util.parseArgs in strict mode. Unknown options and
 * missing values are usage errors naming the option, so a typo never silently changes what a
 * command does. Every command also takes `--help` / `-h` (the `help` flag).
 *
 * @example
 * parseArgs(["a.vhdx", "--json"], { flags: ["json"] }).flags.has("json"); // true
 */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const options: ParseArgsConfig["options"] = { help: { type: "boolean", short: "h" } };
  for (const name of spec.flags ?? []) if (name !== "help") options[name] = { type: "boolean" };
  // Values may repeat (`--vm a --vm b`); optionValue rejects repeats where one is meant.
  for (const name of spec.values ?? []) options[name] = { type: "string", multiple: true };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw usageErrorFrom(e);
  }
  // Help wins over every other check (a missing required option included); a command that
  // lists `help` among its flags answers it itself.
  if (parsed.values["help"] === true && !(spec.flags ?? []).includes("help")) throw new HelpRequested();
  const out: ParsedArgs = { positionals: [...parsed.positionals], options: new Map(), flags: new Set() };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === true) out.flags.add(name);
    else if (Array.isArray(value)) out.options.set(name, value.map(String));
  }
  return out;
}

/**
 * Thrown by {@link parseArgs} when the line asks for `--help`: main.ts prints the command's usage
 * (usage.ts) and exits 0.
 */
export class HelpRequested extends Error {
  constructor() {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** Turns util.parseArgs's error into the one-line usage error the command line has always given. */
function usageErrorFrom(e: unknown): unknown {
  const err = e as { code?: string; message?: string };
  const name = /'(--?[^' <=]+)/.exec(err.message ?? "")?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(`Unknown option ${name ?? "(unknown)"}`);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/does not take an argument/.test(err.message ?? "")) return new UsageError(`Option ${name} takes no value`);
      // `--vm --json`: node calls a value that looks like an option ambiguous; the old parser, and the README, call it missing.
      return new UsageError(`Option ${name} needs a value${/ambiguous/.test(err.message ?? "") ? " (a value starting with '-' must be given as --name=value)" : ""}`);
    default:
      return new UsageError(err.message ?? String(e));
  }
}

/** The single value of an option, or undefined; a repeated option is a usage error. */
export function optionValue(args: ParsedArgs, name: string): string | undefined {
  const list = args.options.get(name);
  if (!list) return undefined;
  if (list.length > 1) throw new UsageError(`Option --${name} may be given only once`);
  return list[0];
}

/** The value of a required option. */
export function requireOption(args: ParsedArgs, name: string): string {
  const v = optionValue(args, name);
  if (v === undefined) throw new UsageError(`Missing required option --${name}`);
  return v;
}

/** Parses a non-negative integer option or positional, naming it in the error. */
export function parseInteger(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a non-negative whole number, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} is too large: '${text}'`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/**
 * Parses a size such as `64MiB`, `8GiB`, `512` (bytes). Units are binary (1 MiB = 1048576),
 * as Hyper-V's own cmdlets treat `64MB`.
 *
 * @example
 * parseSize("64MiB", "--disk"); // 67108864
 */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`${what} must be a size like 64MiB or 8GiB, got '${text}'`);
  }
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} is too large: '${text}'`);
  return n;
}
