// Benchmarks of the backup path (issue 10), every row a ratio against its anchor on the same
// files, measured in alternating rounds, on tmpfs (/dev/shm: no writeback, CPU-bound) and on disk:
//   full backup                      vs  qemu-img convert -f vhdx -O vhdx of the same disk (+ sync FILE)
//   restore of a 9-point chain       vs  qemu-img convert of its top (the VM's disk, same bytes) (+ sync FILE)
//   verify --deep of that chain      vs  openssl dgst -sha256 of the full's file (one core)
//   incrementals, 1 % and 10 % of the disk changed, as a share of the full's time
//   8 VMs with --parallel 4          vs  the same 8 with --parallel 1 (one after another)
//   peak RSS of every run of ours, and of the full backup of a sparse 2 TiB disk
// The default size is the measurement of issue 10: a 2 GiB disk holding 1 GiB of random data.
// Not a test: it prints figures (medians of the rounds). Usage:
//   npm run build && node bench/backup.mjs [--size-mib 2048] [--rounds 3] [--only tmpfs|disk]
// BENCH_DISK_DIR chooses the on-disk folder (default the OS temp folder).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const CLI = path.resolve("module/bin/hvbackup.cjs");
const MiB = 1024 ** 2;
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const sizeMiB = Number(opt("--size-mib", 2048));
const rounds = Number(opt("--rounds", 3));
const only = opt("--only", undefined);
const places = [["tmpfs", "/dev/shm"], ["disk", process.env.BENCH_DISK_DIR ?? tmpdir()]].filter(([n]) => !only || n === only);

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 256 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const hvb = (...a) => run(process.execPath, [CLI, ...a]);

/** Runs a command under GNU time: seconds and peak RSS in MiB. */
async function timed(cmd, argv) {
  const start = process.hrtime.bigint();
  const child = spawn("/usr/bin/time", ["-f", "%M", cmd, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise((r) => child.on("close", r));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed: ${stderr}`);
  return { seconds, rss: Number(stderr.trim().split("\n").pop()) / 1024 };
}
const ours = (...a) => timed(process.execPath, [CLI, ...a]);
const sh = (script) => timed("sh", ["-c", script]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const diskOf = (lab, vm) => JSON.parse(hvb("lab", "ls", "--lab", lab, "--json")).vms.find((v) => v.name === vm).disks[0].path;
/** Half of the disk allocated: `chunk` bytes of random data in every 2 * chunk. */
function fill(lab, vm, size, chunk, seed) {
  for (let o = 0; o < size; o += 2 * chunk) hvb("lab", "write", "--lab", lab, "--vm", vm, "--disk", "0", "--offset", String(o), "--length", String(chunk), "--seed", String(seed++));
}
let seed = 1;
/** Changes `fraction` of the disk in 1 MiB pieces spread over it. */
function change(lab, vm, size, fraction) {
  const pieces = Math.max(1, Math.round((size * fraction) / MiB));
  const stride = Math.floor(size / MiB / pieces);
  for (let i = 0; i < pieces; i += 8) {
    // 8 scattered MiB per lab call would need 8 calls; contiguous runs of up to 8 MiB keep it quick.
    const n = Math.min(8, pieces - i);
    hvb("lab", "write", "--lab", lab, "--vm", vm, "--disk", "0", "--offset", String(((i * stride) % (size / MiB - n)) * MiB), "--length", String(n * MiB), "--seed", String(seed++));
  }
}
/** The full's disk file: the .vhdx of the oldest point in a one-VM repository. */
function fullFile(repo) {
  const vmDir = path.join(repo, readdirSync(repo).find((d) => statSync(path.join(repo, d)).isDirectory()));
  const first = path.join(vmDir, "points", readdirSync(path.join(vmDir, "points")).sort()[0]);
  const find = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? find(path.join(d, e.name)) : e.name.endsWith(".vhdx") ? [path.join(d, e.name)] : []));
  return find(first)[0];
}

const report = [];
for (const [place, base] of places) {
  const dir = mkdtempSync(path.join(base, "hvb-bench-backup-"));
  const lab = path.join(dir, "lab");
  const size = sizeMiB * MiB;
  const rows = {};
  const rss = [];
  const add = (name, oursS, anchorS, note) => (rows[name] ??= { ours: [], anchor: [], note }).ours.push(oursS) && anchorS !== undefined && rows[name].anchor.push(anchorS);
  try {
    console.log(`[${place}] ${dir}: ${sizeMiB} MiB disk, half allocated; load ${loadavg()}`);
    // Lab knobs (bench/README.md): jobs of 20 ms, every query answered at once (as real hosts
    // mostly do), and GetVirtualDiskChanges answering up to 1 GiB per call instead of the
    // lab's 8 MiB test paging, which made an incremental of a 1 GiB disk 128 locked lab calls.
    hvb("lab", "init", lab, "--job-ms", "20", "--job-share", "0", "--rct-page", String(1024 * MiB));
    hvb("lab", "vm", "new", "--lab", lab, "--name", "bench", "--disk", `${sizeMiB}MiB`, "--guest", "windows");
    fill(lab, "bench", size, 32 * MiB, 1000);
    const disk = diskOf(lab, "bench");
    run("sh", ["-c", `cat '${disk}' > /dev/null`]); // warm: every tool reads a cached source

    // Full backup vs qemu-img, then incrementals of 1 % and 10 % into the same repository.
    for (let r = 0; r < rounds; r++) {
      const qOut = path.join(dir, `qemu-${r}.vhdx`);
      const repo = path.join(dir, `repo-${r}`);
      const steps = [
        async () => sh(`qemu-img convert -f vhdx -O vhdx -o subformat=dynamic '${disk}' '${qOut}' && sync '${qOut}'`),
        async () => ours("backup", "--vm", "bench", "--repo", repo, "--full", "--lab", lab),
      ];
      if (r % 2) steps.reverse();
      const a = await steps[0]();
      const b = await steps[1]();
      const [q, f] = r % 2 ? [b, a] : [a, b];
      rss.push(f.rss);
      add("full backup", f.seconds, q.seconds);
      rmSync(qOut, { force: true });
      for (const fraction of [0.01, 0.1]) {
        change(lab, "bench", size, fraction);
        const i = await ours("backup", "--vm", "bench", "--repo", repo, "--lab", lab);
        rss.push(i.rss);
        add(`incremental, ${fraction * 100} % changed (share of the full)`, i.seconds, f.seconds);
      }
      if (r > 0) rmSync(repo, { recursive: true, force: true });
    }

    // A 9-point chain: restore vs qemu-img convert of its top; verify --deep vs openssl.
    const chain = path.join(dir, "repo-chain");
    hvb("backup", "--vm", "bench", "--repo", chain, "--full", "--lab", lab);
    for (let i = 0; i < 8; i++) {
      change(lab, "bench", size, 0.01);
      hvb("backup", "--vm", "bench", "--repo", chain, "--lab", lab);
    }
    const top = diskOf(lab, "bench");
    const full = fullFile(chain);
    for (let r = 0; r < rounds; r++) {
      const qOut = path.join(dir, `qemu-top-${r}.vhdx`);
      const dest = path.join(dir, `restored-${r}`);
      const pairs = [
        [() => ours("restore", "--repo", chain, "--vm", "bench", "--new-id", "--name", `bench-r${r}`, "--dest", dest, "--lab", lab), () => sh(`qemu-img convert -f vhdx -O vhdx -o subformat=dynamic '${top}' '${qOut}' && sync '${qOut}'`), "restore of a 9-point chain"],
        [() => ours("verify", "--repo", chain, "--deep"), () => sh(`openssl dgst -sha256 '${full}' > /dev/null`), "verify --deep of that chain (anchor: openssl, one core)"],
      ];
      for (const [o, anchor, name] of pairs) {
        const first = r % 2 ? await anchor() : await o();
        const second = r % 2 ? await o() : await anchor();
        const [mine, theirs] = r % 2 ? [second, first] : [first, second];
        rss.push(mine.rss);
        add(name, mine.seconds, theirs.seconds);
      }
      rmSync(qOut, { force: true });
      rmSync(dest, { recursive: true, force: true });
    }

    // 8 VMs (each a quarter of the disk size) with --parallel 4 vs one after another.
    const vms = Array.from({ length: 8 }, (_, i) => `p${i}`);
    const small = Math.max(64, Math.floor(sizeMiB / 4));
    for (const vm of vms) {
      hvb("lab", "vm", "new", "--lab", lab, "--name", vm, "--disk", `${small}MiB`, "--guest", "windows");
      fill(lab, vm, small * MiB, 16 * MiB, 5000);
    }
    const vmArgs = vms.flatMap((v) => ["--vm", v]);
    for (let r = 0; r < rounds; r++) {
      // An untimed sync first: the run that goes first must not pay the writeback of the setup's
      // (or the other run's) dirty pages, which on disk made whichever ran first look slow.
      const runWith = (k) => (run("sync", []), ours("backup", ...vmArgs, "--repo", path.join(dir, `repo-par${k}-${r}`), "--full", "--parallel", String(k), "--lab", lab));
      const a = r % 2 ? await runWith(1) : await runWith(4);
      const b = r % 2 ? await runWith(4) : await runWith(1);
      const [p4, p1] = r % 2 ? [b, a] : [a, b];
      rss.push(p4.rss, p1.rss);
      add("8 VMs, --parallel 4 (anchor: --parallel 1)", p4.seconds, p1.seconds);
      rmSync(path.join(dir, `repo-par1-${r}`), { recursive: true, force: true });
      rmSync(path.join(dir, `repo-par4-${r}`), { recursive: true, force: true });
    }

    // Peak RSS of a sparse 2 TiB disk's full backup.
    hvb("lab", "vm", "new", "--lab", lab, "--name", "huge", "--disk", "2TiB", "--guest", "windows");
    for (let i = 0; i < 4; i++) hvb("lab", "write", "--lab", lab, "--vm", "huge", "--disk", "0", "--offset", String(i * 512 * 1024 * MiB), "--length", String(8 * MiB), "--seed", String(9000 + i));
    const huge = await ours("backup", "--vm", "huge", "--repo", path.join(dir, "repo-huge"), "--lab", lab).catch((e) => {
      console.log(`[${place}] the 2 TiB backup failed: ${e.message}`);
      return { seconds: NaN, rss: NaN };
    });

    console.log(`[${place}] done; load ${loadavg()}`);
    report.push({ place, rows, rss: Math.max(...rss), hugeRss: huge.rss, hugeSeconds: huge.seconds });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log("");
console.log(`Medians of ${rounds} alternating rounds; ratio = anchor time / our time (> 1: we are faster), except incrementals (our time / the full's, lower is better) and --parallel 4 (its time / --parallel 1's). Load at the end: ${loadavg()}.`);
for (const { place, rows, rss, hugeRss, hugeSeconds } of report) {
  console.log("");
  console.log(`### ${place}`);
  console.log("| operation | ours (s) | anchor (s) | ratio |");
  console.log("|---|---:|---:|---:|");
  for (const [name, { ours: o, anchor: a }] of Object.entries(rows)) {
    const m = median(o);
    const am = median(a);
    const share = name.startsWith("incremental") || name.startsWith("8 VMs");
    const ratios = o.map((x, i) => (share ? x / a[i] : a[i] / x));
    console.log(`| ${name} | ${m.toFixed(2)} | ${am.toFixed(2)} | ${median(ratios).toFixed(2)}${share ? "" : "x"} |`);
  }
  console.log(`| peak RSS, every run of ours (MiB) | ${rss.toFixed(0)} | | |`);
  console.log(`| peak RSS, full backup of a sparse 2 TiB disk (MiB; ${hugeSeconds.toFixed(2)} s) | ${hugeRss.toFixed(0)} | | |`);
}
