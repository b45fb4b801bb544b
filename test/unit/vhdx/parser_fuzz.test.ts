/**
 * Property test over the parser: random damage (byte flips, truncation, random 4 KiB pages) to
 * valid small VHDX files (clean dynamic, dirty log, differencing child) must make
 * `VhdxImage.open` + a read of the disk + `checkBat` either succeed or throw an HvbError: never
 * another exception type, never a hang (each case is timed).
 *
 * FUZZ_SEED and FUZZ_RUNS override the fixed seed and the 200 runs.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HvbError } from "../../../src/base/mod";
import { checksumWithFieldZeroed } from "../../../src/vhdx/crc32c";
import { VhdxImage } from "../../../src/vhdx/mod";
import { cleanupTempDirs, cliOk, MiB, pseudoRandom, tempDir, writeRaw } from "../../support/vhdx";
import { LIB_BUNDLE } from "../../support/paths";

const SIZE = 8 * MiB;
/** Larger disks (a flipped size field) are read through their data ranges, up to this much. */
const MAX_READ = 64 * MiB;

let dir: string;
const seeds: Array<{ name: string; bytes: Buffer }> = [];

beforeAll(() => {
  dir = tempDir();
  const raw = path.join(dir, "seed.raw");
  writeRaw(raw, SIZE, [
    { offset: 0, data: pseudoRandom(MiB + 512, 1) },
    { offset: 5 * MiB + 4096, data: pseudoRandom(8192, 2) },
    { offset: SIZE - 512, data: Buffer.alloc(512, 3) },
  ]);
  const clean = path.join(dir, "clean.vhdx");
  cliOk(["vhdx", "convert", raw, clean, "--block-size", String(MiB)]);
  seeds.push({ name: "clean.vhdx", bytes: readFileSync(clean) });

  const dirty = path.join(dir, "dirty.vhdx");
  const script = `const {createVhdx}=require(${JSON.stringify(LIB_BUNDLE)});const d=createVhdx(${JSON.stringify(dirty)},{virtualSize:${SIZE},blockSize:${MiB}});d.write(Buffer.alloc(4096,9),0);d.write(Buffer.alloc(4096,8),3*${MiB});d.close();`;
  const r = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, HVBACKUP_CRASH_AT: "vhdx-log-written" } });
  expect(r.signal).toBe("SIGKILL");
  seeds.push({ name: "dirty.vhdx", bytes: readFileSync(dirty) });

  // A differencing child next to its (undamaged) parent; it is damaged under the same name.
  const raw2 = path.join(dir, "seed2.raw");
  writeRaw(raw2, SIZE, [
    { offset: 0, data: pseudoRandom(MiB + 512, 1) },
    { offset: 700 * 512, data: Buffer.alloc(1024, 4) },
    { offset: 6 * MiB, data: pseudoRandom(MiB, 5) },
  ]);
  const child = path.join(dir, "child.avhdx");
  cliOk(["vhdx", "convert", raw2, child, "--parent", clean, "--block-size", String(MiB)]);
  seeds.push({ name: "child.avhdx", bytes: readFileSync(child) });
});
afterAll(cleanupTempDirs);

type Mutation =
  | { kind: "flip"; positions: number[]; masks: number[]; fixChecksums: boolean }
  | { kind: "truncate"; at: number }
  | { kind: "page"; pages: number[]; seed: number };

/** The fields parsers read (the file identifier is left to the uniform positions): headers, region tables, log, metadata, BAT. */
const HOT_SPOTS: Array<[number, number]> = [
  [64 * 1024, 80],
  [128 * 1024, 80],
  [192 * 1024, 16 + 4 * 32],
  [256 * 1024, 16 + 4 * 32],
  [MiB, 8192],
  [2 * MiB, 32 + 8 * 32],
  [2 * MiB + 64 * 1024, 512],
  [3 * MiB, 256],
];

/** A position: inside a hot spot (positive), or anywhere as a fraction of the file (negative). */
const position = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.noBias(fc.nat(HOT_SPOTS.length - 1)), fc.noBias(fc.nat(1 << 20))).map(([i, o]) => HOT_SPOTS[i]![0] + (o % HOT_SPOTS[i]![1])) },
  { weight: 1, arbitrary: fc.noBias(fc.integer({ min: 1, max: 2 ** 30 - 1 })).map((i) => -i / 2 ** 30) },
);
/** A uniform fraction in [0, 1) (fc.double is uniform over bit patterns, not over the interval). */
const fraction = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((i) => i / 2 ** 30);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("flip" as const), positions: fc.array(position, { minLength: 1, maxLength: 8 }), masks: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 8, maxLength: 8 }), fixChecksums: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fraction }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("page" as const), pages: fc.array(fraction.map((f) => -f), { minLength: 1, maxLength: 4 }), seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }) }) },
);

/** Recomputes the header and region table checksums, so damage reaches the field checks. */
function fixChecksums(b: Buffer): void {
  for (const [offset, size] of [[64 * 1024, 4096], [128 * 1024, 4096], [192 * 1024, 65536], [256 * 1024, 65536]] as const) {
    if (offset + size > b.length) continue;
    const block = b.subarray(offset, offset + size);
    block.writeUInt32LE(checksumWithFieldZeroed(block, 4), 4);
  }
}

function apply(original: Buffer, m: Mutation): Buffer {
  const b = Buffer.from(original);
  const at = (p: number): number => (p < 0 || Object.is(p, -0) ? Math.floor(-p * b.length) : p) % b.length;
  switch (m.kind) {
    case "flip":
      m.positions.forEach((p, i) => {
        const o = at(p);
        b[o] = b[o]! ^ m.masks[i]!;
      });
      if (m.fixChecksums) fixChecksums(b);
      return b;
    case "truncate":
      return b.subarray(0, Math.floor(m.at * b.length));
    case "page":
      m.pages.forEach((p, i) => {
        const o = Math.floor((at(p) / 4096)) * 4096;
        pseudoRandom(4096, m.seed + i).copy(b, o);
      });
      return b;
  }
}

/** Opens, reads and checks the damaged file; returns "ok" or the HvbError code. */
function exercise(file: string): string {
  let image: VhdxImage | undefined;
  try {
    image = VhdxImage.open(file);
    const buf = Buffer.alloc(MiB);
    if (image.virtualSize <= MAX_READ) {
      for (let p = 0; p < image.virtualSize; p += MiB) image.read(buf.subarray(0, Math.min(MiB, image.virtualSize - p)), p);
    } else {
      let budget = MAX_READ;
      for (const r of image.dataRanges("chain")) {
        for (let p = r.offset; p < r.offset + r.length && budget > 0; p += MiB, budget -= MiB) image.read(buf.subarray(0, Math.min(MiB, r.offset + r.length - p)), p);
      }
    }
    image.checkBat();
    return "ok";
  } catch (e) {
    if (e instanceof HvbError) return e.code;
    throw e;
  } finally {
    image?.close();
  }
}

describe("the parser under random damage", () => {
  it("opens, reads and checks, or throws an HvbError, quickly", () => {
    const outcomes = new Map<string, number>();
    const seed = Number(process.env["FUZZ_SEED"] ?? 20261123);
    const numRuns = Number(process.env["FUZZ_RUNS"] ?? 200);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), mutation, (which, m) => {
        const s = seeds[which]!;
        const file = path.join(dir, s.name);
        writeFileSync(file, apply(s.bytes, m));
        const t0 = Date.now();
        const outcome = exercise(file);
        const ms = Date.now() - t0;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        if (ms > 5000) throw new Error(`case took ${ms} ms (${JSON.stringify(m)})`);
      }),
      { seed, numRuns },
    );
    console.log("fuzz outcomes", JSON.stringify([...outcomes]));
    // The damage must actually reach the parser: both outcomes occur.
    expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
    expect([...outcomes.keys()].filter((k) => k !== "ok").length).toBeGreaterThanOrEqual(3);
    for (const s of seeds) writeFileSync(path.join(dir, s.name), s.bytes);
  });
});
