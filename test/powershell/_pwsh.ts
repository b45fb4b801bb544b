/**
 * Runs PowerShell scripts through build/pwsh for the module tests. Unless HVB_USE_REAL_PWSH is set,
 * the engine in build/PsHost (Microsoft.PowerShell.SDK 7.6.9) is used even where a real pwsh is
 * installed, so every machine runs the same engine (docs/powershell-host.md).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The pwsh stand-in under test. */
export const PWSH = join(ROOT, "build", "pwsh");
/** The module manifest. */
export const MANIFEST = join(ROOT, "HyperVBackup.psd1");
/** The bundled core the module runs. */
export const CLI_BUNDLE = join(ROOT, "module", "bin", "hvbackup.cjs");

/** What one run of build/pwsh produced. */
export interface PwshResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function pwshEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, HVB_USE_REAL_PWSH: process.env["HVB_USE_REAL_PWSH"] ?? "0", ...extra };
}

/** Runs build/pwsh with the given words, in `cwd`. */
export function runPwsh(args: string[], options: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): PwshResult {
  const result = spawnSync(PWSH, args, {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? "",
    encoding: "utf8",
    env: pwshEnv(options.env ?? {}),
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Writes `script` to a file in `dir` and runs it with -File, in `dir`. */
export function runScript(dir: string, script: string, args: string[] = [], env: Record<string, string> = {}): PwshResult {
  const file = join(dir, `script-${process.hrtime.bigint()}.ps1`);
  writeFileSync(file, script);
  return runPwsh(["-NoProfile", "-NonInteractive", "-File", file, ...args], { cwd: dir, env });
}

/** A fresh temporary directory; call the returned function to remove it. */
export function tempDir(prefix = "hvb-ps-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Builds what the tests need: the PowerShell host (first run of build/pwsh builds it, which can
 * take minutes on a fresh clone) and, if missing, the core bundle.
 */
export function prepare(): void {
  if (!existsSync(CLI_BUNDLE)) {
    const build = spawnSync(process.execPath, ["build/bundle.mjs"], { cwd: ROOT, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
  }
  const r = runPwsh(["-NoProfile", "-NonInteractive", "-Command", "exit 0"], { timeoutMs: 300_000 });
  if (r.status !== 0) throw new Error(`build/pwsh does not run (exit ${r.status}):\n${r.stderr}`);
}

/**
 * Lines of the form `KEY=value` that a test script prints with `"KEY=$value"`, as a map (the
 * tests were written for an engine without ConvertTo-Json). A key printed twice keeps the last value.
 */
export function keyValues(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^([A-Za-z][\w.-]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** PowerShell single-quoted string literal. */
export function psQuote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The prologue that puts the stand-ins of CimStandIns.ps1 in place of the CIM cmdlets, over the
 * lab in `labDir` (channel.test.ts, channel_contract.test.ts).
 */
export function standIns(labDir: string): string {
  return `
$global:HvbStandIn = @{ Lab = ${psQuote(labDir)}; Node = ${psQuote(process.execPath)}; Cli = ${psQuote(CLI_BUNDLE)}; Log = [System.Collections.Generic.List[string]]::new() }
. ${psQuote(join(ROOT, "test", "powershell", "CimStandIns.ps1"))}
`;
}
