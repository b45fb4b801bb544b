import { describe, expect, it } from "vitest";
import { mergeRanges, pushRange, totalLength, type ByteRange } from "../../../src/base/ranges";

describe("mergeRanges", () => {
  it("sorts, merges overlapping and touching ranges and keeps gaps", () => {
    expect(
      mergeRanges([
        { offset: 10, length: 5 },
        { offset: 0, length: 10 },
        { offset: 20, length: 1 },
        { offset: 12, length: 1 },
      ]),
    ).toEqual([
      { offset: 0, length: 15 },
      { offset: 20, length: 1 },
    ]);
  });

  it("clips to the region and drops what falls outside", () => {
    expect(mergeRanges([{ offset: 0, length: 100 }, { offset: 500, length: 10 }], { offset: 50, length: 100 })).toEqual([{ offset: 50, length: 50 }]);
    expect(mergeRanges([{ offset: 0, length: 0 }])).toEqual([]);
  });

  it("clips each end of a range that straddles the region and keeps ranges inside it whole", () => {
    const clip = { offset: 100, length: 100 };
    expect(mergeRanges([{ offset: 90, length: 20 }, { offset: 150, length: 10 }, { offset: 190, length: 50 }], clip)).toEqual([
      { offset: 100, length: 10 },
      { offset: 150, length: 10 },
      { offset: 190, length: 10 },
    ]);
    // A range that only touches the region's end has no byte inside it.
    expect(mergeRanges([{ offset: 200, length: 5 }, { offset: 95, length: 5 }], clip)).toEqual([]);
    // An empty region keeps nothing.
    expect(mergeRanges([{ offset: 0, length: 1000 }], { offset: 10, length: 0 })).toEqual([]);
  });

  it("does not change its input", () => {
    const input: ByteRange[] = [{ offset: 5, length: 5 }, { offset: 0, length: 5 }];
    const copy = structuredClone(input);
    mergeRanges(input, { offset: 2, length: 4 });
    expect(input).toEqual(copy);
  });
});

describe("pushRange", () => {
  it("merges a range that starts where the last one ends", () => {
    const out: ByteRange[] = [];
    pushRange(out, 0, 10);
    pushRange(out, 10, 5);
    expect(out).toEqual([{ offset: 0, length: 15 }]);
  });

  it("starts a new range after a gap", () => {
    const out: ByteRange[] = [{ offset: 0, length: 10 }];
    pushRange(out, 11, 1);
    expect(out).toEqual([{ offset: 0, length: 10 }, { offset: 11, length: 1 }]);
  });

  it("ignores empty and negative lengths", () => {
    const out: ByteRange[] = [];
    pushRange(out, 0, 0);
    pushRange(out, 5, -1);
    expect(out).toEqual([]);
  });
});

describe("totalLength", () => {
  it("adds the lengths, zero for none", () => {
    expect(totalLength([])).toBe(0);
    expect(totalLength([{ offset: 0, length: 3 }, { offset: 100, length: 4 }])).toBe(7);
  });
});
