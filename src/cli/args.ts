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
 * Parses `argv` against `spec`. Unknown options and missing values are usage errors, so a
 * typo never silently changes what a command does.
 *
 * @example
 * parseArgs(["a.vhdx", "--json"], { flags: ["json"] }).flags.has("json"); // true
 */
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith("--") || word.length === 2) {
      out.positionals.push(word);
      continue;
    }
    let name = word.slice(2);
    let inline: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (flags.has(name)) {
      if (inline !== undefined) throw new UsageError(`Option --${name} takes no value`);
      out.flags.add(name);
    } else if (values.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`Option --${name} needs a value`);
      const list = out.options.get(name) ?? [];
      list.push(value);
      out.options.set(name, list);
    } else {
      throw new UsageError(`Unknown option --${name}`);
    }
  }
  return out;
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
