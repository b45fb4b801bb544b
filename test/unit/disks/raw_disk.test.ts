import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RawDisk, RawWriter } from "../../../src/disks/raw_disk";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hvb-raw-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A raw image of `size` bytes where byte i holds i mod 251. */
function patterned(size: number): string {
  const file = path.join(dir, "disk.raw");
  writeFileSync(file, Buffer.from(Array.from({ length: size }, (_, i) => i % 251)));
  return file;
}

describe("RawDisk", () => {
  it("is the file's bytes: size, reads at any offset, one data range", () => {
    const disk = new RawDisk(patterned(4096));
    try {
      expect(disk.virtualSize).toBe(4096);
      const buf = new Uint8Array(10);
      disk.read(buf, 1000);
      expect([...buf]).toEqual(Array.from({ length: 10 }, (_, i) => (1000 + i) % 251));
      expect(disk.dataRanges("file")).toEqual([{ offset: 0, length: 4096 }]);
      expect(disk.dataRanges("chain", 1024, 512)).toEqual([{ offset: 1024, length: 512 }]);
      expect(disk.dataRanges("file", 4096)).toEqual([]);
    } finally {
      disk.close();
    }
  });

  it("reads up to the very end and refuses ranges outside the file with RawRange", () => {
    const disk = new RawDisk(patterned(1024));
    try {
      const last = new Uint8Array(24);
      disk.read(last, 1000);
      expect(last[23]).toBe(1023 % 251);
      for (const [offset, length] of [[1001, 24], [-1, 1], [2048, 1]] as const) {
        expect(() => disk.read(new Uint8Array(length), offset)).toThrow(expect.objectContaining({ code: "RawRange", category: "InvalidArgument" }));
      }
    } finally {
      disk.close();
    }
  });

  it("is read-only", () => {
    const disk = new RawDisk(patterned(512));
    try {
      expect(() => disk.write()).toThrow(expect.objectContaining({ code: "RawReadOnly" }));
    } finally {
      disk.close();
    }
  });

  it("refuses a folder with RawNotFile", () => {
    const folder = path.join(dir, "folder");
    mkdirSync(folder);
    expect(() => new RawDisk(folder)).toThrow(expect.objectContaining({ code: "RawNotFile", target: folder }));
  });
});

describe("RawWriter", () => {
  it("writes ranges and sets the size at close, zeros in between", () => {
    const file = path.join(dir, "out.raw");
    const w = new RawWriter(file, 8192);
    w.write(new Uint8Array([1, 2, 3]), 100);
    w.write(new Uint8Array([9]), 5000);
    w.close();
    expect(statSync(file).size).toBe(8192);
    const back = readFileSync(file);
    expect([...back.subarray(100, 103)]).toEqual([1, 2, 3]);
    expect(back[5000]).toBe(9);
    expect(back.subarray(0, 100).every((b) => b === 0)).toBe(true);
    expect(back.subarray(5001).every((b) => b === 0)).toBe(true);
  });

  it("will not overwrite an existing file", () => {
    const file = patterned(512);
    expect(() => new RawWriter(file, 512)).toThrow(expect.objectContaining({ code: "EEXIST" }));
  });
});
