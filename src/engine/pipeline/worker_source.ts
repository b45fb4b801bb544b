/**
 * The code each pipeline worker thread runs, as text: started with `new Worker(text, { eval:
 * true })`, so it works the same from the esbuild bundle and from the TypeScript sources under
 * vitest (a worker file would have to exist beside both). Plain CommonJS using only node's
 * own modules.
 *
 * A job names a shared data buffer and a shared result buffer (both SharedArrayBuffers, so
 * nothing is copied between threads), the runs to read into the data buffer (from descriptors
 * the main thread holds open: descriptors are process-wide), and the units to check and hash.
 * For each unit the worker records whether it is all zero and, if not, its SHA-256; then it
 * sets the job's status and wakes the main thread through the pool's control words. On its way
 * out (any exit, an uncaught error included) it raises its dead flag, so a main thread blocked
 * in Atomics.wait learns of it without an event loop.
 *
 * A write job (`write: true`) does the reverse for a buffer the main thread has handed over:
 * it writes the runs' bytes to the descriptors (new blocks the main thread placed in a VHDX),
 * so writing also leaves the main thread.
 *
 * Result buffer layout (Int32 words, then bytes): [0] status (0 pending, 1 done, 2 failed),
 * [1] length of the error message; from byte 8, per unit 33 bytes (a zero flag, 32 hash
 * bytes); the UTF-8 error message where the job says (`messageAt`).
 */
export const WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const { readSync, writeSync } = require("node:fs");
const { createHash } = require("node:crypto");
const control = new Int32Array(workerData.control);
const deadFlag = workerData.deadFlag;
const ZERO = Buffer.alloc(1024 * 1024);
process.on("exit", () => {
  Atomics.store(control, deadFlag, 1);
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
});
function isZero(b) {
  for (let p = 0; p < b.length; p += ZERO.length) {
    const end = Math.min(p + ZERO.length, b.length);
    if (!b.subarray(p, end).equals(ZERO.subarray(0, end - p))) return false;
  }
  return true;
}
function readAndHash(job, bytes) {
  const buf = Buffer.from(job.data, 0, job.length);
  const runs = job.runs;
  for (let i = 0; i < runs.length; i += 4) {
    const at = runs[i], len = runs[i + 1], fd = runs[i + 2], pos = runs[i + 3];
    if (fd < 0) { buf.fill(0, at, at + len); continue; }
    let done = 0;
    while (done < len) {
      let n;
      try {
        n = readSync(fd, buf, at + done, len - done, pos + done);
      } catch (e) {
        throw new Error("cannot read '" + job.paths[i / 4] + "' at " + (pos + done) + ": " + e.message);
      }
      if (n === 0) throw new Error("'" + job.paths[i / 4] + "' ends at " + (pos + done) + ", " + (len - done) + " bytes before the data it should hold");
      done += n;
    }
  }
  const units = job.units;
  for (let i = 0; i < units.length; i += 2) {
    const part = buf.subarray(units[i], units[i] + units[i + 1]);
    const at = 8 + (i / 2) * 33;
    if (isZero(part)) { bytes[at] = 1; continue; }
    bytes[at] = 0;
    bytes.set(createHash("sha256").update(part).digest(), at + 1);
  }
}
function writeRuns(job) {
  const src = Buffer.from(job.data);
  const runs = job.runs;
  for (let i = 0; i < runs.length; i += 4) {
    const at = runs[i], len = runs[i + 1], fd = runs[i + 2], pos = runs[i + 3];
    let done = 0;
    while (done < len) {
      try {
        done += writeSync(fd, src, at + done, len - done, pos + done);
      } catch (e) {
        throw new Error("cannot write '" + job.paths[i / 4] + "' at " + (pos + done) + ": " + e.message);
      }
    }
  }
}
parentPort.on("message", (job) => {
  if (job.crash) {
    // Test hook of WorkerPool.crashOneForTests: an uncaught error outside any job; the jobs
    // queued behind it are never run.
    throw new Error(job.crash);
  }
  const result = new Int32Array(job.result);
  const bytes = new Uint8Array(job.result);
  let status = 1;
  try {
    if (job.write) writeRuns(job);
    else readAndHash(job, bytes);
  } catch (e) {
    status = 2;
    const msg = Buffer.from(String(e && e.message || e)).subarray(0, job.messageMax);
    bytes.set(msg, job.messageAt);
    result[1] = msg.length;
  }
  Atomics.store(result, 0, status);
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
});
`;
