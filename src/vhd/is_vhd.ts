import * as fs from "node:fs";
import { openRegularFile } from "../base/mod";
import { DISK_TYPE_FIXED, FOOTER_SIZE } from "./_layout";
import { parseFooter } from "./footer";

/**
 * True when `path` is a readable file that ends with a valid VHD footer (or, for a dynamic or
 * differencing disk whose last write was interrupted, starts with a valid footer copy). Never
 * throws: missing or unreadable files are simply not VHD files.
 *
 * @example isVhdFile("disk.vhd") // true
 */
export function isVhdFile(path: string): boolean {
  let fd: number | undefined;
  try {
    // Only a regular file: a FIFO would block the read forever (and is no VHD anyway).
    fd = openRegularFile(path, "r");
    const size = fs.fstatSync(fd).size;
    if (size < FOOTER_SIZE) return false;
    const buf = new Uint8Array(FOOTER_SIZE);
    if (fs.readSync(fd, buf, 0, FOOTER_SIZE, size - FOOTER_SIZE) === FOOTER_SIZE && tryParse(buf) !== undefined) return true;
    if (fs.readSync(fd, buf, 0, FOOTER_SIZE, 0) !== FOOTER_SIZE) return false;
    const copy = tryParse(buf);
    return copy !== undefined && copy !== DISK_TYPE_FIXED;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function tryParse(buf: Uint8Array): number | undefined {
  try {
    return parseFooter(buf).diskType;
  } catch {
    return undefined;
  }
}
