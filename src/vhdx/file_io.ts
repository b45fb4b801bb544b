import { closeSync, fstatSync, fsyncSync, readSync, writeSync, ftruncateSync } from "node:fs";
import { openRegularFile } from "../base/mod";
import { VhdxFormatError } from "./errors";

/**
 * Positional I/O on one open file, with an optional in-memory overlay of 4 KiB sectors. The
 * overlay holds a replayed log when a dirty file is opened read-only (MS-VHDX 2.3.3 requires the
 * log to be replayed before reading metadata, and a reader may not write the file).
 */
export class FileIo {
  readonly fd: number;
  readonly path: string;
  readonly writable: boolean;
  #overlay = new Map<number, Uint8Array>();
  #zeroRanges: Array<[number, number]> = [];
  /** Size the file has once the overlay's LastFileOffset is applied. */
  #virtualEnd = 0;
  /** The largest {@link size} seen, for {@link holds}; reset by this file's own truncates. */
  #seenSize = 0;

  constructor(path: string, writable: boolean) {
    this.path = path;
    this.writable = writable;
    // Only a regular file: a folder opens read-only on Linux and then fails every read with an
    // EISDIR that names no file, and a FIFO (a parent locator can point at either) would block
    // the first read forever. Refused here, by name, without waiting.
    this.fd = openRegularFile(path, writable ? "r+" : "r", "VHDX file", (kind) => {
      throw new VhdxFormatError(path, "file", `is ${kind}, not a VHDX file`, "VhdxNotVhdx");
    });
  }

  /** Current size of the file (including any size the overlay extends it to). */
  size(): number {
    return Math.max(fstatSync(this.fd).size, this.#virtualEnd);
  }

  /**
   * Whether the file (as {@link size} counts it) is at least `end` bytes long. The file system is
   * asked (fstat) only when `end` lies past the largest size seen: files do not shrink under a
   * reader (one that did fails the read itself as truncated), and this file's own truncates reset
   * what was seen. An fstat per BAT page and per block looked up was a tenth of a second of a
   * deep verify's main thread.
   */
  holds(end: number): boolean {
    if (end <= this.#seenSize) return true;
    this.#seenSize = this.size();
    return end <= this.#seenSize;
  }

  /** Reads exactly `length` bytes at `position`; `what` names the structure for the error. */
  readExact(position: number, length: number, what: string): Buffer {
    const buf = Buffer.alloc(length);
    this.readInto(buf, position, what);
    return buf;
  }

  /** Fills `buf` from `position`; a short read is a truncated-file error naming `what`. */
  readInto(buf: Uint8Array, position: number, what: string): void {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    if (done < buf.length) {
      if (position + buf.length <= this.#virtualEnd) {
        buf.fill(0, done);
      } else {
        throw new VhdxFormatError(this.path, what, `file is truncated: needs bytes up to ${position + buf.length}, file has ${position + done}`, "VhdxTruncated");
      }
    }
    for (const [from, to] of this.#zeroRanges) {
      const a = Math.max(from, position);
      const b = Math.min(to, position + buf.length);
      if (a < b) buf.fill(0, a - position, b - position);
    }
    if (this.#overlay.size > 0) this.#applyOverlay(buf, position);
  }

  /** Writes all of `buf` at `position`. */
  write(buf: Uint8Array, position: number): void {
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, position + done);
  }

  truncate(length: number): void {
    ftruncateSync(this.fd, length);
    this.#seenSize = 0;
  }

  sync(): void {
    if (this.writable) fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Records a replayed sector (or zeroed range) in the overlay instead of writing it. */
  overlaySector(position: number, data: Uint8Array): void {
    this.#overlay.set(position, data);
  }

  /** Records a replayed zero descriptor in the overlay; later sectors written over it win. */
  overlayZero(position: number, length: number): void {
    this.#zeroRanges.push([position, position + length]);
    for (const key of [...this.#overlay.keys()]) if (key >= position && key < position + length) this.#overlay.delete(key);
  }

  /** Extends the apparent file size, as a replayed log's LastFileOffset does. */
  overlayExtend(end: number): void {
    this.#virtualEnd = Math.max(this.#virtualEnd, end);
  }

  #applyOverlay(buf: Uint8Array, position: number): void {
    const SECTOR = 4096;
    const first = Math.floor(position / SECTOR) * SECTOR;
    for (let s = first; s < position + buf.length; s += SECTOR) {
      const data = this.#overlay.get(s);
      if (!data) continue;
      const from = Math.max(s, position);
      const to = Math.min(s + SECTOR, position + buf.length);
      buf.set(data.subarray(from - s, to - s), from - position);
    }
  }
}
