import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { openDisk } from "../../src/disk/open_disk";

/** The bundled CLI, as users run it. */
export const CLI = path.resolve(__dirname, "../../module/bin/hvbackup.cjs");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hvbackup ARGS` in `cwd` and returns its exit code and output. */
export function hvb(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout, stderr: r.stderr };
}

/** Runs `hvbackup ARGS` and fails the test with its output when it does not exit 0. */
export function ok(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunResult {
  const r = hvb(args, options);
  if (r.code !== 0) throw new Error(`hvbackup ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A fresh folder with a lab host (`lab`) and a repository path (`repo`). */
export function newWorld(name: string): { dir: string; lab: string; repo: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `hvb-${name}-`));
  const lab = path.join(dir, "lab");
  const repo = path.join(dir, "repo");
  ok(["lab", "init", lab]);
  return { dir, lab, repo, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LabVm {
  name: string;
  id: string;
  state: string;
  configVersion: string;
  generation: number;
  disks: Array<{ path: string }>;
}

/** The lab's VMs as `lab ls --json` shows them. */
export function labVms(lab: string): LabVm[] {
  return (JSON.parse(ok(["lab", "ls", "--lab", lab, "--json"]).stdout) as { vms: LabVm[] }).vms;
}

export function labVm(lab: string, name: string): LabVm {
  const vm = labVms(lab).find((v) => v.name === name);
  if (!vm) throw new Error(`no VM '${name}' in the lab`);
  return vm;
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

/** What the guest of `vm` sees on each of its disks now. */
export function guestView(lab: string, vm: string): string[] {
  return labVm(lab, vm).disks.map((d) => diskHash(d.path));
}

/** A guest write of deterministic bytes (the lab's own generator). */
export function guestWrite(lab: string, vm: string, disk: number, offset: number, length: number, seed: number): void {
  ok(["lab", "write", "--lab", lab, "--vm", vm, "--disk", String(disk), "--offset", String(offset), "--length", String(length), "--seed", String(seed)]);
}

/** Backs up and returns the point record (`backup --json` result). */
export function backup(world: { lab: string; repo: string }, vm: string, extra: string[] = []): { id: string; kind: string; consistency: string; disks: Array<{ method: string }>; warnings: string[] } {
  const r = ok(["backup", "--vm", vm, "--repo", world.repo, "--lab", world.lab, "--json", ...extra]);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; data?: unknown });
  const result = events.find((e) => e.type === "result");
  if (!result) throw new Error(`backup printed no result: ${r.stdout}`);
  return result.data as ReturnType<typeof backup>;
}

/** Restores a point side by side under a new id and name; returns the restored disks' hashes. */
export function restoreSideBySide(world: { dir: string; lab: string; repo: string }, vm: string, point: string, tag: string): string[] {
  const dest = path.join(world.dir, `restore-${tag}`);
  const name = `${vm}-${tag}`;
  ok(["restore", "--repo", world.repo, "--vm", vm, "--point", point, "--new-id", "--name", name, "--dest", dest, "--lab", world.lab]);
  const restored = labVm(world.lab, name);
  for (const d of restored.disks) if (!existsSync(d.path)) throw new Error(`restored disk '${d.path}' is missing`);
  return restored.disks.map((d) => diskHash(d.path));
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

/** The object path of the one instance a WQL query returns. */
export function cimPath(lab: string, wql: string): string {
  const found = JSON.parse(ok(["lab", "cim", "query", "--lab", lab, wql]).stdout) as Array<{ __PATH: string }>;
  if (found.length !== 1) throw new Error(`'${wql}' returned ${found.length} instances`);
  return found[0]!.__PATH;
}

/** Takes a standard (user) checkpoint of a lab VM, as Checkpoint-VM would. */
export function userCheckpoint(lab: string, vm: string): void {
  const vmPath = cimPath(lab, `SELECT * FROM Msvm_ComputerSystem WHERE ElementName='${vm}'`);
  const service = cimPath(lab, "SELECT * FROM Msvm_VirtualSystemSnapshotService");
  const r = JSON.parse(ok(["lab", "cim", "invoke", "--lab", lab, "--path", service, "--method", "CreateSnapshot", "--wait", "--args",
    JSON.stringify({ AffectedSystem: vmPath, SnapshotType: 2, SnapshotSettings: { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 2 } })]).stdout) as { ReturnValue: number; Job?: { JobState: number } };
  if (!(r.ReturnValue === 0 || (r.ReturnValue === 4096 && r.Job?.JobState === 7))) throw new Error(`CreateSnapshot failed: ${JSON.stringify(r)}`);
}
