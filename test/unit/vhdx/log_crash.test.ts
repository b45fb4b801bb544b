/**
 * Crash safety of the write path and log replay. A child process writes through the library
 * (or the CLI) with HVBACKUP_CRASH_AT set and SIGKILLs itself at a named point:
 *   vhdx-data-synced  data blocks synced, log entry not yet written
 *   vhdx-log-written  log entry synced, BAT/bitmap pages not yet written in place
 *   vhdx-log-applied  pages written in place, header still names the log
 * Then: a read-only open replays the log in memory (file unchanged), qemu-img check -r all
 * replays it too and agrees, and a writable open replays it in place and clears the log.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NIL_GUID } from "../../../src/vhdx/guid";
import { VhdxImage } from "../../../src/vhdx/mod";
import { cleanupTempDirs, cli, cliOk, MiB, pseudoRandom, pyvhdiDump, qemuImg, sha256File, tempDir, writeRaw } from "../../support/vhdx";
import { LIB_BUNDLE } from "../../support/paths";

/** One write of the child: `length` bytes of `fill` (or zeros through writeZeroes) at `offset`. */
interface Op {
  offset: number;
  length: number;
  fill: number;
  zeroes?: boolean;
}

interface ChildSpec {
  lib: string;
  file: string;
  parent?: string;
  virtualSize: number;
  blockSize: number;
  ops: Op[];
}

const CHILD = `
const spec = JSON.parse(process.argv[2]);
const { createVhdx } = require(spec.lib);
const d = createVhdx(spec.file, { virtualSize: spec.virtualSize, blockSize: spec.blockSize, ...(spec.parent ? { parentPath: spec.parent } : {}) });
for (const op of spec.ops) {
  if (op.zeroes) d.writeZeroes(op.offset, op.length);
  else d.write(Buffer.alloc(op.length, op.fill), op.offset);
  d.flush(); // one commit (one log entry) per op
}
d.close();
`;

let dir: string;
let childScript: string;
beforeAll(() => {
  dir = tempDir();
  childScript = path.join(dir, "child.cjs");
  writeFileSync(childScript, CHILD);
});
afterAll(cleanupTempDirs);

function runChild(spec: Omit<ChildSpec, "lib">, crashAt: string): { signal: NodeJS.Signals | null; code: number | null } {
  const r = spawnSync(process.execPath, [childScript, JSON.stringify({ ...spec, lib: LIB_BUNDLE })], {
    env: { ...process.env, HVBACKUP_CRASH_AT: crashAt },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.signal !== "SIGKILL") throw new Error(`child was not killed at ${crashAt}: exit ${r.status}, ${r.stderr}`);
  return { signal: r.signal, code: r.status };
}

function applyOps(model: Buffer, ops: readonly Op[]): Buffer {
  for (const op of ops) model.fill(op.zeroes ? 0 : op.fill, op.offset, op.offset + op.length);
  return model;
}

function readAll(file: string, options: { writable?: boolean } = {}): { data: Buffer; replayed: boolean } {
  const img = VhdxImage.open(file, options);
  try {
    const data = Buffer.alloc(img.virtualSize);
    img.read(data, 0);
    return { data, replayed: img.replayedLog };
  } finally {
    img.close();
  }
}

/** Each op in its own block, so each flush is exactly one log entry. */
const SIZE = 16 * MiB;
const OPS: Op[] = [
  { offset: 0, length: 4096, fill: 1 },
  { offset: 3 * MiB + 512, length: 1536, fill: 2 },
  { offset: 7 * MiB, length: MiB, fill: 3 },
  { offset: 12 * MiB + 4096 * 3, length: 4096, fill: 4 },
];

describe("a dynamic file killed during a metadata commit", () => {
  const points: Array<[string, number]> = [
    ["vhdx-data-synced#1", 0],
    ["vhdx-data-synced#3", 2],
    ["vhdx-log-written#1", 1],
    ["vhdx-log-written#3", 3],
    ["vhdx-log-applied#2", 2],
  ];
  it.each(points)("at %s shows exactly the first %i writes, read-only, through qemu and after a writable open", (point, visible) => {
    const file = path.join(dir, `dyn-${point.replace("#", "-")}.vhdx`);
    runChild({ file, virtualSize: SIZE, blockSize: MiB, ops: OPS }, point);
    const expected = applyOps(Buffer.alloc(SIZE), OPS.slice(0, visible));
    const hash = sha256File(file);

    // Read-only: replayed in memory, file untouched.
    const info = JSON.parse(cliOk(["vhdx", "info", file, "--json"]).stdout);
    if (point.startsWith("vhdx-log-written")) expect(info.logReplayed).toBe(true);
    const ro = readAll(file);
    expect(ro.data.equals(expected)).toBe(true);
    const raw = path.join(dir, `${path.basename(file)}.raw`);
    cliOk(["vhdx", "convert", file, raw]);
    expect(readFileSync(raw).equals(expected)).toBe(true);
    expect(cli(["vhdx", "check", file]).code).toBe(0);
    expect(sha256File(file)).toBe(hash);

    // qemu replays our log the same way.
    const copy = path.join(dir, `${path.basename(file)}.qemu.vhdx`);
    copyFileSync(file, copy);
    const check = spawnSync("qemu-img", ["check", "-r", "all", copy], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const qraw = path.join(dir, `${path.basename(file)}.qemu.raw`);
    qemuImg("convert", "-f", "vhdx", "-O", "raw", copy, qraw);
    expect(readFileSync(qraw).equals(expected)).toBe(true);

    // Writable open: replayed in place, log cleared, data unchanged.
    const rw = readAll(file, { writable: true });
    expect(rw.data.equals(expected)).toBe(true);
    const again = VhdxImage.open(file);
    expect(again.replayedLog).toBe(false);
    // After a crash before the first log entry there is nothing to replay: the header may keep
    // the session's LogGuid over an empty log, which is valid. Otherwise the log is cleared.
    if (rw.replayed) expect(again.header.logGuid).toBe(NIL_GUID);
    else expect(point).toBe("vhdx-data-synced#1");
    again.close();
    expect(readAll(file).data.equals(expected)).toBe(true);
    expect(qemuImg("check", file)).toMatch(/No errors/);
  });
});

describe("a file killed after its log has wrapped around", () => {
  // 300 one-page commits of 8 KiB each go round the 1 MiB log more than twice.
  const ops: Op[] = Array.from({ length: 300 }, (_, i) => ({ offset: i * MiB + 512 * (i % 7), length: 512, fill: (i % 250) + 1 }));
  it.each([128, 129, 130, 256, 300])("at vhdx-log-written#%i replays only the newest entry, as qemu does", (k) => {
    const file = path.join(dir, `wrap-${k}.vhdx`);
    const size = 320 * MiB;
    runChild({ file, virtualSize: size, blockSize: MiB, ops }, `vhdx-log-written#${k}`);
    const expected = applyOps(Buffer.alloc(size), ops.slice(0, k));
    const ro = readAll(file);
    expect(ro.replayed).toBe(true);
    expect(ro.data.equals(expected)).toBe(true);
    const copy = path.join(dir, `wrap-${k}.qemu.vhdx`);
    copyFileSync(file, copy);
    expect(spawnSync("qemu-img", ["check", "-r", "all", copy]).status).toBe(0);
    const ref = path.join(dir, `wrap-${k}.raw`);
    writeFileSync(ref, expected);
    expect(qemuImg("compare", "-q", "-f", "raw", "-F", "vhdx", ref, copy)).toBe("");
  });
});

describe("a differencing file killed during a metadata commit", () => {
  it.each([1, 2, 3])("at vhdx-log-written#%i replays its BAT and sector bitmap", (k) => {
    const parent = path.join(dir, `dparent-${k}.vhdx`);
    const parentData = pseudoRandom(SIZE, 77);
    const praw = path.join(dir, `dparent-${k}.raw`);
    writeRaw(praw, SIZE, [{ offset: 0, data: parentData }]);
    cliOk(["vhdx", "convert", praw, parent, "--block-size", String(MiB)]);
    const child = path.join(dir, `dchild-${k}.avhdx`);
    const ops: Op[] = [
      { offset: 512, length: 1024, fill: 9 }, // partial block: sector bitmap
      { offset: 2 * MiB, length: MiB, zeroes: true, fill: 0 }, // zeroes over parent data
      { offset: 5 * MiB + 4096, length: 512, fill: 8 },
    ];
    runChild({ file: child, parent, virtualSize: SIZE, blockSize: MiB, ops }, `vhdx-log-written#${k}`);
    const expected = applyOps(Buffer.from(parentData), ops.slice(0, k));
    const hash = sha256File(child);
    const ro = readAll(child);
    expect(ro.replayed).toBe(true);
    expect(ro.data.equals(expected)).toBe(true);
    expect(sha256File(child)).toBe(hash);
    const rw = readAll(child, { writable: true });
    expect(rw.replayed).toBe(true);
    expect(rw.data.equals(expected)).toBe(true);
    expect(readAll(child).replayed).toBe(false);
    expect(cli(["vhdx", "check", child]).code).toBe(0);
    if (k !== 2) {
      // libvhdi (which does not replay logs) reads the repaired file the same (zeroed blocks of
      // differencing files hold zero data, which libvhdi reads as such: see chain.test.ts).
      const out = path.join(dir, `dchild-${k}.libvhdi.raw`);
      pyvhdiDump(out, [child, parent]);
      expect(readFileSync(out).equals(expected)).toBe(true);
    }
  });
});

describe("a convert killed by the CLI's own crash point", () => {
  it("leaves no destination, and a staging file whose log replays to the full source", () => {
    const src = path.join(dir, "cli-src.raw");
    writeRaw(src, 32 * MiB, [{ offset: MiB, data: pseudoRandom(5 * MiB, 5) }, { offset: 20 * MiB + 512, data: Buffer.alloc(512, 1) }]);
    const dst = path.join(dir, "cli-dst.vhdx");
    const r = cli(["vhdx", "convert", src, dst, "--block-size", String(MiB)], { env: { HVBACKUP_CRASH_AT: "vhdx-log-written" } });
    expect(r.signal).toBe("SIGKILL");
    expect(existsSync(dst)).toBe(false);
    const staging = readdirSync(dir).filter((n) => n.startsWith(".cli-dst.vhdx.partial-"));
    expect(staging).toHaveLength(1);
    const file = path.join(dir, staging[0]!);
    const hash = sha256File(file);
    const info = JSON.parse(cliOk(["vhdx", "info", file, "--json"]).stdout);
    expect(info.logReplayed).toBe(true);
    expect(readAll(file).data.equals(readFileSync(src))).toBe(true);
    expect(sha256File(file)).toBe(hash);
  });
});

describe("a larger convert killed at random moments", () => {
  it("leaves either no destination or a complete, valid one", async () => {
    const src = path.join(dir, "big-src.raw");
    const size = 64 * MiB;
    const pieces = [];
    for (let i = 0; i < 64; i += 2) pieces.push({ offset: i * MiB + 512 * i, data: pseudoRandom(MiB, 1000 + i) });
    writeRaw(src, size, pieces);
    const source = readFileSync(src);
    const t0 = Date.now();
    cliOk(["vhdx", "convert", src, path.join(dir, "timing.vhdx"), "--block-size", String(MiB)]);
    const full = Date.now() - t0;
    let complete = 0;
    let absent = 0;
    for (let i = 0; i < 8; i++) {
      const dst = path.join(dir, `kill-${i}.vhdx`);
      const delay = Math.floor(((i + 0.5) / 8) * full * 1.1);
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [path.resolve("module/bin/hvbackup.cjs"), "vhdx", "convert", src, dst, "--block-size", String(MiB)], { stdio: "ignore" });
        const timer = setTimeout(() => child.kill("SIGKILL"), delay);
        child.on("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (!existsSync(dst)) {
        absent++;
      } else {
        complete++;
        expect(cli(["vhdx", "check", dst]).code).toBe(0);
        expect(readAll(dst).data.equals(source)).toBe(true);
      }
      // Whatever staging file is left opens cleanly or fails as bad input, and never shows data
      // that is not the source's: every MiB is the source's or zero.
      for (const name of readdirSync(dir).filter((n) => n.startsWith(`.kill-${i}.vhdx.partial-`))) {
        const staged = path.join(dir, name);
        const r = cli(["vhdx", "check", staged]);
        expect([0, 1]).toContain(r.code);
        if (r.code === 0) {
          const data = readAll(staged).data;
          for (let m = 0; m < size; m += MiB) {
            const got = data.subarray(m, m + MiB);
            const want = source.subarray(m, m + MiB);
            if (!got.equals(want)) expect(got.every((b) => b === 0)).toBe(true);
          }
        } else {
          expect(r.stderr.trim().split("\n")).toHaveLength(1);
        }
      }
    }
    expect(complete + absent).toBe(8);
  });
});
