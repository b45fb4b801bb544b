/**
 * Bounded memory: converting a 2 TiB sparse VHDX (to VHDX and to sparse raw) must peak below
 * 256 MiB RSS and within 1.5x of the same operation on a 1 GiB disk. Peak RSS is the child's
 * maximum resident set size as reported by GNU time (`/usr/bin/time -f %M`, KiB).
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVhdx, VhdxImage } from "../../../src/vhdx/mod";
import { cleanupTempDirs, MiB, readAt, tempDir } from "../../support/vhdx";
import { CLI } from "../../support/paths";

const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(cleanupTempDirs);

/** Three 2 MiB pieces: at the start, a third of the way in, and at the end. */
function pieces(size: number): number[] {
  return [0, Math.floor(size / 3 / MiB) * MiB, size - 4 * MiB];
}

function makeSparse(file: string, size: number, blockSize: number): void {
  const d = createVhdx(file, { virtualSize: size, blockSize });
  for (const off of pieces(size)) d.write(Buffer.alloc(2 * MiB, 0x5a), off);
  d.close();
}

/** Runs the CLI under GNU time; returns the peak RSS in MiB. */
function peakRss(args: string[]): number {
  const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  const kib = Number(r.stderr.trim().split("\n").pop());
  expect(kib).toBeGreaterThan(0);
  return kib / 1024;
}

function expectPieces(size: number, read: (buf: Buffer, offset: number) => void): void {
  for (const off of pieces(size)) {
    const b = Buffer.alloc(2 * MiB + 8192);
    const from = Math.max(0, off - 4096);
    read(b.subarray(0, Math.min(b.length, size - from)), from);
    expect(b.subarray(off - from, off - from + 2 * MiB).every((x) => x === 0x5a)).toBe(true);
    if (off >= 4096) expect(b.subarray(0, 4096).every((x) => x === 0)).toBe(true);
  }
}

describe("converting a 2 TiB sparse disk", () => {
  for (const blockSize of [32 * MiB, MiB]) {
    it(`uses the memory a 1 GiB disk does (block size ${blockSize / MiB} MiB)`, () => {
      const rss: Record<string, number> = {};
      for (const [name, size] of [["1g", GiB], ["2t", 2 * TiB]] as const) {
        const src = path.join(dir, `${name}-${blockSize}.vhdx`);
        makeSparse(src, size, blockSize);
        const outVhdx = path.join(dir, `${name}-${blockSize}.out.vhdx`);
        const outRaw = path.join(dir, `${name}-${blockSize}.out.raw`);
        rss[`${name} vhdx`] = peakRss(["vhdx", "convert", src, outVhdx, "--block-size", String(blockSize)]);
        rss[`${name} raw`] = peakRss(["vhdx", "convert", src, outRaw]);

        const out = VhdxImage.open(outVhdx);
        expect(out.virtualSize).toBe(size);
        expect(out.dataRanges("file").reduce((n, r) => n + r.length, 0)).toBeLessThanOrEqual(3 * Math.max(2 * MiB, blockSize) * 2);
        expectPieces(size, (b, o) => out.read(b, o));
        out.close();
        expect(statSync(outRaw).size).toBe(size);
        expect(statSync(outRaw).blocks * 512).toBeLessThan(64 * MiB); // sparse
        expectPieces(size, (b, o) => readAt(outRaw, o, b.length).copy(b));
      }
      console.log(`peak RSS (MiB), block size ${blockSize / MiB} MiB:`, JSON.stringify(rss));
      for (const v of Object.values(rss)) expect(v).toBeLessThan(256);
      if (blockSize === 32 * MiB) {
        // The default: a 2 TiB disk has a 512 KiB BAT, and must cost what a 1 GiB one does.
        expect(rss["2t vhdx"]!).toBeLessThan(rss["1g vhdx"]! * 1.5);
        expect(rss["2t raw"]!).toBeLessThan(rss["1g raw"]! * 1.5);
      } else {
        // 1 MiB blocks give a 2 TiB disk a 16 MiB BAT that is streamed through a 4 MiB page
        // cache: allow the garbage of one pass over it, never anything that grows with the disk.
        expect(rss["2t vhdx"]!).toBeLessThan(rss["1g vhdx"]! + 32);
        expect(rss["2t raw"]!).toBeLessThan(rss["1g raw"]! + 32);
      }
    });
  }
});
