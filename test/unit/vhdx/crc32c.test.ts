import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checksumWithFieldZeroed, crc32c } from "../../../src/vhdx/crc32c";
import { HEADER1_OFFSET, HEADER2_OFFSET, HEADER_SIZE, REGION_TABLE1_OFFSET, REGION_TABLE2_OFFSET, REGION_TABLE_SIZE } from "../../../src/vhdx/_layout";

/** Bit-at-a-time CRC-32C, the textbook definition the table-driven version must match. */
function crc32cReference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

describe("crc32c", () => {
  it("gives the standard check value 0xE3069283 for '123456789'", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  it("gives 0 for no data", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("matches the bitwise definition for every length from 0 to 40 and unaligned views", () => {
    const data = new Uint8Array(4096 + 7);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 17) & 0xff;
    for (let n = 0; n <= 40; n++) expect(crc32c(data.subarray(3, 3 + n))).toBe(crc32cReference(data.subarray(3, 3 + n)));
    expect(crc32c(data.subarray(1))).toBe(crc32cReference(data.subarray(1)));
  });

  it("continues from a previous value", () => {
    const a = new TextEncoder().encode("12345");
    const b = new TextEncoder().encode("6789");
    expect(crc32c(b, crc32c(a))).toBe(0xe3069283);
  });

  it("reproduces the checksums qemu-img wrote into its headers and region tables", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hvb-crc-"));
    try {
      const file = path.join(dir, "q.vhdx");
      execFileSync("qemu-img", ["create", "-q", "-f", "vhdx", file, "64M"]);
      for (const [offset, size] of [
        [HEADER1_OFFSET, HEADER_SIZE],
        [HEADER2_OFFSET, HEADER_SIZE],
        [REGION_TABLE1_OFFSET, REGION_TABLE_SIZE],
        [REGION_TABLE2_OFFSET, REGION_TABLE_SIZE],
      ] as const) {
        const block = readAt(file, offset, size);
        expect(checksumWithFieldZeroed(block, 4)).toBe(block.readUInt32LE(4));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("computes the checksum without changing the block", () => {
    const block = new Uint8Array(64).fill(0xab);
    checksumWithFieldZeroed(block, 4);
    expect(block.every((x) => x === 0xab)).toBe(true);
  });
});
