import { existsSync, rmSync } from "node:fs";
import { HvbError } from "../base/mod";
import { publishFile, stagingPathFor } from "../base/mod";
import { createVhdx } from "../vhdx/mod";
import { VhdxImage } from "../vhdx/mod";
import { RawDisk, RawWriter } from "./raw_disk";
import type { ByteRange, VirtualDisk } from "../disk/mod";
import { mergeRanges } from "../base/mod";

/** Options of {@link convertDisk}. */
export interface ConvertOptions {
  /** Write a differencing VHDX holding only the sectors that differ from this parent. */
  parentPath?: string;
  /** Block size of a VHDX destination. */
  blockSize?: number;
  /** Logical sector size of a VHDX destination (default: the source's, 512 for raw). */
  logicalSectorSize?: 512 | 4096;
  /** Replace an existing destination. */
  force?: boolean;
  /** Called as data is copied. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/** What a conversion did. */
export interface ConvertResult {
  source: string;
  destination: string;
  virtualSize: number;
  /** Bytes of guest data read from the source (allocated ranges only). */
  bytesRead: number;
  /** Bytes written to the destination's payload (non-zero or differing data only). */
  bytesWritten: number;
}

const CHUNK = 32 * 1024 * 1024;
const COMPARE_UNIT = 64 * 1024;
/** Granularity of zero skipping when writing: small enough to skip zero areas, large enough to stay fast. */
const WRITE_UNIT = 1024 * 1024;

/** True for names the product treats as VHDX: `.vhdx` and Hyper-V's checkpoint `.avhdx`. */
export function isVhdxName(p: string): boolean {
  return /\.a?vhdx$/i.test(p);
}

/** Opens SRC as VHDX (with its chain) when its name says so, else as raw. */
export function openSource(p: string): VirtualDisk {
  return isVhdxName(p) ? VhdxImage.open(p) : new RawDisk(p);
}

/**
 * Converts SRC to DST, streaming in 32 MiB chunks over the source's allocated ranges only and
 * skipping zero blocks. DST ending in .vhdx/.avhdx becomes a dynamic VHDX, or with
 * `parentPath` a differencing VHDX with only the sectors that differ from the parent; anything
 * else becomes a raw image, sparse where zero. DST is built under a temporary name and renamed
 * into place when complete.
 */
export function convertDisk(src: string, dst: string, options: ConvertOptions = {}): ConvertResult {
  if (existsSync(dst) && !options.force) {
    throw new HvbError("DestinationExists", `Cannot convert to '${dst}': the file exists (use --force to replace it)`, { category: "InvalidArgument", target: dst });
  }
  if (options.parentPath !== undefined && !isVhdxName(dst)) {
    throw new HvbError("Usage", `Cannot convert to '${dst}': --parent needs a .vhdx or .avhdx destination`, { category: "InvalidArgument", target: dst });
  }
  const source = openSource(src);
  const staging = stagingPathFor(dst);
  try {
    const result = isVhdxName(dst) ? toVhdx(source, staging, options) : toRaw(source, staging, options);
    publishFile(staging, dst);
    return { source: src, destination: dst, virtualSize: source.virtualSize, ...result };
  } catch (e) {
    if (existsSync(staging)) rmSync(staging, { force: true });
    // The staging name is internal: errors about the output name the destination the user gave.
    if (e instanceof HvbError && e.message.includes(staging)) {
      throw new HvbError(e.code, e.message.split(staging).join(dst), { category: e.category, target: dst, cause: e });
    }
    throw e;
  } finally {
    source.close();
  }
}

function toRaw(source: VirtualDisk, out: string, options: ConvertOptions): { bytesRead: number; bytesWritten: number } {
  const writer = new RawWriter(out, source.virtualSize);
  let bytesRead = 0;
  let bytesWritten = 0;
  try {
    const ranges = source.dataRanges("chain");
    const total = sum(ranges);
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(largest(ranges), 1)));
    forEachChunk(ranges, buf.length, (offset, length) => {
      const part = buf.subarray(0, length);
      source.read(part, offset);
      bytesRead += length;
      forEachNonZero(part, WRITE_UNIT, (from, to) => {
        writer.write(part.subarray(from, to), offset + from);
        bytesWritten += to - from;
      });
      options.onProgress?.(bytesRead, total);
    });
  } finally {
    writer.close();
  }
  return { bytesRead, bytesWritten };
}

function toVhdx(source: VirtualDisk, out: string, options: ConvertOptions): { bytesRead: number; bytesWritten: number } {
  const lss = options.logicalSectorSize ?? (source.logicalSectorSize as 512 | 4096);
  if (options.parentPath !== undefined) return toDifferencing(source, out, options.parentPath, options);
  const dest = createVhdx(out, {
    virtualSize: source.virtualSize,
    logicalSectorSize: lss,
    ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}),
    ...(source instanceof VhdxImage ? { physicalSectorSize: source.physicalSectorSize as 512 | 4096 } : {}),
  });
  let bytesRead = 0;
  let bytesWritten = 0;
  try {
    // Only non-zero pieces are written: a block is allocated exactly when it holds data, and
    // the rest of a newly allocated block is already zero.
    const ranges = source.dataRanges("chain");
    const total = sum(ranges);
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(largest(ranges), 1)));
    forEachChunk(ranges, buf.length, (offset, length) => {
      const part = buf.subarray(0, length);
      source.read(part, offset);
      bytesRead += length;
      forEachNonZero(part, WRITE_UNIT, (from, to) => {
        dest.write(part.subarray(from, to), offset + from);
        bytesWritten += to - from;
      });
      options.onProgress?.(bytesRead, total);
    });
  } finally {
    dest.close();
  }
  return { bytesRead, bytesWritten };
}

function toDifferencing(source: VirtualDisk, out: string, parentPath: string, options: ConvertOptions): { bytesRead: number; bytesWritten: number } {
  const parent = VhdxImage.open(parentPath);
  let bytesRead = 0;
  let bytesWritten = 0;
  try {
    if (parent.virtualSize !== source.virtualSize) {
      throw new HvbError("VhdxParentMismatch", `Cannot convert to a child of '${parentPath}': the parent is ${parent.virtualSize} bytes, the source ${source.virtualSize}`, { category: "InvalidArgument", target: parentPath });
    }
    if (options.logicalSectorSize !== undefined && options.logicalSectorSize !== parent.logicalSectorSize) {
      throw new HvbError("VhdxParentMismatch", `Cannot convert to a child of '${parentPath}': --logical-sector ${options.logicalSectorSize} differs from the parent's ${parent.logicalSectorSize}`, { category: "InvalidArgument", target: parentPath });
    }
    const dest = createVhdx(out, { parentPath, ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}) });
    try {
      // Wherever either side may hold data, compare sector by sector.
      const ranges = mergeRanges([...source.dataRanges("chain"), ...parent.dataRanges("chain")]);
      const total = sum(ranges);
      const size = Math.min(CHUNK, Math.max(largest(ranges), 1));
      const a = Buffer.alloc(size);
      const b = Buffer.alloc(size);
      const lss = parent.logicalSectorSize;
      forEachChunk(ranges, size, (offset, length) => {
        const sa = a.subarray(0, length);
        const sb = b.subarray(0, length);
        source.read(sa, offset);
        parent.read(sb, offset);
        bytesRead += length;
        forEachDifference(sa, sb, lss, (from, to) => {
          dest.write(sa.subarray(from, to), offset + from);
          bytesWritten += to - from;
        });
        options.onProgress?.(bytesRead, total);
      });
    } finally {
      dest.close();
    }
  } finally {
    parent.close();
  }
  return { bytesRead, bytesWritten };
}

/** Calls `fn` for each piece of at most `max` bytes of the ranges, in order. */
export function forEachChunk(ranges: readonly ByteRange[], max: number, fn: (offset: number, length: number) => void): void {
  for (const r of ranges) {
    for (let p = r.offset; p < r.offset + r.length; p += max) fn(p, Math.min(max, r.offset + r.length - p));
  }
}

/** Shared all-zero buffer for comparisons (never written). */
const ZERO = Buffer.alloc(CHUNK);

/** True when every byte of `buf` is zero. */
export function isAllZero(buf: Uint8Array): boolean {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  for (let p = 0; p < b.length; p += ZERO.length) {
    const end = Math.min(p + ZERO.length, b.length);
    if (!b.subarray(p, end).equals(ZERO.subarray(0, end - p))) return false;
  }
  return true;
}

/** Calls `fn(from, to)` for each maximal run of `unit`-sized pieces of `buf` that are not all zero. */
export function forEachNonZero(buf: Uint8Array, unit: number, fn: (from: number, to: number) => void): void {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  let runStart = -1;
  for (let p = 0; p < b.length; p += unit) {
    const end = Math.min(p + unit, b.length);
    const zero = isAllZero(b.subarray(p, end));
    if (!zero && runStart < 0) runStart = p;
    if (zero && runStart >= 0) {
      fn(runStart, p);
      runStart = -1;
    }
  }
  if (runStart >= 0) fn(runStart, b.length);
}

/** Calls `fn(from, to)` for each maximal run of `sector`-sized pieces where `a` and `b` differ. */
export function forEachDifference(a: Uint8Array, b: Uint8Array, sector: number, fn: (from: number, to: number) => void): void {
  const A = Buffer.from(a.buffer, a.byteOffset, a.length);
  const B = Buffer.from(b.buffer, b.byteOffset, b.length);
  let runStart = -1;
  const flush = (at: number): void => {
    if (runStart >= 0) fn(runStart, at);
    runStart = -1;
  };
  for (let p = 0; p < A.length; p += COMPARE_UNIT) {
    const end = Math.min(p + COMPARE_UNIT, A.length);
    if (A.subarray(p, end).equals(B.subarray(p, end))) {
      flush(p);
      continue;
    }
    for (let s = p; s < end; s += sector) {
      const se = Math.min(s + sector, end);
      const same = A.subarray(s, se).equals(B.subarray(s, se));
      if (!same && runStart < 0) runStart = s;
      if (same) flush(s);
    }
  }
  flush(A.length);
}

function sum(ranges: readonly ByteRange[]): number {
  return ranges.reduce((n, r) => n + r.length, 0);
}

function largest(ranges: readonly ByteRange[]): number {
  return ranges.reduce((n, r) => Math.max(n, r.length), 0);
}
