// Benchmarks of the backup engine (issue 4), side by side in one run on the same files:
//   1. full backup of a 4 GiB lab disk half allocated with random data  vs  qemu-img convert of that disk
//   2. incremental backup time against the fraction of the disk changed (1%, 10%, 50%)
//   3. restore of a chain of 30 increments  vs  qemu-img convert of one VHDX of the same size
// Peak RSS of our process is measured with /usr/bin/time when present, else by polling /proc.
// Not a test: it prints figures. Usage: npm run build && node bench/backup.mjs [--size-gib 4]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const CLI = path.resolve("module/bin/hvbackup.cjs");
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const args = process.argv.slice(2);
const sizeGiB = Number(args[args.indexOf("--size-gib") + 1] ?? 4) || 4;
const size = sizeGiB * GiB;
const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), "hvb-bench-backup-"));
const lab = path.join(dir, "lab");

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 256 * MiB, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const hvb = (...a) => run(process.execPath, [CLI, ...a]);

/** Runs a command, returns seconds and peak RSS in MiB (of the process tree's largest member). */
async function timed(cmd, argv) {
  const useTime = existsSync("/usr/bin/time");
  const full = useTime ? ["/usr/bin/time", ["-f", "%M", cmd, ...argv]] : [cmd, argv];
  const start = process.hrtime.bigint();
  const child = spawn(full[0], full[1], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let peak = 0;
  const poll = useTime ? undefined : setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {}
  }, 20);
  const code = await new Promise((r) => child.on("close", r));
  if (poll) clearInterval(poll);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed: ${stderr}`);
  if (useTime) peak = Number(stderr.trim().split("\n").pop()) / 1024;
  return { seconds, peakMiB: peak };
}

const vmDisk = () => JSON.parse(hvb("lab", "ls", "--lab", lab, "--json")).vms.find((v) => v.name === "bench").disks[0].path;
const fmt = (n, d = 2) => n.toFixed(d);
const rows = [];

try {
  console.log(`Backup benchmark in ${dir} (${sizeGiB} GiB disk; page cache not dropped: both sides read warm files)`);
  hvb("lab", "init", lab, "--job-ms", "20");
  hvb("lab", "vm", "new", "--lab", lab, "--name", "bench", "--disk", `${sizeGiB}GiB`, "--guest", "windows");
  // Half allocated: 32 MiB of random data in every other 64 MiB.
  for (let o = 0, s = 1; o < size; o += 64 * MiB, s++) hvb("lab", "write", "--lab", lab, "--vm", "bench", "--disk", "0", "--offset", String(o), "--length", String(32 * MiB), "--seed", String(s));
  const disk = vmDisk();

  // 1. Full backup vs qemu-img convert of the same disk.
  // Our backup fsyncs what it stores before it publishes; qemu-img does not, so it is timed with
  // a final fsync of its output too (sync FILE), which is the fair comparison.
  const qOut = path.join(dir, "qemu-full.vhdx");
  const q = await timed("sh", ["-c", `qemu-img convert -f vhdx -O vhdx -o subformat=dynamic '${disk}' '${qOut}' && sync '${qOut}'`]);
  const f = await timed(process.execPath, [CLI, "backup", "--vm", "bench", "--repo", path.join(dir, "repo"), "--lab", lab]);
  rows.push([`full backup, ${sizeGiB} GiB half allocated`, f, q]);

  // 2. Incremental time against the fraction changed.
  let seed = 10_000;
  for (const fraction of [0.01, 0.1, 0.5]) {
    const bytes = Math.floor((size * fraction) / MiB) * MiB;
    const pieces = Math.max(1, Math.floor(bytes / (4 * MiB)));
    for (let i = 0; i < pieces; i++) {
      const offset = Math.floor(((i * 2654435761) % (size / (4 * MiB)))) * 4 * MiB;
      hvb("lab", "write", "--lab", lab, "--vm", "bench", "--disk", "0", "--offset", String(offset), "--length", String(Math.min(4 * MiB, bytes)), "--seed", String(seed++));
    }
    const r = await timed(process.execPath, [CLI, "backup", "--vm", "bench", "--repo", path.join(dir, "repo"), "--lab", lab]);
    rows.push([`incremental, ${fraction * 100}% changed`, r, undefined]);
  }

  // 3. Restore of a chain of 30 increments vs qemu-img convert of one VHDX of the same size.
  const repo30 = path.join(dir, "repo30");
  hvb("backup", "--vm", "bench", "--repo", repo30, "--lab", lab);
  for (let i = 0; i < 29; i++) {
    hvb("lab", "write", "--lab", lab, "--vm", "bench", "--disk", "0", "--offset", String((i * 37 % (size / (64 * MiB))) * 64 * MiB), "--length", String(MiB), "--seed", String(seed++));
    hvb("backup", "--vm", "bench", "--repo", repo30, "--lab", lab);
  }
  const qrOut = path.join(dir, "qemu-restore.vhdx");
  const qr = await timed("sh", ["-c", `qemu-img convert -f vhdx -O vhdx -o subformat=dynamic '${vmDisk()}' '${qrOut}' && sync '${qrOut}'`]);
  const rr = await timed(process.execPath, [CLI, "restore", "--repo", repo30, "--vm", "bench", "--new-id", "--name", "bench-r", "--dest", path.join(dir, "restored"), "--lab", lab]);
  rows.push(["restore of a 30-increment chain", rr, qr]);

  console.log("");
  console.log("qemu-img times include a final fsync of its output, as ours do (our data is durable before the catalog names it).");
  console.log("| operation | ours (s) | qemu-img + fsync (s) | speed ratio (qemu time / ours) | our throughput (MiB/s of disk) | our peak RSS (MiB) |");
  console.log("|---|---|---|---|---|---|");
  for (const [name, ours, qemu] of rows) {
    const ratio = qemu ? fmt(qemu.seconds / ours.seconds) : "n/a";
    console.log(`| ${name} | ${fmt(ours.seconds)} | ${qemu ? fmt(qemu.seconds) : "n/a"} | ${ratio} | ${fmt(size / MiB / ours.seconds, 0)} | ${fmt(ours.peakMiB, 0)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
