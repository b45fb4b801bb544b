import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { crashPoint } from "./crash_point";

/**
 * The temporary name a file is built under before it is published: in the same folder (so the
 * rename is atomic and relative parent paths stay right), hidden, and unique to this process.
 */
export function stagingPathFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.partial-${process.pid}`);
}

/** Syncs a folder so a rename or create inside it survives a crash. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some file systems (and Windows) do not allow syncing a directory; the rename still stands.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Publishes a finished file: sync it, rename it over `finalPath` in one step, sync the folder.
 * After a crash either the old file (or none) or the complete new one is there.
 */
export function publishFile(stagingPath: string, finalPath: string, crashPointBeforeRename?: string): void {
  const fd = openSync(stagingPath, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (crashPointBeforeRename) crashPoint(crashPointBeforeRename);
  renameSync(stagingPath, finalPath);
  fsyncDir(path.dirname(finalPath));
}

/**
 * Writes `data` to `finalPath` atomically (temp file, fsync, rename, fsync folder).
 * `crashPointBeforeRename` names a {@link crashPoint} between the fsync and the rename.
 */
export function writeFileAtomic(finalPath: string, data: string | Uint8Array, crashPointBeforeRename?: string): void {
  const temp = stagingPathFor(finalPath);
  try {
    writeFileSync(temp, data, { mode: 0o644 });
    publishFile(temp, finalPath, crashPointBeforeRename);
  } catch (e) {
    if (existsSync(temp)) rmSync(temp, { force: true });
    throw e;
  }
}
