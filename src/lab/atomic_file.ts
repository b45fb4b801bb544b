/** Writes a small file atomically: temp name, fsync, rename, directory fsync. */
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncDir } from "./state_store";

export function writeStateAtomicFile(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, "w", 0o644);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}
