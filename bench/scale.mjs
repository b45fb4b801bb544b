// Scale benchmark (issue 12).
// Part A: N lab VMs (default 50) over 2 volumes, all backed up in one run:
//   1. full backup --all under --parallel 4 --per-volume 2: time, peak RSS, and the most recovery
//      checkpoints the lab saw at once per volume (must not exceed the limit)
//   2. incremental --all without a storage snapshot: time and median seconds a VM ran on a checkpoint
//   3. incremental --all with --storage-snapshot: the same figures (both medians, and each as a
//      share of its run, are printed after the table)
//   4. every point verified (--deep) and one VM restored
// Part B: seconds on a checkpoint with and without --storage-snapshot when copies dominate
//   (M VMs, default 8, each changing --heavy-mib MiB, default 128, between backups).
// Not a test: it prints figures (and exits 1 if a limit was not honoured or a VM failed).
// Usage: npm run build && node bench/scale.mjs [--vms 50] [--disk-mib 64] [--write-mib 8] [--heavy-vms 8] [--heavy-mib 128]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import * as path from "node:path";

const CLI = path.resolve("module/bin/hvbackup.cjs");
const MiB = 1024 ** 2;
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || dflt : dflt;
};
const vms = opt("--vms", Number(process.env.HVB_SCALE_VMS) || 50);
const diskMiB = opt("--disk-mib", 64);
const writeMiB = opt("--write-mib", 8);
const heavyVms = opt("--heavy-vms", 8);
const heavyMiB = opt("--heavy-mib", 128);
const dir = mkdtempSync(path.join(process.env.BENCH_DIR ?? tmpdir(), "hvb-bench-scale-"));
const lab = path.join(dir, "lab");
const repo = path.join(dir, "repo");

function hvb(...a) {
  const r = spawnSync(process.execPath, [CLI, ...a], { encoding: "utf8", maxBuffer: 256 * MiB });
  if (r.status !== 0) throw new Error(`hvbackup ${a.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs the CLI; returns seconds, peak RSS (MiB) and stdout. */
function timed(argv) {
  return new Promise((resolve, reject) => {
    const useTime = existsSync("/usr/bin/time");
    const [cmd, full] = useTime ? ["/usr/bin/time", ["-f", "%M", process.execPath, CLI, ...argv]] : [process.execPath, [CLI, ...argv]];
    const start = process.hrtime.bigint();
    const child = spawn(cmd, full, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let peak = 0;
    const poll = useTime ? undefined : setInterval(() => {
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {}
    }, 20);
    child.on("error", reject);
    child.on("close", (code) => {
      if (poll) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (useTime) peak = Number(stderr.trim().split("\n").pop()) / 1024;
      // Exit code 1 with a result: some VMs failed (the caller reports them); anything else is the run's.
      if (code !== 0 && !(code === 1 && stdout.includes('"type":"result"'))) reject(new Error(`backup failed (${code}): ${stderr.slice(-2000)}`));
      else resolve({ seconds, peakMiB: peak, stdout });
    });
  });
}

const resultOf = (stdout) => JSON.parse(stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((e) => e.type === "result") ? JSON.stringify(stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((e) => e.type === "result").data) : "null");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 2) => x.toFixed(d);
const names = Array.from({ length: vms }, (_, i) => `vm${String(i).padStart(3, "0")}`);
let failed = false;

function writeAll(seed, theLab = lab, theNames = names, perVm = writeMiB, disk = diskMiB) {
  for (const [i, n] of theNames.entries()) {
    for (let done = 0; done < perVm; done += Math.min(256, perVm - done)) {
      const len = Math.min(256, perVm - done);
      const slot = ((i * 7 + seed) * perVm + done) % Math.max(1, disk - len);
      hvb("lab", "write", "--lab", theLab, "--vm", n, "--disk", "0", "--offset", String(slot * MiB), "--length", String(len * MiB), "--seed", `${seed}-${i}-${done}`);
    }
  }
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(`load average at the start: ${load()}`);
try {
  hvb("lab", "init", lab, "--job-ms", "0");
  for (const [i, n] of names.entries()) hvb("lab", "vm", "new", "--lab", lab, "--name", n, "--disk", `${diskMiB}MiB`, "--volume", i % 2 ? "V1" : "V2");
  writeAll(1);
  console.log(`${vms} VMs over 2 volumes, ${diskMiB} MiB disks, ${writeMiB} MiB written per VM between backups`);
  const rows = [];
  const run = async (label, extra, theLab = lab, theRepo = repo, count = vms) => {
    const r = await timed(["backup", "--all", "--repo", theRepo, "--lab", theLab, "--parallel", "4", "--per-volume", "2", "--json", ...extra]);
    const data = resultOf(r.stdout);
    const ok = data.results.filter((x) => x.ok).length;
    if (ok !== count) {
      failed = true;
      for (const x of data.results.filter((y) => !y.ok)) console.error(`${label}: ${x.vm} failed: ${JSON.stringify(x.error ?? x).slice(0, 600)}`);
    }
    const cps = data.results.map((x) => x.checkpointSeconds);
    rows.push({ label, seconds: r.seconds, peakMiB: r.peakMiB, ok: `${ok}/${count}`, medianCp: median(cps), maxCp: Math.max(...cps), bytes: data.summary.bytes });
  };
  await run("full, --parallel 4 --per-volume 2", []);
  const ls = JSON.parse(hvb("lab", "ls", "--lab", lab, "--json"));
  const peaks = ls.volumes.filter((v) => v.name !== "LAB").map((v) => `${v.name}: ${v.peakCheckpoints}`);
  const honoured = ls.volumes.every((v) => v.peakCheckpoints <= 2);
  if (!honoured) failed = true;
  writeAll(2);
  await run("incremental", []);
  writeAll(3);
  await run("incremental, --storage-snapshot", ["--storage-snapshot"]);

  // Part B: fewer VMs whose copies take real time.
  const labB = path.join(dir, "labB");
  const repoB = path.join(dir, "repoB");
  const namesB = Array.from({ length: heavyVms }, (_, i) => `big${i}`);
  const diskB = heavyMiB * 4;
  hvb("lab", "init", labB, "--job-ms", "0");
  for (const [i, n] of namesB.entries()) hvb("lab", "vm", "new", "--lab", labB, "--name", n, "--disk", `${diskB}MiB`, "--volume", i % 2 ? "V1" : "V2");
  writeAll(1, labB, namesB, heavyMiB, diskB);
  await run(`B: full, ${heavyVms} VMs x ${heavyMiB} MiB`, [], labB, repoB, heavyVms);
  writeAll(2, labB, namesB, heavyMiB, diskB);
  await run(`B: incremental, ${heavyMiB} MiB changed per VM`, [], labB, repoB, heavyVms);
  writeAll(3, labB, namesB, heavyMiB, diskB);
  await run(`B: incremental, ${heavyMiB} MiB changed per VM, --storage-snapshot`, ["--storage-snapshot"], labB, repoB, heavyVms);

  console.log("");
  console.log("| run | VMs ok | time (s) | peak RSS (MiB) | added (MiB) | median s on a checkpoint | max s on a checkpoint | median as % of run |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.label} | ${r.ok} | ${fmt(r.seconds)} | ${fmt(r.peakMiB, 0)} | ${fmt(r.bytes / MiB, 1)} | ${fmt(r.medianCp)} | ${fmt(r.maxCp)} | ${fmt((100 * r.medianCp) / r.seconds, 1)} |`);
  console.log("");
  // Issue 12's figure: the median seconds a VM ran on its checkpoint, and its share of the run.
  const byLabel = (l) => rows.find((r) => r.label === l);
  const compare = (what, without, withSnap) => {
    const a = byLabel(without);
    const b = byLabel(withSnap);
    const share = (r) => `${fmt(r.medianCp)} s = ${fmt((100 * r.medianCp) / r.seconds, 1)} % of its ${fmt(r.seconds)} s run`;
    console.log(`${what}: median seconds on a checkpoint without --storage-snapshot ${share(a)}; with it ${share(b)}`);
  };
  compare(`A (${vms} VMs, incremental)`, "incremental", "incremental, --storage-snapshot");
  compare(`B (${heavyVms} VMs, ${heavyMiB} MiB changed each)`, `B: incremental, ${heavyMiB} MiB changed per VM`, `B: incremental, ${heavyMiB} MiB changed per VM, --storage-snapshot`);
  console.log(`load average at the end: ${load()}`);
  console.log("");
  console.log(`Most recovery checkpoints at once per volume in the full run, as the lab recorded them (limit 2): ${peaks.join(", ")}${honoured ? "" : "  <-- LIMIT EXCEEDED"}`);
  const v = await timed(["verify", "--repo", repo, "--deep"]);
  console.log(`verify --deep of every point: ${fmt(v.seconds)} s, peak RSS ${fmt(v.peakMiB, 0)} MiB`);
  hvb("restore", "--repo", repo, "--vm", names[0], "--new-id", "--name", "restored", "--dest", path.join(dir, "restored"), "--lab", lab);
  console.log(`restore of ${names[0]} (latest point): ok`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error("scale bench: a VM failed or a limit was not honoured");
  process.exit(1);
}
