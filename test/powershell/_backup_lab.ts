/**
 * Shared fixture of the backup command tests (backup_*.test.ts): a lab host made with the CLI
 * in a temporary folder, a repository beside it, and helpers that run the core's CLI and
 * PowerShell scripts there. Each test file calls setUpLab() in its beforeAll; the bindings
 * `work`, `lab` and `repo` are live, so they read the current file's lab.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CLI_BUNDLE, MANIFEST, prepare, psQuote, runScript, tempDir } from "./_pwsh";

/** The prologue of every script: the module imported, errors then left to the test. */
export const IMPORT = `$ErrorActionPreference = 'Stop'\nImport-Module ${psQuote(MANIFEST)}\n$ErrorActionPreference = 'Continue'\n`;

/** Runs the core's CLI; throws with its stderr when it fails. */
export function cli(args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, [CLI_BUNDLE, ...args], { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`hvbackup ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A restore point as `hvbackup list --json` reports it. */
export interface ListedPoint {
  id: string;
  vmName: string;
  vmId: string;
  time: string;
  kind: string;
  parentId: string | null;
}

/** A VM as `hvbackup lab ls --json` reports it. */
export interface LabVm {
  name: string;
  id: string;
  state: string;
  disks: Array<{ path: string }>;
}

/** The temporary folder of the current test file (lab, repository, restores). */
export let work: { dir: string; remove: () => void };
/** The lab host's folder. */
export let lab = "";
/** The repository's folder. */
export let repo = "";

/** The restore points of one VM (or all), via the CLI. */
export function listPoints(vm?: string, repository = repo): ListedPoint[] {
  return JSON.parse(cli(["list", "--repo", repository, ...(vm ? ["--vm", vm] : []), "--json"], work.dir)) as ListedPoint[];
}

/** The lab's VMs, via the CLI. */
export function labVms(): LabVm[] {
  return (JSON.parse(cli(["lab", "ls", "--lab", lab, "--json"], work.dir)) as { vms: LabVm[] }).vms;
}

/** Runs a script that starts with the module imported, in the work folder. */
export function ps(script: string) {
  return runScript(work.dir, IMPORT + script);
}

/** Every file below `dir` with its size and modification time, to prove that nothing changed. */
export function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const s = statSync(full);
        out.push(`${full} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.join("\n");
}

/** The guest-visible bytes of a VHDX file (and its parents), via `vhdx convert` to raw. */
export function diskBytes(vhdx: string, name: string): Buffer {
  const raw = join(work.dir, `${name}.raw`);
  cli(["vhdx", "convert", vhdx, raw], work.dir);
  return readFileSync(raw);
}

/** Makes the lab: web01 (one 32 MiB disk) and sql01 (16 MiB and 8 MiB), some data written on each. */
export function setUpLab(): void {
  prepare();
  work = tempDir("hvb-ps-backup-");
  lab = join(work.dir, "lab");
  repo = join(work.dir, "repo");
  cli(["lab", "init", lab], work.dir);
  cli(["lab", "vm", "new", "--lab", lab, "--name", "web01", "--disk", "32MiB"], work.dir);
  cli(["lab", "vm", "new", "--lab", lab, "--name", "sql01", "--disk", "16MiB", "--disk", "8MiB"], work.dir);
  cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", "0", "--length", String(3 * 1024 * 1024), "--seed", "1"], work.dir);
  cli(["lab", "write", "--lab", lab, "--vm", "sql01", "--disk", "1", "--offset", String(1024 * 1024), "--length", "65536", "--seed", "2"], work.dir);
}

/**
 * The repository the New-RecoveryBackup tests (backup_create.test.ts) leave, made with the CLI:
 * web01 a full and four incrementals (data written before the second), sql01 one full.
 */
export function seedBackups(): void {
  const backup = (...vms: string[]) => cli(["backup", ...vms.flatMap((vm) => ["--vm", vm]), "--repo", repo, "--lab", lab, "--json"], work.dir);
  backup("web01");
  cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", String(8 * 1024 * 1024), "--length", "65536", "--seed", "3"], work.dir);
  backup("web01");
  backup("web01", "sql01");
  backup("web01");
  backup("web01");
}
