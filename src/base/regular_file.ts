import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { HvbError } from "./hvb_error";

/**
 * Opens `file` only if it is a regular file. The open itself never waits: O_NONBLOCK makes
 * opening a FIFO with no writer (or a device) return at once, and the type is then checked on
 * the open descriptor (fstat), so nothing can swap the file between the check and the use. A
 * FIFO planted where a disk or a repository file should be would otherwise block every read
 * forever. `what` names the file's role in the message (`disk file`, `catalog`); `refuse`, if
 * given, throws the caller's own error for a file that is `kind` (`a folder`, `a FIFO …`).
 */
export function openRegularFile(file: string, flags: "r" | "r+", what = "file", refuse?: (kind: string) => never): number {
  // Windows has no O_NONBLOCK (and no FIFOs in the file system): 0 there.
  const nonBlock = constants.O_NONBLOCK ?? 0;
  const mode = (flags === "r" ? constants.O_RDONLY : constants.O_RDWR) | nonBlock;
  const fd = openSync(file, mode);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory() ? "a folder" : st.isFIFO() ? "a FIFO (named pipe)" : st.isSocket() ? "a socket" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : "not a regular file";
      if (refuse) refuse(kind);
      throw new HvbError("NotARegularFile", `${what} '${file}' is ${kind}, not a regular file: refused`, { category: "InvalidData", target: file });
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/**
 * Reads a whole regular file (see {@link openRegularFile}), refusing one larger than
 * `maxBytes` before allocating anything for it.
 */
export function readRegularFile(file: string, maxBytes: number, what = "file"): Buffer {
  const fd = openRegularFile(file, "r", what);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) {
      throw new HvbError("FileTooLarge", `${what} '${file}' is ${size} bytes, more than the ${maxBytes} such a file can be: refused`, { category: "InvalidData", target: file });
    }
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
