import { describe, expect, it } from "vitest";
import { batGeometry, bitmapIndex, entryOffset, entryState, isValidBlockSize, makeEntry, payloadIndex } from "../../../src/vhdx/bat";
import { MiB } from "../../../src/vhdx/_layout";

const GiB = 1024 * MiB;

describe("BAT geometry", () => {
  it("matches qemu's 64 MiB, 8 MiB-block dynamic disk: chunk ratio 512, 8 entries", () => {
    const g = batGeometry(64 * MiB, 8 * MiB, 512, false);
    expect(g).toMatchObject({ chunkRatio: 512, dataBlocks: 8, bitmapBlocks: 1, totalEntries: 8 });
  });

  it("interleaves a sector bitmap entry after every chunk (100 GiB, 16 MiB blocks)", () => {
    const g = batGeometry(100 * GiB, 16 * MiB, 512, false);
    expect(g.chunkRatio).toBe(256);
    expect(payloadIndex(g, 255)).toBe(255);
    expect(payloadIndex(g, 256)).toBe(257);
    expect(bitmapIndex(g, 0)).toBe(256);
    expect(g.dataBlocks).toBe(6400);
    expect(g.totalEntries).toBe(6400 + Math.floor(6399 / 256));
  });

  it("gives a differencing disk a sector bitmap entry for every chunk, including the last", () => {
    const g = batGeometry(100 * GiB, 16 * MiB, 512, true);
    expect(g.bitmapBlocks).toBe(25);
    expect(g.totalEntries).toBe(25 * 257);
    expect(bitmapIndex(g, 24)).toBe(g.totalEntries - 1);
  });

  it("rounds a size that is not a multiple of the block size up to one more block", () => {
    expect(batGeometry(64 * MiB + 3 * MiB + 4096, 32 * MiB, 512, false).dataBlocks).toBe(3);
  });

  it("scales the chunk ratio with 4096-byte sectors and 256 MiB blocks", () => {
    expect(batGeometry(GiB, MiB, 4096, false).chunkRatio).toBe(32768);
    expect(batGeometry(GiB, 256 * MiB, 512, false).chunkRatio).toBe(16);
  });
});

describe("BAT entries", () => {
  it("packs the state in bits 0-2 and the offset in MiB from bit 20", () => {
    expect(makeEntry(6, 8 * MiB)).toBe(0x800006n);
    expect(entryState(0x800006n)).toBe(6);
    expect(entryOffset(0x800006n)).toBe(8 * MiB);
    const far = makeEntry(7, 60 * 1024 * GiB);
    expect(entryOffset(far)).toBe(60 * 1024 * GiB);
    expect(entryState(far)).toBe(7);
  });

  it("accepts powers of two from 1 MiB to 256 MiB only", () => {
    for (let s = MiB; s <= 256 * MiB; s *= 2) expect(isValidBlockSize(s)).toBe(true);
    for (const s of [0, MiB / 2, 3 * MiB, 512 * MiB, MiB + 1, 1.5]) expect(isValidBlockSize(s)).toBe(false);
  });
});
