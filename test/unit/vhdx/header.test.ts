import { describe, expect, it } from "vitest";
import { checksumWithFieldZeroed } from "../../../src/vhdx/crc32c";
import { StructureError } from "../../../src/vhdx/errors";
import { type VhdxHeader, chooseHeader, parseHeader, serializeHeader } from "../../../src/vhdx/header";
import { HEADER_SIZE, MiB } from "../../../src/vhdx/_layout";

const SAMPLE: VhdxHeader = {
  sequenceNumber: 7n,
  fileWriteGuid: "11111111-2222-3333-4444-555555555555",
  dataWriteGuid: "83ed0ec3-24c8-49a6-a959-5e4bf1288bfb",
  logGuid: "00000000-0000-0000-0000-000000000000",
  logVersion: 0,
  version: 1,
  logLength: MiB,
  logOffset: MiB,
};

/** A copy of a serialised header with `mutate` applied and the checksum recomputed. */
function mutated(mutate: (b: Buffer) => void, fixChecksum = true): Buffer {
  const b = Buffer.from(serializeHeader(SAMPLE));
  mutate(b);
  if (fixChecksum) b.writeUInt32LE(checksumWithFieldZeroed(b, 4), 4);
  return b;
}

function parseError(block: Uint8Array): StructureError {
  try {
    parseHeader(block, "header 1");
  } catch (e) {
    expect(e).toBeInstanceOf(StructureError);
    return e as StructureError;
  }
  throw new Error("parseHeader accepted an invalid header");
}

describe("parseHeader / serializeHeader", () => {
  it("round-trips every field", () => {
    const block = serializeHeader(SAMPLE);
    expect(block.length).toBe(HEADER_SIZE);
    expect(parseHeader(block)).toEqual(SAMPLE);
    expect(Buffer.from(serializeHeader(parseHeader(block))).equals(Buffer.from(block))).toBe(true);
  });

  it("lays fields out at the MS-VHDX offsets", () => {
    const b = Buffer.from(serializeHeader({ ...SAMPLE, logGuid: "00112233-4455-6677-8899-aabbccddeeff", logOffset: 3 * MiB, logLength: 2 * MiB }));
    expect(b.toString("latin1", 0, 4)).toBe("head");
    expect(b.readBigUInt64LE(8)).toBe(7n);
    expect(b.subarray(48, 64).toString("hex")).toBe("33221100554477668899aabbccddeeff");
    expect(b.readUInt16LE(64)).toBe(0);
    expect(b.readUInt16LE(66)).toBe(1);
    expect(b.readUInt32LE(68)).toBe(2 * MiB);
    expect(b.readBigUInt64LE(72)).toBe(BigInt(3 * MiB));
    expect(b.subarray(80).every((x) => x === 0)).toBe(true);
  });

  it("rejects a flipped signature, naming the header and field", () => {
    const e = parseError(mutated((b) => (b[0] = 0x48)));
    expect(e.structure).toBe("header 1");
    expect(e.message).toMatch(/header 1: signature is 'Head', expected 'head'/);
  });

  it("rejects a flipped checksum", () => {
    const e = parseError(mutated((b) => (b[4] = b[4]! ^ 1), false));
    expect(e.message).toMatch(/header 1: checksum is 0x[0-9a-f]+, expected 0x[0-9a-f]+/);
  });

  it("rejects a flipped bit in the reserved area through the checksum", () => {
    expect(parseError(mutated((b) => (b[4000] = 1), false)).message).toMatch(/checksum/);
  });

  it("rejects Version other than 1", () => {
    expect(parseError(mutated((b) => b.writeUInt16LE(2, 66))).message).toMatch(/Version is 2, expected 1/);
  });

  it("rejects LogVersion other than 0", () => {
    expect(parseError(mutated((b) => b.writeUInt16LE(1, 64))).message).toMatch(/LogVersion is 1, expected 0/);
  });

  it("rejects a LogLength that is not a multiple of 1 MiB", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(MiB + 4096, 68))).message).toMatch(/LogLength/);
  });

  it("rejects a LogOffset inside the header section or unaligned", () => {
    expect(parseError(mutated((b) => b.writeBigUInt64LE(0n, 72))).message).toMatch(/LogOffset/);
    expect(parseError(mutated((b) => b.writeBigUInt64LE(BigInt(MiB + 512), 72))).message).toMatch(/LogOffset/);
  });

  it("rejects a short block", () => {
    expect(parseError(serializeHeader(SAMPLE).subarray(0, 100)).message).toMatch(/got 100 bytes, expected 4096/);
  });
});

describe("chooseHeader", () => {
  const seq = (n: bigint): Uint8Array => serializeHeader({ ...SAMPLE, sequenceNumber: n });
  const bad = (): Uint8Array => mutated((b) => (b[5] = b[5]! ^ 0xff), false);

  it("picks the valid header with the higher SequenceNumber, whichever slot it is in", () => {
    expect(chooseHeader(seq(3n), seq(4n))).toMatchObject({ slot: 1, header: { sequenceNumber: 4n } });
    expect(chooseHeader(seq(9n), seq(4n))).toMatchObject({ slot: 0, header: { sequenceNumber: 9n } });
  });

  it("compares sequence numbers as 64-bit values", () => {
    expect(chooseHeader(seq(2n ** 63n), seq(5n)).slot).toBe(0);
  });

  it("falls back to the only valid header, even when the bad one claims a higher sequence", () => {
    const highButBad = Buffer.from(seq(100n));
    highButBad[4] = highButBad[4]! ^ 1;
    const r = chooseHeader(highButBad, seq(1n));
    expect(r.slot).toBe(1);
    expect(r.header.sequenceNumber).toBe(1n);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/header 1: checksum/);
    expect(chooseHeader(seq(1n), bad())).toMatchObject({ slot: 0 });
  });

  it("fails when both headers are bad, naming both problems", () => {
    const e = (() => {
      try {
        chooseHeader(bad(), mutated((b) => (b[0] = 0)));
      } catch (err) {
        return err as StructureError;
      }
      throw new Error("accepted two bad headers");
    })();
    expect(e).toBeInstanceOf(StructureError);
    expect(e.structure).toBe("headers");
    expect(e.message).toMatch(/header 1: checksum.*header 2: signature/);
  });
});
