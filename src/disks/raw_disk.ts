import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { HvbError, openRegularFile } from "../base/mod";
import type { ByteRange, VirtualDisk } from "../disk/mod";

/**
 * A raw disk image: the file's bytes are the disk. Read-only here; raw output is written by
 * the converter, which keeps zero areas sparse.
 */
export class RawDisk implements VirtualDisk {
  readonly type = "fixed" as const;
  readonly parent = undefined;
  readonly virtualSize: number;
  #fd: number;

  constructor(readonly path: string, readonly logicalSectorSize = 512) {
    // Only a regular file: reads of a folder fail with an EISDIR that names no file, and a
    // FIFO would block forever.
    this.#fd = openRegularFile(path, "r", "disk image", (kind) => {
      throw new HvbError("RawNotFile", `Cannot read '${path}': it is ${kind}, not a disk image`, { category: "InvalidArgument", target: path });
    });
    const st = fstatSync(this.#fd);
    this.virtualSize = st.size;
  }

  read(buf: Uint8Array, offset: number): void {
    if (offset < 0 || offset + buf.length > this.virtualSize) {
      throw new HvbError("RawRange", `Cannot read '${this.path}': range [${offset}, ${offset + buf.length}) is outside the ${this.virtualSize}-byte file`, { category: "InvalidArgument", target: this.path });
    }
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.#fd, buf, done, buf.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    buf.fill(0, done);
  }

  write(): void {
    throw new HvbError("RawReadOnly", `Cannot write '${this.path}': raw images are opened read-only`, { category: "InvalidOperation", target: this.path });
  }

  /** The whole file: without SEEK_DATA, every byte of a raw file may hold data. */
  dataRanges(_scope: "file" | "chain", offset = 0, length = this.virtualSize - offset): ByteRange[] {
    return length > 0 ? [{ offset, length }] : [];
  }

  flush(): void {}

  close(): void {
    closeSync(this.#fd);
  }
}

/** Writes a raw image sparsely: only non-zero chunks are written, the size is set at the end. */
export class RawWriter {
  #fd: number;
  constructor(readonly path: string, readonly size: number) {
    this.#fd = openSync(path, "wx");
  }

  write(buf: Uint8Array, offset: number): void {
    let done = 0;
    while (done < buf.length) done += writeSync(this.#fd, buf, done, buf.length - done, offset + done);
  }

  close(): void {
    try {
      // ftruncate extends with a hole, so trailing zeros take no space.
      ftruncateSync(this.#fd, this.size);
      fsyncSync(this.#fd);
    } finally {
      closeSync(this.#fd);
    }
  }
}
