import * as fs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import { vhdChecksum } from "../../src/vhd/mod";
import type { VhdImage } from "../../src/vhd/mod";

/** A temporary folder for one test file; `cleanup()` removes it. */
export function tempDir(prefix: string): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), `hvb-${prefix}-`));
  return { dir, file: (name) => nodePath.join(dir, name), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads the whole virtual disk (test disks are small). */
export function readAll(disk: VhdImage): Buffer {
  const out = Buffer.alloc(disk.virtualSize);
  disk.read(out, 0);
  return out;
}

/** Patches bytes of a file in place. */
export function patchFile(path: string, offset: number, bytes: Uint8Array): void {
  const fd = fs.openSync(path, "r+");
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads `length` bytes of a file. */
export function readFileAt(path: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(path, "r");
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

/** Applies `mutate` to a structure read from a file, fixes its VHD checksum and writes it back. */
export function patchStructure(path: string, offset: number, size: number, checksumOffset: number, mutate: (b: Buffer) => void): void {
  const b = readFileAt(path, offset, size);
  mutate(b);
  b.writeUInt32BE(vhdChecksum(b, checksumOffset), checksumOffset);
  patchFile(path, offset, b);
}
