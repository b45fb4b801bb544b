// Benchmark (issue 2 §5; not a test): `hvbackup vhdx convert` VHDX -> VHDX and VHDX -> raw
// against `qemu-img convert` and `cp`, side by side in one run on the same files: a 2 GiB
// dynamic VHDX with 1 GiB of random data in 32 MiB chunks (every other chunk), made by
// qemu-img with block_state_zero=off. Best of 3 per tool; prints throughput, the speed ratio
// qemu-img time / our time, and our peak RSS (GNU time's maximum resident set size).
//
// Run with `npm run bench` (builds first). Options through the environment:
//   BENCH_DIR     working folder (default: $TMPDIR/hvb-bench); needs about 6 GiB free
//   BENCH_ROUNDS  rounds per tool (default 3)
//   BENCH_KEEP=1  keep the working folder (the source is reused when present)
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "module", "bin", "hvbackup.cjs");
const DIR = process.env.BENCH_DIR ?? path.join(tmpdir(), "hvb-bench");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DISK = 2 * GiB;
const CHUNK = 32 * MiB;
const DATA = DISK / 2;

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 16 * MiB });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Runs a command under GNU time; returns wall seconds (measured here) and peak RSS in MiB. */
function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", cmd, ...args], { encoding: "utf8", maxBuffer: 16 * MiB });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const kib = Number(r.stderr.trim().split("\n").pop());
  return { seconds, rssMiB: kib / 1024 };
}

function makeSource(raw, vhdx) {
  if (existsSync(vhdx)) return;
  console.log(`Making the source: ${DISK / GiB} GiB disk, ${DATA / GiB} GiB random data in ${CHUNK / MiB} MiB chunks`);
  const fd = openSync(raw, "w");
  try {
    ftruncateSync(fd, DISK);
    const buf = Buffer.alloc(CHUNK);
    for (let off = 0; off < DISK; off += 2 * CHUNK) {
      randomFillSync(buf);
      let done = 0;
      while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, off + done);
    }
  } finally {
    closeSync(fd);
  }
  sh("qemu-img", ["convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_state_zero=off", raw, vhdx]);
  rmSync(raw);
}

function fmt(n, digits = 2) {
  return n.toFixed(digits);
}

function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  mkdirSync(DIR, { recursive: true });
  const fs = statfsSync(DIR);
  const free = fs.bavail * fs.bsize;
  if (free < 6 * GiB) throw new Error(`Not enough space in ${DIR}: ${fmt(free / GiB)} GiB free, about 6 GiB needed (set BENCH_DIR)`);
  const src = path.join(DIR, "source.vhdx");
  makeSource(path.join(DIR, "source.raw"), src);
  const out = (name) => path.join(DIR, name);

  const node = process.execPath;
  const tools = [
    { name: "hvbackup vhdx convert VHDX->VHDX", kind: "vhdx", ours: true, out: out("ours.vhdx"), cmd: node, args: (o) => [CLI, "vhdx", "convert", src, o] },
    { name: "qemu-img convert -O vhdx (default -t unsafe)", kind: "vhdx", out: out("qemu.vhdx"), cmd: "qemu-img", args: (o) => ["convert", "-f", "vhdx", "-O", "vhdx", "-o", "subformat=dynamic", src, o] },
    { name: "qemu-img convert -O vhdx -t writeback", kind: "vhdx", synced: true, out: out("qemu-wb.vhdx"), cmd: "qemu-img", args: (o) => ["convert", "-t", "writeback", "-f", "vhdx", "-O", "vhdx", "-o", "subformat=dynamic", src, o] },
    { name: "hvbackup vhdx convert VHDX->raw", kind: "raw", ours: true, out: out("ours.raw"), cmd: node, args: (o) => [CLI, "vhdx", "convert", src, o] },
    { name: "qemu-img convert -O raw (default -t unsafe)", kind: "raw", out: out("qemu.raw"), cmd: "qemu-img", args: (o) => ["convert", "-f", "vhdx", "-O", "raw", src, o] },
    { name: "qemu-img convert -O raw -t writeback", kind: "raw", synced: true, out: out("qemu-wb.raw"), cmd: "qemu-img", args: (o) => ["convert", "-t", "writeback", "-f", "vhdx", "-O", "raw", src, o] },
    { name: "cp source.vhdx (no fsync)", kind: "cp", out: out("copy.vhdx"), cmd: "cp", args: (o) => [src, o] },
  ];

  // Warm the page cache equally for everyone: read the source once before timing.
  spawnSync("cat", [src], { stdio: ["ignore", "ignore", "inherit"] });
  const best = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of tools) {
      rmSync(t.out, { force: true });
      // Start every run with no dirty pages of earlier runs waiting for writeback, which would
      // otherwise throttle whichever tool comes next.
      spawnSync("sync", [], { stdio: "ignore" });
      const r = timed(t.cmd, t.args(t.out));
      const prev = best.get(t.name) ?? { seconds: Infinity, peakRss: 0 };
      best.set(t.name, { seconds: Math.min(prev.seconds, r.seconds), peakRss: Math.max(prev.peakRss, r.rssMiB) });
    }
    process.stdout.write(`round ${round}/${ROUNDS} done\n`);
  }
  // The outputs must be right, or the timing means nothing.
  sh("qemu-img", ["compare", "-q", "-f", "vhdx", "-F", "vhdx", src, out("ours.vhdx")]);
  sh("qemu-img", ["compare", "-q", "-f", "raw", "-F", "vhdx", out("ours.raw"), src]);
  sh("qemu-img", ["check", "-q", out("ours.vhdx")]);

  const srcSize = statSync(src).size;
  console.log("");
  console.log(`Source: ${src} (${fmt(srcSize / MiB, 0)} MiB file, ${DISK / GiB} GiB virtual, ${DATA / GiB} GiB allocated random data)`);
  console.log(`Best of ${ROUNDS}; throughput = allocated data (cp: file bytes) / wall time; MB = 10^6 bytes.`);
  console.log("Page cache: not dropped (needs root and would disturb other work on this host); the");
  console.log("source is read once before timing, so every tool reads it from a warm cache, and");
  console.log("`sync` runs before every timed run so no tool pays for another's writeback.");
  console.log("hvbackup fsyncs its output before it renames it into place; qemu-img convert's default");
  console.log("cache mode (unsafe) never flushes, -t writeback flushes at the end: both are shown.");
  console.log("");
  const rows = [];
  for (const t of tools) {
    const r = best.get(t.name);
    const bytes = t.kind === "cp" ? srcSize : DATA;
    rows.push([t.name, fmt(r.seconds), fmt(bytes / r.seconds / 1e6, 0), fmt(r.peakRss, 0)]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ["tool", "best s", "MB/s", "peak RSS MiB"][i].length));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(["tool", "best s", "MB/s", "peak RSS MiB"]));
  for (const r of rows) console.log(line(r));
  console.log("");
  const t = (name) => best.get(name).seconds;
  const ratios = [
    ["VHDX->VHDX vs qemu-img (default)", t("qemu-img convert -O vhdx (default -t unsafe)") / t("hvbackup vhdx convert VHDX->VHDX")],
    ["VHDX->VHDX vs qemu-img -t writeback", t("qemu-img convert -O vhdx -t writeback") / t("hvbackup vhdx convert VHDX->VHDX")],
    ["VHDX->raw  vs qemu-img (default)", t("qemu-img convert -O raw (default -t unsafe)") / t("hvbackup vhdx convert VHDX->raw")],
    ["VHDX->raw  vs qemu-img -t writeback", t("qemu-img convert -O raw -t writeback") / t("hvbackup vhdx convert VHDX->raw")],
  ];
  console.log("Speed ratio (qemu-img time / our time; >= 1.0 means we are at least as fast):");
  for (const [name, v] of ratios) console.log(`  ${name.padEnd(38)} ${fmt(v)}x`);
  const ourPeak = Math.max(best.get("hvbackup vhdx convert VHDX->VHDX").peakRss, best.get("hvbackup vhdx convert VHDX->raw").peakRss);
  console.log(`Our peak RSS: ${fmt(ourPeak, 0)} MiB (target < 256 MiB)`);

  if (process.env.BENCH_KEEP !== "1") rmSync(DIR, { recursive: true, force: true });
  else for (const t of tools) rmSync(t.out, { force: true });
}

main();
