/**
 * Partially present blocks of differencing files are mapped a run of equal sector-bitmap bits at
 * a time (VhdxImage's sector runs): extents(), locate() and read() must still agree, sector for
 * sector, with a model of which sectors the child wrote, for any pattern of writes (runs that
 * start and end inside bitmap bytes, single sectors, whole bytes, whole blocks).
 */
import { readSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VhdxImage, createVhdx } from "../../../src/vhdx/mod";
import { cleanupTempDirs, MiB, pseudoRandom, tempDir } from "../../support/vhdx";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(cleanupTempDirs);

const SIZE = 4 * MiB;
let n = 0;

describe("sector runs of partially present blocks", () => {
  for (const lss of [512, 4096] as const) {
    it(`map, locate and read what a child wrote, sector for sector (${lss}-byte sectors)`, () => {
      const sectors = SIZE / lss;
      const write = fc.record({ first: fc.nat({ max: sectors - 1 }), count: fc.integer({ min: 1, max: 80 }) });
      fc.assert(
        fc.property(fc.array(write, { minLength: 1, maxLength: 12 }), (writes) => {
          const base = path.join(dir, `base-${n}.vhdx`);
          const child = path.join(dir, `child-${n++}.avhdx`);
          const b = createVhdx(base, { virtualSize: SIZE, blockSize: MiB, logicalSectorSize: lss });
          const parentBytes = pseudoRandom(SIZE, n);
          b.write(parentBytes, 0);
          b.close();
          const c = createVhdx(child, { parentPath: base, blockSize: MiB });
          const model = Buffer.from(parentBytes);
          const written = new Uint8Array(sectors);
          for (const [i, w] of writes.entries()) {
            const count = Math.min(w.count, sectors - w.first);
            const data = Buffer.alloc(count * lss, 0x10 + i);
            c.write(data, w.first * lss);
            data.copy(model, w.first * lss);
            written.fill(1, w.first, w.first + count);
          }
          c.close();

          const image = VhdxImage.open(child);
          try {
            // extents(): data exactly where the child wrote, parent elsewhere.
            const kinds = new Uint8Array(sectors).fill(9);
            for (const e of image.extents()) {
              expect(e.kind === "data" || e.kind === "parent").toBe(true);
              kinds.fill(e.kind === "data" ? 1 : 0, e.offset / lss, (e.offset + e.length) / lss);
            }
            expect(Buffer.from(kinds).equals(Buffer.from(written))).toBe(true);
            // Odd ranges too (starting and ending inside runs).
            const from = 3 * lss + 7;
            const part = image.extents(from, 2 * MiB - 5 * lss);
            expect(part[0]!.offset).toBe(from);
            for (const e of part) for (let s = Math.floor(e.offset / lss); s * lss < e.offset + e.length; s++) expect(e.kind === "data" ? 1 : 0).toBe(written[s]);
            // read(): the model.
            const got = Buffer.alloc(SIZE);
            image.read(got, 0);
            expect(got.equals(model)).toBe(true);
            // locate(): positional reads of its runs give the model too.
            const viaRuns = Buffer.alloc(SIZE);
            for (const r of image.locate()) {
              if (r.fd < 0) viaRuns.fill(0, r.offset, r.offset + r.length);
              else expect(readSync(r.fd, viaRuns, r.offset, r.length, r.fileOffset)).toBe(r.length);
            }
            expect(viaRuns.equals(model)).toBe(true);
          } finally {
            image.close();
          }
        }),
        { numRuns: 25 },
      );
    });
  }
});
