/**
 * Copy-on-write of the lab's disk files under a live shadow copy (shadow_copies.ts).
 *
 * A shadow copy freezes a file by a hard link in its folder: one more name for the same bytes,
 * made in no time whatever the file's size (as VSS takes its snapshot in seconds for a whole
 * volume). The file stays frozen because nothing in the lab changes a disk file in place
 * without calling {@link unshareBeforeChange} first (disk_files.ts: guest writes, merges into a
 * parent, parent-locator rewrites): when the file has another name, its path gets a copy of its
 * own (a reflink where the file system has them, else a sparse copy), renamed into place, and
 * the change lands on that copy. The old bytes stay with the shadow copy's name, also for a
 * reader that has it open. New files (checkpoints' differencing disks) and deletions need
 * nothing: the shadow copy keeps its link to a deleted file.
 *
 * VSS preserves only the blocks a write overwrites; the lab preserves a whole file on its first
 * change when the file system has no reflinks (docs/lab-fidelity.md).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Makes `dest` hold `src`'s bytes as they are now, for good: a hard link when `src` is never
 * changed in place afterwards without {@link unshareBeforeChange}, else (another file system,
 * no hard links) an independent copy.
 */
export function freezeInto(src: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  try {
    fs.linkSync(src, dest);
  } catch {
    independentCopy(src, dest);
  }
}

/**
 * Before `file` is changed in place: if another name shares its bytes (a shadow copy's link),
 * `file` gets its own copy first, atomically (copy beside it, then rename over it), so the
 * other name keeps the bytes as they were. The caller holds the lab lock.
 */
export function unshareBeforeChange(file: string): void {
  let links: number;
  try {
    links = fs.statSync(file).nlink;
  } catch {
    return; // not there: the change itself will say so
  }
  if (links <= 1) return;
  const tmp = `${file}.cow-${process.pid}`;
  try {
    independentCopy(file, tmp);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * A copy of `src` at `dest` that shares nothing with it: `cp --reflink=auto --sparse=always`
 * (a reflink where the file system can, else a copy of the data runs only, in the kernel),
 * falling back to a copy that skips zero runs where there is no GNU cp.
 */
export function independentCopy(src: string, dest: string): void {
  const r = spawnSync("cp", ["--reflink=auto", "--sparse=always", "--", src, dest], { stdio: "ignore" });
  if (r.status === 0) return;
  fs.rmSync(dest, { force: true });
  sparseCopy(src, dest);
}

function sparseCopy(src: string, dest: string): void {
  const chunk = Buffer.alloc(1024 * 1024);
  const zeros = Buffer.alloc(chunk.length);
  const size = fs.statSync(src).size;
  const from = fs.openSync(src, "r");
  const to = fs.openSync(dest, "w");
  try {
    for (let off = 0; off < size; off += chunk.length) {
      const n = fs.readSync(from, chunk, 0, Math.min(chunk.length, size - off), off);
      const part = chunk.subarray(0, n);
      if (!part.equals(zeros.subarray(0, n))) fs.writeSync(to, part, 0, n, off);
    }
    fs.ftruncateSync(to, size);
  } finally {
    fs.closeSync(from);
    fs.closeSync(to);
  }
}
