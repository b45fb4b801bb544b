/**
 * What every virtual disk format offers to the rest of the product (VHDX in src/vhdx, legacy VHD
 * in src/vhd). All I/O is synchronous on file descriptors: the callers are a CLI and a lab that
 * run one disk operation at a time, and sync positional I/O in large chunks is as fast as async
 * for sequential copies while keeping the code straight-line.
 *
 * Offsets and lengths are JavaScript numbers (exact up to 2^53, far above the 64 TiB VHDX limit).
 */
export interface VirtualDisk {
  /** The file this disk object was opened from. */
  readonly path: string;
  /** `fixed`, `dynamic` or `differencing`. */
  readonly type: DiskType;
  /** Size of the disk as the guest sees it, in bytes. */
  readonly virtualSize: number;
  /** Bytes per logical sector (512 or 4096). */
  readonly logicalSectorSize: number;
  /** The parent disk for a differencing disk (already opened), else undefined. */
  readonly parent: VirtualDisk | undefined;

  /** Reads `buf.length` bytes of guest-visible data at `offset`, through the whole chain. */
  read(buf: Uint8Array, offset: number): void;
  /** Writes guest data at `offset` into this file (which must be open for writing). */
  write(buf: Uint8Array, offset: number): void;
  /**
   * The byte ranges in `[offset, offset+length)` whose content is not known to be zero.
   * `scope: "file"` looks only at this file (what a differencing file itself holds);
   * `scope: "chain"` at every file of the chain. Ranges are sorted, non-overlapping, merged.
   * A range may still contain zeros (a written block of zeros); callers that must skip zero
   * data check the bytes.
   */
  dataRanges(scope: "file" | "chain", offset?: number, length?: number): ByteRange[];
  /** Flushes everything written so far to stable storage. */
  flush(): void;
  /** Flushes and closes this file and its parents. */
  close(): void;
}

/** Kind of virtual disk file. */
export type DiskType = "fixed" | "dynamic" | "differencing";

import type { ByteRange } from "../base/mod";
export type { ByteRange };
