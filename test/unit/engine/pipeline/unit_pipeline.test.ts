import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HvbError } from "../../../../src/base/mod";
import type { VirtualDisk } from "../../../../src/disk/mod";
import { BUFFER_BUDGET, heldBytes, takeSlots, giveBack } from "../../../../src/engine/pipeline/buffers";
import { forEachUnit, forEachUnitAsync, type UnitResult } from "../../../../src/engine/pipeline/unit_pipeline";
import { WorkerPool } from "../../../../src/engine/pipeline/worker_pool";
import { createVhdx, VhdxImage } from "../../../../src/vhdx/mod";

const MiB = 1024 * 1024;
const UNIT = 2 * MiB;
const dir = mkdtempSync(path.join(tmpdir(), "hvb-pipeline-"));
const pool = new WorkerPool(2);
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A 24 MiB parent with data in some units, a child that overwrites sectors and zeroes a unit. */
function chain(): { parent: string; child: string } {
  const parent = path.join(dir, `p-${Math.random()}.vhdx`);
  const child = path.join(dir, `c-${Math.random()}.avhdx`);
  const p = createVhdx(parent, { virtualSize: 24 * MiB + 512 * 3, blockSize: UNIT });
  for (const u of [0, 1, 2, 5, 9]) p.write(randomBytes(UNIT), u * UNIT);
  p.write(randomBytes(512 * 3), 12 * UNIT);
  p.close();
  const c = createVhdx(child, { parentPath: parent, blockSize: UNIT });
  c.write(randomBytes(4096), UNIT + 512);
  c.write(randomBytes(512), 9 * UNIT + UNIT - 512);
  c.write(new Uint8Array(UNIT), 5 * UNIT);
  c.write(randomBytes(UNIT), 7 * UNIT);
  c.close();
  return { parent, child };
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe("forEachUnit", () => {
  it("hands every unit over in order, with the bytes read() gives, zero flags and SHA-256, through a chain", () => {
    const { child } = chain();
    const image = VhdxImage.open(child);
    try {
      const units = Array.from({ length: Math.ceil(image.virtualSize / UNIT) }, (_, i) => i);
      const seen: number[] = [];
      // Two buffers for 13 units: every buffer is reused several times while others are in flight.
      forEachUnit({
        source: image,
        unitSize: UNIT,
        units,
        pool,
        maxBuffers: 2,
        consume: (u, data, r: UnitResult) => {
          seen.push(u);
          const want = new Uint8Array(Math.min(UNIT, image.virtualSize - u * UNIT));
          image.read(want, u * UNIT);
          expect(Buffer.compare(data, want), `unit ${u}`).toBe(0);
          const zero = want.every((b) => b === 0);
          expect(r.zero, `unit ${u}`).toBe(zero);
          expect(r.sha256).toBe(zero ? undefined : sha(want));
        },
      });
      expect(seen).toEqual(units);
    } finally {
      image.close();
    }
  });

  it("reads other formats on the calling thread and still hashes on the pool", () => {
    const bytes = randomBytes(5 * MiB);
    bytes.fill(0, 2 * MiB, 4 * MiB);
    const raw: VirtualDisk = {
      path: "memory", type: "fixed", virtualSize: bytes.length, logicalSectorSize: 512, parent: undefined,
      read: (buf, offset) => buf.set(bytes.subarray(offset, offset + buf.length)),
      write: () => undefined, dataRanges: () => [], flush: () => undefined, close: () => undefined,
    };
    const got: Array<[number, UnitResult]> = [];
    forEachUnit({ source: raw, unitSize: UNIT, units: [0, 1, 2], pool, consume: (u, _d, r) => void got.push([u, r]) });
    expect(got).toEqual([
      [0, { zero: false, sha256: sha(bytes.subarray(0, UNIT)) }],
      [1, { zero: true, sha256: undefined }],
      [2, { zero: false, sha256: sha(bytes.subarray(2 * UNIT)) }],
    ]);
    // One 8 MiB unit per buffer (an odd count, as for disks over 256 GiB): a short last unit.
    const big: Array<[number, UnitResult]> = [];
    forEachUnit({ source: raw, unitSize: 4 * UNIT, units: [0], pool, consume: (u, _d, r) => void big.push([u, r]) });
    expect(big).toEqual([[0, { zero: false, sha256: sha(bytes) }]]);
  });

  it("stops at a failing read with an error naming the file, after the jobs in flight end, and keeps working after", () => {
    const { child } = chain();
    const image = VhdxImage.open(child);
    const dirFd = openSync(dir, "r");
    try {
      const real = image.locate.bind(image);
      // The read holding unit 6 "lives" in a directory: reading it fails with EISDIR on the worker.
      image.locate = (offset = 0, length = image.virtualSize - offset) => real(offset, length).map((r) => (offset <= 6 * UNIT && offset + length > 6 * UNIT ? { ...r, fd: dirFd, path: dir } : r));
      const seen: number[] = [];
      let error: unknown;
      try {
        forEachUnit({ source: image, unitSize: UNIT, units: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], pool, maxBuffers: 3, consume: (u) => void seen.push(u) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HvbError);
      expect((error as HvbError).code).toBe("IoError");
      expect((error as Error).message).toContain(dir);
      // Handed over in order up to the failing read (units 4-7, one job), nothing after it.
      expect(seen).toEqual([0, 1, 2, 3]);
      image.locate = real;
      const again: number[] = [];
      forEachUnit({ source: image, unitSize: UNIT, units: [6, 7], pool, consume: (u) => void again.push(u) });
      expect(again).toEqual([6, 7]);
    } finally {
      closeSync(dirFd);
      image.close();
    }
  });

  it("stops when the consumer throws (a mismatch, a failed write) and rethrows that error", () => {
    const { child } = chain();
    const image = VhdxImage.open(child);
    try {
      const seen: number[] = [];
      expect(() =>
        forEachUnit({
          source: image, unitSize: UNIT, units: [0, 1, 2, 3, 4, 5, 6], pool, maxBuffers: 2,
          consume: (u) => {
            seen.push(u);
            if (u === 2) throw new Error("disk full");
          },
        }),
      ).toThrow("disk full");
      expect(seen).toEqual([0, 1, 2]);
    } finally {
      image.close();
    }
  });

  it("fails cleanly when a worker thread dies mid-run, and the pool replaces it for the next run", () => {
    const { child } = chain();
    const image = VhdxImage.open(child);
    const lone = new WorkerPool(1);
    try {
      // The crash is queued behind the jobs already posted: when they all finish before the
      // worker dies, and the next job goes to its replacement, nothing is lost and the run
      // completes (correctly). Otherwise the run must fail with the worker's message. Try until
      // the failing case has been seen; both outcomes are checked every time.
      let failed = 0;
      for (let attempt = 0; attempt < 30 && failed < 2; attempt++) {
        const seen: number[] = [];
        let error: unknown;
        try {
          forEachUnit({
            source: image, unitSize: UNIT, units: [0, 2, 4, 6, 8, 10], pool: lone, maxBuffers: 2,
            consume: (u) => {
              seen.push(u);
              if (u === 0) lone.crashOneForTests(0);
            },
          });
        } catch (e) {
          error = e;
        }
        if (error === undefined) {
          expect(seen).toEqual([0, 2, 4, 6, 8, 10]);
        } else {
          expect(String(error)).toMatch(/worker thread stopped/);
          expect(seen.length).toBeLessThan(6);
          expect(seen).toEqual([0, 2, 4, 6, 8, 10].slice(0, seen.length));
          failed++;
        }
      }
      expect(failed).toBeGreaterThan(0);
      const again: number[] = [];
      forEachUnit({ source: image, unitSize: UNIT, units: [0, 2, 4, 6, 8, 10], pool: lone, consume: (u) => void again.push(u) });
      expect(again).toEqual([0, 2, 4, 6, 8, 10]);
    } finally {
      image.close();
      void lone.close();
    }
  });
});

describe("write-behind", () => {
  it("writes the units a consumer places to their file on the workers, and fails naming the file when a write fails", () => {
    const { child } = chain();
    const image = VhdxImage.open(child);
    const out = path.join(dir, `wb-${Math.random()}.bin`);
    const fd = openSync(out, "w+");
    try {
      const units = [0, 1, 2, 7, 9];
      // Each unit lands at a shuffled place in a flat file, written by a worker thread.
      const place = (u: number): number => ((u * 7) % 11) * UNIT;
      forEachUnit({ source: image, unitSize: UNIT, units, pool, maxBuffers: 2, consume: (u) => ({ fd, fileOffset: place(u), path: out }) });
      for (const u of units) {
        const want = new Uint8Array(UNIT);
        image.read(want, u * UNIT);
        const got = Buffer.alloc(UNIT);
        readSync(fd, got, 0, UNIT, place(u));
        expect(Buffer.compare(got, want), `unit ${u}`).toBe(0);
      }
      // A descriptor the write cannot use: the run fails with an error naming the file.
      let caught: unknown;
      try {
        forEachUnit({ source: image, unitSize: UNIT, units, pool, consume: () => ({ fd: 1_000_000, fileOffset: 0, path: "/nowhere/x.vhdx" }) });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(HvbError);
      expect((caught as HvbError).message).toMatch(/cannot write '\/nowhere\/x\.vhdx' at 0/);
    } finally {
      closeSync(fd);
      image.close();
    }
  });

  it("a write job that cannot be posted fails the run and loses no buffer of the jobs still in flight", () => {
    const { child } = chain();
    const image = VhdxImage.open(child);
    // Reading and hashing go to the real pool; posting a write job throws, as postMessage can.
    class NoWrites extends WorkerPool {
      override post(job: Parameters<WorkerPool["post"]>[0]): ReturnType<WorkerPool["post"]> {
        if (job.write) throw new Error("cannot post (test)");
        return super.post(job);
      }
    }
    const lone = new NoWrites(2);
    try {
      // Three batches of four units, all in flight when the first is handed over.
      const units = Array.from({ length: 12 }, (_, i) => i);
      expect(() => forEachUnit({ source: image, unitSize: UNIT, units, pool: lone, maxBuffers: 3, consume: () => ({ fd: 1, fileOffset: 0, path: "x" }) })).toThrow(/cannot post \(test\)/);
      // Every buffer the run took is idle again: taking as many again allocates nothing.
      const held = heldBytes();
      const again = takeSlots(4 * UNIT, 4, 3, false);
      expect(again.length).toBe(3);
      expect(heldBytes()).toBe(held);
      giveBack(again);
    } finally {
      image.close();
      void lone.close();
    }
  });
});

describe("forEachUnitAsync", () => {
  it("runs many pipelines at once (parallel VMs) on one pool, each in order and bit-exact, within the buffer budget", async () => {
    const { child } = chain();
    const images = Array.from({ length: 12 }, () => VhdxImage.open(child));
    const start = heldBytes();
    let peak = start;
    let running = 0;
    let mostRunning = 0;
    try {
      const units = Array.from({ length: Math.ceil(images[0]!.virtualSize / UNIT) }, (_, i) => i);
      const want = units.map((u) => {
        const b = new Uint8Array(Math.min(UNIT, images[0]!.virtualSize - u * UNIT));
        images[0]!.read(b, u * UNIT);
        return b;
      });
      const runs = images.map(async (image) => {
        const seen: number[] = [];
        let begun = false;
        await forEachUnitAsync({
          source: image,
          unitSize: UNIT,
          units,
          pool,
          // Two buffers each (of 8 MiB, for 4 batches): twelve pipelines want three times the
          // budget, so the budget holds most back, and each that runs must wait for its own
          // buffers to come back, its later batches queued behind the others' first ones, so
          // runs overlap by construction. (With as many buffers as units, two pipelines filled
          // the budget, and whether the second handed over a unit before the first ended was a
          // race the first usually won once the main thread mapped blocks quickly.)
          maxBuffers: 2,
          consume: (u, data) => {
            if (!begun) {
              begun = true;
              mostRunning = Math.max(mostRunning, ++running);
            }
            peak = Math.max(peak, heldBytes());
            seen.push(u);
            expect(Buffer.compare(data, want[u]!), `unit ${u}`).toBe(0);
          },
        });
        running--;
        expect(seen).toEqual(units);
      });
      await Promise.all(runs);
    } finally {
      for (const i of images) i.close();
    }
    // Several copies were under way at once, and together they never held more than the budget.
    expect(mostRunning).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(Math.max(BUFFER_BUDGET, start));
  });
});

describe("takeSlots", () => {
  it("keeps the buffers of all pipelines within the budget, but always gives one", () => {
    const a = takeSlots(8 * MiB, 4, 100);
    expect(a.length).toBe(Math.floor(BUFFER_BUDGET / (8 * MiB)));
    const b = takeSlots(8 * MiB, 4, 5);
    expect(b.length).toBe(1);
    expect(heldBytes()).toBeLessThanOrEqual(BUFFER_BUDGET + 8 * MiB);
    giveBack(a);
    giveBack(b);
    // Another size evicts idle buffers instead of growing past the budget.
    const c = takeSlots(32 * MiB, 1, 100);
    expect(heldBytes()).toBeLessThanOrEqual(BUFFER_BUDGET + 8 * MiB);
    expect(c.length).toBeGreaterThanOrEqual(1);
    giveBack(c);
  });
});
