/**
 * Shared helpers of the VHDX end-to-end tests: temporary folders, running the bundled CLI,
 * qemu-img / qemu-io / libvhdi oracles, and raw images with known content.
 */
import { type SpawnSyncReturns, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statfsSync, writeSync, ftruncateSync, fstatSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CLI, PYVHDI_DUMP, SYSTEM_PYTHON } from "./paths";

export const MiB = 1024 * 1024;

/**
 * Where test files go: HVB_TEST_TMP if set, else /dev/shm when it has room (tmpfs makes the
 * many fsyncs of convert free, and the tests kill processes, not machines, so the page cache is
 * what they need), else the system temporary folder.
 */
function testTmpRoot(): string {
  const given = process.env["HVB_TEST_TMP"];
  if (given) return given;
  try {
    const fs = statfsSync("/dev/shm");
    if (fs.bavail * fs.bsize > 8 * 1024 * MiB) return "/dev/shm";
  } catch {
    // no /dev/shm here
  }
  return tmpdir();
}

/** A fresh temporary folder; `cleanupTempDirs()` removes every folder made so far. */
const made: string[] = [];
export function tempDir(prefix = "hvb-vhdx-"): string {
  const d = mkdtempSync(path.join(testTmpRoot(), prefix));
  made.push(d);
  return d;
}
export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Result of one CLI run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  pid: number;
}

/** Runs `node module/bin/hvbackup.cjs …args` and waits for it. */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const t0 = Date.now();
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * MiB,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0, pid: r.pid };
}

/** Runs the CLI and fails loudly unless it exits 0. */
export function cliOk(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = cli(args, options);
  if (r.code !== 0) throw new Error(`hvbackup ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Runs a tool and returns stdout; throws with stderr on a non-zero exit. */
export function run(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", cwd: options.cwd, maxBuffer: 64 * MiB, stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a tool and returns its exit status and output without throwing. */
export function runStatus(cmd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * MiB });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function qemuImg(...args: string[]): string {
  return run("qemu-img", args);
}

/** `qemu-io -f vhdx -c "write -P PATTERN OFF LEN"` for each write. */
export function qemuWrite(file: string, writes: Array<{ offset: number; length: number; pattern: number }>): void {
  const cmds = writes.flatMap((w) => ["-c", `write -P 0x${w.pattern.toString(16)} ${w.offset} ${w.length}`]);
  run("qemu-io", ["-f", "vhdx", ...cmds, file]);
}

/** Dumps a VHDX (chain given top first) to raw through libvhdi; returns its JSON summary. */
export function pyvhdiDump(out: string, chain: string[]): { media_size: number; disk_type: number; bytes_per_sector: number; identifier: string; parent_identifier: string | null } {
  return JSON.parse(run(SYSTEM_PYTHON, [PYVHDI_DUMP, out, ...chain]));
}

/** SHA-256 of a whole file, streamed in 4 MiB pieces. */
export function sha256File(file: string): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(4 * MiB);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** True when two files have identical bytes (`cmp -s`). */
export function sameBytes(a: string, b: string): boolean {
  return spawnSync("cmp", ["-s", a, b]).status === 0;
}

/** First differing byte offset of two files, or undefined; for readable failure messages. */
export function firstDifference(a: string, b: string): string | undefined {
  const r = spawnSync("cmp", [a, b], { encoding: "utf8" });
  return r.status === 0 ? undefined : (r.stdout + r.stderr).trim();
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function pseudoRandom(length: number, seed: number): Buffer {
  const b = Buffer.alloc(Math.ceil(length / 4) * 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b.subarray(0, length);
}

/** A piece of known content in a raw image. */
export interface Piece {
  offset: number;
  data: Buffer;
}

/** Writes a sparse raw image of `size` bytes holding `pieces` (later pieces win). */
export function writeRaw(file: string, size: number, pieces: readonly Piece[]): void {
  const fd = openSync(file, "w");
  try {
    ftruncateSync(fd, size);
    for (const p of pieces) {
      let done = 0;
      while (done < p.data.length) done += writeSync(fd, p.data, done, p.data.length - done, p.offset + done);
    }
  } finally {
    closeSync(fd);
  }
}

export function fileSize(file: string): number {
  const fd = openSync(file, "r");
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

export function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

export function writeAt(file: string, offset: number, data: Uint8Array): void {
  const fd = openSync(file, "r+");
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Asserts the CLI failed as bad input: exit 1, exactly one stderr line, no stack trace. */
export function expectCleanFailure(r: CliResult): string {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  const problems: string[] = [];
  if (r.code !== 1) problems.push(`exit code ${r.code} (signal ${r.signal}), expected 1`);
  if (lines.length !== 1) problems.push(`${lines.length} stderr lines, expected 1`);
  if (/\n\s+at |internal error/.test(r.stderr)) problems.push("stack trace or internal error");
  if (problems.length > 0) throw new Error(`${problems.join("; ")}\nstderr: ${r.stderr}`);
  return lines[0]!;
}
