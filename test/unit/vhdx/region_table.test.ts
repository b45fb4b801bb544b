import { describe, expect, it } from "vitest";
import { checksumWithFieldZeroed } from "../../../src/vhdx/crc32c";
import { StructureError } from "../../../src/vhdx/errors";
import { type RegionEntry, parseRegionTable, serializeRegionTable } from "../../../src/vhdx/region_table";
import { MiB, REGION_BAT, REGION_METADATA, REGION_TABLE_SIZE } from "../../../src/vhdx/_layout";

const ENTRIES: RegionEntry[] = [
  { guid: REGION_BAT, fileOffset: 3 * MiB, length: MiB, required: true },
  { guid: REGION_METADATA, fileOffset: 2 * MiB, length: MiB, required: false },
];

function mutated(mutate: (b: Buffer) => void, fixChecksum = true): Buffer {
  const b = Buffer.from(serializeRegionTable(ENTRIES));
  mutate(b);
  if (fixChecksum) b.writeUInt32LE(checksumWithFieldZeroed(b, 4), 4);
  return b;
}

function parseError(block: Uint8Array): StructureError {
  try {
    parseRegionTable(block, "region table 1");
  } catch (e) {
    expect(e).toBeInstanceOf(StructureError);
    return e as StructureError;
  }
  throw new Error("parseRegionTable accepted an invalid table");
}

describe("parseRegionTable / serializeRegionTable", () => {
  it("round-trips entries, including the Required bit", () => {
    const block = serializeRegionTable(ENTRIES);
    expect(block.length).toBe(REGION_TABLE_SIZE);
    expect(parseRegionTable(block)).toEqual(ENTRIES);
  });

  it("lays out the header and entries at the MS-VHDX offsets", () => {
    const b = Buffer.from(serializeRegionTable(ENTRIES));
    expect(b.toString("latin1", 0, 4)).toBe("regi");
    expect(b.readUInt32LE(8)).toBe(2);
    expect(b.subarray(16, 32).toString("hex")).toBe("6677c22d23f600429d64115e9bfd4a08");
    expect(b.readBigUInt64LE(32)).toBe(BigInt(3 * MiB));
    expect(b.readUInt32LE(40)).toBe(MiB);
    expect(b.readUInt32LE(44)).toBe(1);
  });

  it("accepts an unknown region that is not required", () => {
    const extra: RegionEntry = { guid: "01234567-89ab-cdef-0123-456789abcdef", fileOffset: 8 * MiB, length: MiB, required: false };
    expect(parseRegionTable(serializeRegionTable([...ENTRIES, extra]))).toHaveLength(3);
  });

  it("rejects a flipped signature", () => {
    expect(parseError(mutated((b) => (b[1] = 0))).message).toMatch(/region table 1: signature is 'r\?gi', expected 'regi'/);
  });

  it("rejects a flipped checksum, and a flipped byte anywhere in the 64 KiB", () => {
    expect(parseError(mutated((b) => (b[4] = b[4]! ^ 0x80), false)).message).toMatch(/region table 1: checksum/);
    expect(parseError(mutated((b) => (b[60000] = 1), false)).message).toMatch(/checksum/);
  });

  it("rejects an EntryCount above 2047", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(2048, 8))).message).toMatch(/EntryCount 2048 exceeds 2047/);
  });

  it("rejects a FileOffset that is unaligned or inside the header section", () => {
    expect(parseError(mutated((b) => b.writeBigUInt64LE(BigInt(3 * MiB + 4096), 32))).message).toMatch(/region table 1 entry 0: FileOffset/);
    expect(parseError(mutated((b) => b.writeBigUInt64LE(0n, 32))).message).toMatch(/FileOffset 0/);
  });

  it("rejects a Length that is zero or unaligned", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(0, 40))).message).toMatch(/entry 0: Length 0/);
    expect(parseError(mutated((b) => b.writeUInt32LE(4096, 72))).message).toMatch(/entry 1: Length 4096/);
  });

  it("rejects the same region twice", () => {
    expect(parseError(mutated((b) => b.copy(b, 48, 16, 32))).message).toMatch(/appears twice/);
  });

  it("rejects an unknown region marked required", () => {
    const unknown = serializeRegionTable([...ENTRIES, { guid: "01234567-89ab-cdef-0123-456789abcdef", fileOffset: 8 * MiB, length: MiB, required: true }]);
    expect(parseError(unknown).message).toMatch(/unknown required region 01234567/);
  });

  it("rejects a short block", () => {
    expect(parseError(new Uint8Array(16)).message).toMatch(/got 16 bytes/);
  });
});
