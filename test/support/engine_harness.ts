import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runCli } from "../../src/cli/mod";
import { openDisk } from "../../src/disks/mod";

/** The bundled CLI, as users run it. */
export const CLI = path.resolve(__dirname, "../../module/bin/hvbackup.cjs");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The point record a successful `backup --json` prints as its result. */
export interface PointRecord {
  id: string;
  kind: string;
  consistency: string;
  disks: Array<{ method: string }>;
  warnings: string[];
}

export interface LabVm {
  name: string;
  id: string;
  state: string;
  configVersion: string;
  generation: number;
  disks: Array<{ path: string }>;
}

/** SHA-256 of a whole virtual disk as a guest sees it (the file and its chain). */
export function diskHash(file: string): string {
  const disk = openDisk(file);
  try {
    const h = createHash("sha256");
    const buf = Buffer.alloc(4 * 1024 * 1024);
    for (let o = 0; o < disk.virtualSize; o += buf.length) {
      const part = buf.subarray(0, Math.min(buf.length, disk.virtualSize - o));
      disk.read(part, o);
      h.update(part);
    }
    return h.digest("hex");
  } finally {
    disk.close();
  }
}

/** Deterministic pseudo-random integers for scenario choices. */
export function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** Runs `hvbackup ARGS` without blocking the event loop (tests of one file can run concurrently). */
export function hvbAsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult & { signal: NodeJS.Signals | null }> {
  // The lab's own commands (test set-up and inspection) run in-process: same CLI code, without
  // a process start each. The product's commands always run as the bundled CLI, as users run it.
  if (args[0] === "lab" && !options.env && !options.cwd) return labInProcess(args);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? 128, stdout, stderr, signal }));
  });
}

async function labInProcess(args: string[]): Promise<RunResult & { signal: null }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr, signal: null };
}

/** {@link hvbAsync} that fails the test unless the command exits 0. */
export async function okAsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const r = await hvbAsync(args, options);
  if (r.code !== 0) throw new Error(`hvbackup ${args.join(" ")} exited ${r.code}${r.signal ? ` (${r.signal})` : ""}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Starts `hvbackup ARGS` and returns the child (to kill it at a random moment). */
export function spawnCli(args: string[], options: { env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
}

/** Waits for a child to end; resolves its exit code and signal. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    // "close", not "exit": by then its stdout and stderr are read to the end as well.
    else child.on("close", (code, signal) => resolve({ code, signal }));
  });
}

/** The line-delimited JSON events a `--json` run printed. */
export function events(stdout: string): Array<{ type: string; message?: string; code?: string; data?: unknown }> {
  return stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { type: string });
}

/** Backs up and returns the point record (`backup --json` result). */
export async function backupAsync(world: { lab: string; repo: string }, vm: string, extra: string[] = []): Promise<PointRecord> {
  const r = await okAsync(["backup", "--vm", vm, "--repo", world.repo, "--lab", world.lab, "--json", ...extra]);
  const result = events(r.stdout).find((e) => e.type === "result");
  if (!result) throw new Error(`backup printed no result: ${r.stdout}`);
  return result.data as PointRecord;
}

/** The lab's VMs as `lab ls --json` shows them. */
export async function labVmsAsync(lab: string): Promise<LabVm[]> {
  return (JSON.parse((await okAsync(["lab", "ls", "--lab", lab, "--json"])).stdout) as { vms: LabVm[] }).vms;
}

/** The lab VM named `name`; fails the test when there is none. */
export async function labVmAsync(lab: string, name: string): Promise<LabVm> {
  const vm = (await labVmsAsync(lab)).find((v) => v.name === name);
  if (!vm) throw new Error(`no VM '${name}' in the lab`);
  return vm;
}

/** What the guest of `vm` sees on each of its disks now. */
export async function guestViewAsync(lab: string, vm: string): Promise<string[]> {
  return (await labVmAsync(lab, vm)).disks.map((d) => diskHash(d.path));
}

/** A guest write of deterministic bytes (the lab's own generator). */
export async function guestWriteAsync(lab: string, vm: string, disk: number, offset: number, length: number, seed: number): Promise<void> {
  await okAsync(["lab", "write", "--lab", lab, "--vm", vm, "--disk", String(disk), "--offset", String(offset), "--length", String(length), "--seed", String(seed)]);
}

/** Restores a point side by side under a new id and name; returns the restored disks' hashes. */
export async function restoreSideBySideAsync(world: { dir: string; lab: string; repo: string }, vm: string, point: string, tag: string, extra: string[] = []): Promise<string[]> {
  const dest = path.join(world.dir, `restore-${tag}`);
  const name = `${vm}-${tag}`;
  await okAsync(["restore", "--repo", world.repo, "--vm", vm, "--point", point, "--new-id", "--name", name, "--dest", dest, "--lab", world.lab, ...extra]);
  const restored = (await labVmsAsync(world.lab)).find((v) => v.name === name);
  if (!restored) throw new Error(`restored VM '${name}' is not registered`);
  for (const d of restored.disks) if (!existsSync(d.path)) throw new Error(`restored disk '${d.path}' is missing`);
  return restored.disks.map((d) => diskHash(d.path));
}

/** A fresh folder with a lab host (`lab`) and a repository path (`repo`); `initArgs` go to `lab init`. */
export async function newWorldAsync(name: string, initArgs: string[] = []): Promise<{ dir: string; lab: string; repo: string; cleanup(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), `hvb-${name}-`));
  const lab = path.join(dir, "lab");
  const repo = path.join(dir, "repo");
  await okAsync(["lab", "init", lab, ...initArgs]);
  return { dir, lab, repo, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Rows a WQL query returns on the lab. */
export async function cimQuery(lab: string, wql: string): Promise<Array<Record<string, unknown> & { __PATH: string }>> {
  return JSON.parse((await okAsync(["lab", "cim", "query", "--lab", lab, wql])).stdout) as Array<Record<string, unknown> & { __PATH: string }>;
}

/** The object path of the one instance a WQL query returns. */
export async function cimPathAsync(lab: string, wql: string): Promise<string> {
  const found = await cimQuery(lab, wql);
  if (found.length !== 1) throw new Error(`'${wql}' returned ${found.length} instances`);
  return found[0]!.__PATH;
}

/** Takes a standard (user) checkpoint of a lab VM, as Checkpoint-VM would. */
export async function userCheckpointAsync(lab: string, vm: string): Promise<void> {
  const vmPath = await cimPathAsync(lab, `SELECT * FROM Msvm_ComputerSystem WHERE ElementName='${vm}'`);
  const service = await cimPathAsync(lab, "SELECT * FROM Msvm_VirtualSystemSnapshotService");
  const r = JSON.parse((await okAsync(["lab", "cim", "invoke", "--lab", lab, "--path", service, "--method", "CreateSnapshot", "--wait", "--args",
    JSON.stringify({ AffectedSystem: vmPath, SnapshotType: 2, SnapshotSettings: { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 2 } })])).stdout) as { ReturnValue: number; Job?: { JobState: number } };
  if (!(r.ReturnValue === 0 || (r.ReturnValue === 4096 && r.Job?.JobState === 7))) throw new Error(`CreateSnapshot failed: ${JSON.stringify(r)}`);
}

/** Recovery checkpoints on the host (of every VM). */
export async function recoveryCheckpoints(lab: string): Promise<unknown[]> {
  return cimQuery(lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'");
}

/** Planned (imported, not realized) VMs on the host. */
export async function plannedSystems(lab: string): Promise<unknown[]> {
  return cimQuery(lab, "SELECT * FROM Msvm_PlannedComputerSystem");
}

/** Reference points on the host (of every VM). */
export async function referencePoints(lab: string): Promise<Array<Record<string, unknown> & { __PATH: string }>> {
  return cimQuery(lab, "SELECT * FROM Msvm_VirtualSystemReferencePoint");
}

/** Arms a lab fault: the next `times` calls of `method` fail with `code` (or by a job failing at `atPercent`). */
export async function injectFault(lab: string, method: string, code: number, options: { times?: number; atPercent?: number } = {}): Promise<void> {
  await okAsync(["lab", "fail", "--lab", lab, "--method", method, "--code", String(code), "--times", String(options.times ?? 1), ...(options.atPercent !== undefined ? ["--at-percent", String(options.atPercent)] : [])]);
}

/**
 * SHA-256 of every file below `dir` (relative path -> hash), the VM folder's lock excepted: to
 * prove a failed run left the catalog and every earlier point byte-for-byte as they were. A link
 * is recorded by its target and any other non-regular file by its kind, never opened.
 */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name === ".lock") continue;
      else if (e.isFile()) out[r] = createHash("sha256").update(readFileSync(path.join(dir, r))).digest("hex");
      // Never read: a FIFO would block, a link is judged by where it points.
      else if (e.isSymbolicLink()) out[r] = `symlink -> ${readlinkSync(path.join(dir, r))}`;
      else out[r] = "not a regular file";
    }
  };
  walk("");
  return out;
}

/** The one VM folder of a repository holding VM `vm` (by its folder-name prefix). */
export function vmFolder(repo: string, vm: string): string {
  const found = readdirSync(repo).filter((n) => n.startsWith(`${vm}_`));
  if (found.length !== 1) throw new Error(`repository '${repo}' has ${found.length} folders for '${vm}'`);
  return path.join(repo, found[0]!);
}

/** The catalog of VM `vm` in `repo`. */
export function readCatalogOf(repo: string, vm: string): { vmId: string; points: Array<{ id: string; kind: string; parentId: string | null; disks: Array<{ index: number; file: string; method: string }>; referencePoint: { instanceId: string } | null }>; pendingMerge: unknown } {
  return JSON.parse(readFileSync(path.join(vmFolder(repo, vm), "catalog.json"), "utf8"));
}

/** Flips one byte of a file (xor 0xff) at `offset`. */
export function flipByte(file: string, offset: number): void {
  const fd = openSync(file, "r+");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}
