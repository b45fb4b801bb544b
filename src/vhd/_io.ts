import * as fs from "node:fs";
import { HvbError, openRegularFile } from "../base/mod";
import { vhdFormatError } from "./_errors";

/**
 * Positional I/O that always transfers the whole buffer, and turns Node's errors into
 * {@link HvbError}s naming the file. Large transfers are split so one call never exceeds 1 GiB.
 */
const MAX_IO = 1 << 30;

/** Opens a file; a missing file becomes `NotFound`, other failures `VhdIo`. */
export function openFile(path: string, flags: string): number {
  try {
    // Existing files only if regular: a FIFO would block the first read forever.
    return flags === "r" || flags === "r+" ? openRegularFile(path, flags, "VHD file") : fs.openSync(path, flags);
  } catch (e) {
    if (e instanceof HvbError) throw e;
    throw ioError(path, "open", e);
  }
}

/** Reads exactly `buf.length` bytes at `position`; a short file is a format error. */
export function readFully(fd: number, path: string, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, done, Math.min(buf.length - done, MAX_IO), position + done);
    } catch (e) {
      throw ioError(path, "read", e);
    }
    if (n === 0) throw vhdFormatError(path, `unexpected end of file at offset ${position + done} (needed ${buf.length - done} more bytes)`);
    done += n;
  }
}

/** Reads `length` bytes at `position` into a new buffer. */
export function readAt(fd: number, path: string, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  readFully(fd, path, buf, position);
  return buf;
}

/** Writes all of `buf` at `position`. */
export function writeFully(fd: number, path: string, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    try {
      done += fs.writeSync(fd, buf, done, Math.min(buf.length - done, MAX_IO), position + done);
    } catch (e) {
      throw ioError(path, "write", e);
    }
  }
}

/** Size of the open file. */
export function fileSize(fd: number, path: string): number {
  try {
    return fs.fstatSync(fd).size;
  } catch (e) {
    throw ioError(path, "read", e);
  }
}

/** fsync, with errors named. */
export function syncFile(fd: number, path: string): void {
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    throw ioError(path, "flush", e);
  }
}

/** ftruncate, with errors named. */
export function truncateFile(fd: number, path: string, length: number): void {
  try {
    fs.ftruncateSync(fd, length);
  } catch (e) {
    throw ioError(path, "write", e);
  }
}

/** Maps a Node error to the product's error. */
export function ioError(path: string, action: "open" | "read" | "write" | "flush" | "create", e: unknown): HvbError {
  if (e instanceof HvbError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const reason = e instanceof Error ? e.message : String(e);
  if (code === "ENOENT") {
    return new HvbError("NotFound", `Cannot ${action} '${path}': file not found`, { category: "ObjectNotFound", target: path, cause: e });
  }
  if (code === "EEXIST") {
    return new HvbError("AlreadyExists", `Cannot ${action} '${path}': file already exists`, { category: "InvalidOperation", target: path, cause: e });
  }
  if (code === "EACCES" || code === "EPERM") {
    return new HvbError("PermissionDenied", `Cannot ${action} '${path}': ${reason}`, { category: "PermissionDenied", target: path, cause: e });
  }
  return new HvbError("VhdIo", `Cannot ${action} '${path}': ${reason}`, {
    category: action === "read" || action === "open" ? "ReadError" : "WriteError",
    target: path,
    cause: e,
  });
}
