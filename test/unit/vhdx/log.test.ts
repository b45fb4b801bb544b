import { describe, expect, it } from "vitest";
import { checksumWithFieldZeroed } from "../../../src/vhdx/crc32c";
import { type LogEntry, type LogWrite, buildLogEntry, descriptorSectors, findActiveSequence, maxWritesPerEntry, parseLogEntry } from "../../../src/vhdx/log";
import { LOG_SECTOR_SIZE, MiB } from "../../../src/vhdx/_layout";

const GUID = "8d4f3a2b-1c0e-4f5a-9b8c-7d6e5f4a3b2c";
const OTHER_GUID = "00000000-0000-0000-0000-000000000001";

function sector(fill: number): Uint8Array {
  const s = new Uint8Array(LOG_SECTOR_SIZE).fill(fill);
  // Distinct leading and trailing bytes, which live in the descriptor, not the data sector.
  s.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
  s.set([0xf1, 0xf2, 0xf3, 0xf4], 4092);
  return s;
}

const WRITES: LogWrite[] = [
  { kind: "data", fileOffset: 3 * MiB, data: sector(0xaa) },
  { kind: "zero", fileOffset: 4 * MiB, length: 3 * LOG_SECTOR_SIZE },
  { kind: "data", fileOffset: 3 * MiB + 8192, data: sector(0x55) },
];

function entry(seq: bigint, tail = 0, writes = WRITES, guid = GUID): Buffer {
  return Buffer.from(buildLogEntry({ sequenceNumber: seq, tail, logGuid: guid, flushedFileOffset: 5 * MiB, lastFileOffset: 6 * MiB, writes }));
}

function parse(b: Uint8Array, guid = GUID, logLength = MiB): LogEntry | string {
  return parseLogEntry(b.subarray(0, LOG_SECTOR_SIZE), guid, logLength, 0, (off, len) => b.subarray(off, off + len));
}

/** The same entry with `mutate` applied and, unless told otherwise, a fresh checksum. */
function mutated(mutate: (b: Buffer) => void, fixChecksum = true): Buffer {
  const b = entry(5n);
  mutate(b);
  if (fixChecksum) b.writeUInt32LE(checksumWithFieldZeroed(b, 4), 4);
  return b;
}

describe("buildLogEntry / parseLogEntry", () => {
  it("round-trips data and zero descriptors, with leading and trailing bytes", () => {
    const b = entry(5n, 8192);
    expect(b.length).toBe((descriptorSectors(3) + 2) * LOG_SECTOR_SIZE);
    const e = parse(b) as LogEntry;
    expect(typeof e).toBe("object");
    expect(e).toMatchObject({ length: b.length, tail: 8192, sequenceNumber: 5n, flushedFileOffset: 5 * MiB, lastFileOffset: 6 * MiB });
    expect(e.writes).toHaveLength(3);
    expect(e.writes[0]).toMatchObject({ kind: "data", fileOffset: 3 * MiB });
    expect(Buffer.from((e.writes[0] as { data: Uint8Array }).data).equals(Buffer.from(sector(0xaa)))).toBe(true);
    expect(e.writes[1]).toEqual({ kind: "zero", fileOffset: 4 * MiB, length: 3 * LOG_SECTOR_SIZE });
    expect(Buffer.from((e.writes[2] as { data: Uint8Array }).data).equals(Buffer.from(sector(0x55)))).toBe(true);
  });

  it("lays out the entry header, descriptors and data sectors as MS-VHDX 2.3 says", () => {
    const b = entry(0x1_0000_0002n);
    expect(b.toString("latin1", 0, 4)).toBe("loge");
    expect(b.readUInt32LE(8)).toBe(b.length);
    expect(b.readBigUInt64LE(16)).toBe(0x1_0000_0002n);
    expect(b.readUInt32LE(24)).toBe(3);
    expect(b.toString("latin1", 64, 68)).toBe("desc");
    expect(b.readUInt32LE(68)).toBe(0xf4f3f2f1); // TrailingBytes
    expect(b.subarray(72, 80).toString("hex")).toBe("0102030405060708"); // LeadingBytes
    expect(b.toString("latin1", 96, 100)).toBe("zero");
    const ds = LOG_SECTOR_SIZE;
    expect(b.toString("latin1", ds, ds + 4)).toBe("data");
    expect(b.readUInt32LE(ds + 4)).toBe(1); // SequenceHigh
    expect(b.readUInt32LE(ds + 4092)).toBe(2); // SequenceLow
    expect(b[ds + 8]).toBe(0xaa);
  });

  it("needs more descriptor sectors once header and descriptors pass 4 KiB", () => {
    expect(descriptorSectors(126)).toBe(1);
    expect(descriptorSectors(127)).toBe(2);
    expect(maxWritesPerEntry(MiB)).toBe(254);
    expect(254 + descriptorSectors(254)).toBeLessThanOrEqual(256);
  });

  it("rejects a write that is not 4 KiB aligned or not one sector", () => {
    expect(() => entry(1n, 0, [{ kind: "data", fileOffset: 512, data: sector(0) }])).toThrow(/not 4 KiB aligned/);
    expect(() => entry(1n, 0, [{ kind: "data", fileOffset: 0, data: new Uint8Array(512) }])).toThrow(/not one 4 KiB sector/);
  });

  const invalid: Array<[string, () => Buffer, string?]> = [
    ["a flipped signature", () => mutated((b) => (b[0] = 0x4c))],
    ["a flipped checksum", () => mutated((b) => (b[4] = b[4]! ^ 1), false)],
    ["a flipped byte in a data sector", () => mutated((b) => (b[LOG_SECTOR_SIZE + 100] = 0), false)],
    ["an EntryLength of 0", () => mutated((b) => b.writeUInt32LE(0, 8))],
    ["an EntryLength longer than the log", () => mutated((b) => b.writeUInt32LE(2 * MiB, 8))],
    ["a Tail past the log", () => mutated((b) => b.writeUInt32LE(MiB, 12))],
    ["SequenceNumber 0", () => mutated((b) => b.writeBigUInt64LE(0n, 16))],
    ["a descriptor with another sequence number", () => mutated((b) => b.writeBigUInt64LE(6n, 64 + 24))],
    ["an unknown descriptor signature", () => mutated((b) => b.write("xxxx", 96, "latin1"))],
    ["a data sector with a bad signature", () => mutated((b) => b.write("dat?", LOG_SECTOR_SIZE, "latin1"))],
    ["a data sector with another sequence number", () => mutated((b) => b.writeUInt32LE(9, LOG_SECTOR_SIZE + 4092))],
    ["more descriptors than sectors", () => mutated((b) => b.writeUInt32LE(1000, 24))],
    ["an unaligned descriptor FileOffset", () => mutated((b) => b.writeBigUInt64LE(BigInt(3 * MiB + 1), 64 + 16))],
  ];
  for (const [what, make] of invalid) {
    it(`treats an entry with ${what} as invalid`, () => {
      expect(typeof parse(make())).toBe("string");
    });
  }

  it("treats an entry with another LogGuid as invalid", () => {
    expect(parse(entry(5n), OTHER_GUID)).toBe("log guid");
  });
});

/** A circular log of `length` bytes with entries placed at given positions. */
function logWith(length: number, placed: Array<[number, Buffer]>): (pos: number, len: number) => Uint8Array {
  const log = Buffer.alloc(length);
  for (const [pos, e] of placed) {
    for (let i = 0; i < e.length; i++) log[(pos + i) % length] = e[i]!;
  }
  return (pos, len) => {
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = log[(pos + i) % length]!;
    return out;
  };
}

describe("findActiveSequence", () => {
  const one: LogWrite[] = [{ kind: "data", fileOffset: 3 * MiB, data: sector(1) }];
  const E = 2 * LOG_SECTOR_SIZE; // length of a one-write entry

  it("finds nothing in an empty log", () => {
    expect(findActiveSequence(logWith(MiB, []), MiB, GUID)).toEqual([]);
  });

  it("returns the run of consecutive entries ending with the highest sequence number", () => {
    const read = logWith(MiB, [
      [0, entry(10n, 0, one)],
      [E, entry(11n, 0, one)],
      [2 * E, entry(12n, 0, one)],
      [5 * E, entry(3n, 5 * E, one)], // an older, unrelated run
    ]);
    const seq = findActiveSequence(read, MiB, GUID);
    expect(seq.map((e) => e.sequenceNumber)).toEqual([10n, 11n, 12n]);
  });

  it("starts the sequence at the last entry's Tail", () => {
    const read = logWith(MiB, [
      [0, entry(10n, 0, one)],
      [E, entry(11n, E, one)],
    ]);
    expect(findActiveSequence(read, MiB, GUID).map((e) => e.sequenceNumber)).toEqual([11n]);
  });

  it("follows a sequence that wraps around the end of the circular log", () => {
    const length = MiB;
    const read = logWith(length, [
      [length - E, entry(20n, length - E, one)],
      [0, entry(21n, length - E, one)],
    ]);
    expect(findActiveSequence(read, length, GUID).map((e) => e.sequenceNumber)).toEqual([20n, 21n]);
  });

  it("ignores entries with another LogGuid or a bad checksum", () => {
    const bad = entry(30n, 0, one);
    bad[100] = bad[100]! ^ 0xff;
    const read = logWith(MiB, [
      [0, entry(5n, 0, one)],
      [E, bad],
      [2 * E, entry(40n, 2 * E, one, OTHER_GUID)],
    ]);
    expect(findActiveSequence(read, MiB, GUID).map((e) => e.sequenceNumber)).toEqual([5n]);
  });

  it("stops a run at a gap in sequence numbers", () => {
    const read = logWith(MiB, [
      [0, entry(7n, 0, one)],
      [E, entry(9n, 0, one)],
    ]);
    // 9 is the highest; it is a run of its own, and its Tail (0) is not in that run.
    expect(findActiveSequence(read, MiB, GUID).map((e) => e.sequenceNumber)).toEqual([9n]);
  });
});
