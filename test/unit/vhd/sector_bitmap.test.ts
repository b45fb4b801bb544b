import { describe, expect, it } from "vitest";
import { bitmapByteSize, isSectorSet, sectorRuns, setSectors } from "../../../src/vhd/sector_bitmap";

describe("sector bitmap", () => {
  it("is MSB-first: bit 7 of byte 0 is sector 0", () => {
    const b = Uint8Array.of(0b01100000);
    expect([0, 1, 2, 3].map((i) => isSectorSet(b, i))).toEqual([false, true, true, false]);
  });

  it("sets ranges and reports changes", () => {
    const b = new Uint8Array(4);
    expect(setSectors(b, 6, 4)).toBe(true);
    expect(Array.from(b)).toEqual([0b00000011, 0b11000000, 0, 0]);
    expect(setSectors(b, 7, 2)).toBe(false);
  });

  it("splits into runs, also across whole bytes", () => {
    const b = Uint8Array.of(0b01100000, 0xff, 0xff, 0x00);
    expect(sectorRuns(b, 0, 32)).toEqual([
      { first: 0, count: 1, set: false },
      { first: 1, count: 2, set: true },
      { first: 3, count: 5, set: false },
      { first: 8, count: 16, set: true },
      { first: 24, count: 8, set: false },
    ]);
    expect(sectorRuns(b, 2, 8)).toEqual([
      { first: 2, count: 1, set: true },
      { first: 3, count: 5, set: false },
      { first: 8, count: 2, set: true },
    ]);
  });

  it("pads the bitmap to a sector", () => {
    expect(bitmapByteSize(2 * 1024 * 1024)).toBe(512);
    expect(bitmapByteSize(4096)).toBe(512);
    expect(bitmapByteSize(8 * 1024 * 1024)).toBe(2048);
  });
});
