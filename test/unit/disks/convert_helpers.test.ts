import { describe, expect, it } from "vitest";
import { forEachChunk, forEachDifference, forEachNonZero, isAllZero } from "../../../src/disks/convert";

/** The (from, to) runs a callback-style helper reports. */
function runs(each: (fn: (from: number, to: number) => void) => void): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  each((from, to) => out.push([from, to]));
  return out;
}

describe("isAllZero", () => {
  it("is true for empty and zero buffers, also larger than the shared zero buffer", () => {
    expect(isAllZero(new Uint8Array(0))).toBe(true);
    expect(isAllZero(new Uint8Array(4096))).toBe(true);
    expect(isAllZero(new Uint8Array(9 * 1024 * 1024))).toBe(true);
  });

  it("finds one non-zero byte anywhere, also in a view into a larger buffer", () => {
    const big = new Uint8Array(9 * 1024 * 1024);
    big[big.length - 1] = 1;
    expect(isAllZero(big)).toBe(false);
    const backing = new Uint8Array(100);
    backing[10] = 7;
    expect(isAllZero(backing.subarray(11))).toBe(true);
    expect(isAllZero(backing.subarray(10, 11))).toBe(false);
  });
});

describe("forEachNonZero", () => {
  it("reports maximal runs of non-zero units", () => {
    const b = new Uint8Array(8 * 512);
    b[0] = 1; // unit 0
    b[512 + 511] = 1; // unit 1
    b[4 * 512 + 3] = 1; // unit 4
    b[7 * 512] = 1; // unit 7 (last)
    expect(runs((fn) => forEachNonZero(b, 512, fn))).toEqual([[0, 1024], [2048, 2560], [3584, 4096]]);
  });

  it("reports nothing for zeros and ends a short last unit at the buffer's end", () => {
    expect(runs((fn) => forEachNonZero(new Uint8Array(2048), 512, fn))).toEqual([]);
    const b = new Uint8Array(700);
    b[699] = 1;
    expect(runs((fn) => forEachNonZero(b, 512, fn))).toEqual([[512, 700]]);
  });
});

describe("forEachDifference", () => {
  it("reports maximal runs of differing sectors", () => {
    const a = new Uint8Array(8 * 512);
    const b = new Uint8Array(8 * 512);
    b[1 * 512] = 1;
    b[2 * 512 + 100] = 1;
    b[6 * 512 + 511] = 1;
    expect(runs((fn) => forEachDifference(a, b, 512, fn))).toEqual([[512, 1536], [3072, 3584]]);
  });

  it("reports nothing for equal buffers and a difference in the last sector up to the end", () => {
    const a = new Uint8Array(1 << 20).fill(3);
    expect(runs((fn) => forEachDifference(a, Uint8Array.from(a), 4096, fn))).toEqual([]);
    const b = Uint8Array.from(a);
    b[b.length - 1] = 0;
    expect(runs((fn) => forEachDifference(a, b, 4096, fn))).toEqual([[(1 << 20) - 4096, 1 << 20]]);
  });
});

describe("forEachChunk", () => {
  it("splits each range into pieces of at most max bytes, in order", () => {
    const out: Array<[number, number]> = [];
    forEachChunk([{ offset: 0, length: 10 }, { offset: 100, length: 4 }, { offset: 200, length: 0 }], 4, (o, l) => out.push([o, l]));
    expect(out).toEqual([[0, 4], [4, 4], [8, 2], [100, 4]]);
  });
});
