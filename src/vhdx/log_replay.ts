import { VhdxFormatError } from "./errors";
import type { FileIo } from "./file_io";
import { NIL_GUID } from "./guid";
import type { VhdxHeader } from "./header";
import { type LogEntry, findActiveSequence } from "./log";
import { HEADER_SECTION_SIZE, LOG_SECTOR_SIZE, MiB } from "./_layout";

/**
 * Replaying the log when a file is opened (MS-VHDX 2.3.3): the active sequence is found and
 * applied before any metadata is read, in place when the file is writable, else into the I/O
 * overlay (a reader may not write the file).
 */

/** What replaying the log on open left behind: where the next log entry goes. */
export interface LogReplayResult {
  /** Whether a non-empty active sequence was found and applied. */
  replayed: boolean;
  /** Sequence number for the next entry written. */
  logSequence: bigint;
  /** Byte offset within the log for the next entry written. */
  logPosition: number;
}

/** Finds the active log sequence of `header`'s log and applies it (see the module comment). */
export function replayOpenLog(io: FileIo, header: VhdxHeader): LogReplayResult {
  const path = io.path;
  const size = io.size();
  const result: LogReplayResult = { replayed: false, logSequence: 1n, logPosition: 0 };
  if (header.logGuid !== NIL_GUID && header.logLength > 0) {
    if (header.logOffset + header.logLength > size) {
      throw new VhdxFormatError(path, "log", `log [${header.logOffset}, ${header.logOffset + header.logLength}) lies past the end of the ${size}-byte file`, "VhdxTruncated");
    }
    const entries = findActiveSequence(
      (pos, len) => readCircular(io, header.logOffset, header.logLength, pos, len),
      header.logLength,
      header.logGuid,
    );
    if (entries.length > 0) {
      replayLog(io, entries, size);
      result.replayed = true;
      const last = entries[entries.length - 1]!;
      result.logSequence = last.sequenceNumber + 1n;
      result.logPosition = (last.position + last.length) % header.logLength;
    }
  }
  return result;
}

function readCircular(io: FileIo, logOffset: number, logLength: number, pos: number, len: number): Uint8Array {
  const out = Buffer.alloc(len);
  let done = 0;
  while (done < len) {
    const p = (pos + done) % logLength;
    const n = Math.min(len - done, logLength - p);
    io.readInto(out.subarray(done, done + n), logOffset + p, "log");
    done += n;
  }
  return out;
}

/** Applies a log sequence: in place when writable (then synced), else into the I/O overlay. */
function replayLog(io: FileIo, entries: LogEntry[], fileSize: number): void {
  for (const e of entries) {
    if (e.flushedFileOffset > fileSize) {
      throw new VhdxFormatError(io.path, "log", `entry ${e.sequenceNumber} needs the file to be at least ${e.flushedFileOffset} bytes, it is ${fileSize} (file truncated after the log was written)`, "VhdxTruncated");
    }
    for (const w of e.writes) {
      const end = w.fileOffset + (w.kind === "zero" ? w.length : LOG_SECTOR_SIZE);
      if (w.fileOffset < HEADER_SECTION_SIZE || end > Math.max(e.lastFileOffset, fileSize)) {
        throw new VhdxFormatError(io.path, "log", `entry ${e.sequenceNumber} writes [${w.fileOffset}, ${end}) outside the file's structures`);
      }
    }
  }
  for (const e of entries) {
    if (io.writable) {
      if (io.size() < e.lastFileOffset) io.truncate(alignUp(e.lastFileOffset, MiB));
      for (const w of e.writes) {
        if (w.kind === "data") io.write(w.data, w.fileOffset);
        else {
          const zeros = new Uint8Array(Math.min(w.length, MiB));
          for (let p = 0; p < w.length; p += zeros.length) io.write(zeros.subarray(0, Math.min(zeros.length, w.length - p)), w.fileOffset + p);
        }
      }
    } else {
      io.overlayExtend(e.lastFileOffset);
      for (const w of e.writes) {
        if (w.kind === "data") io.overlaySector(w.fileOffset, w.data);
        else io.overlayZero(w.fileOffset, w.length);
      }
    }
  }
  io.sync();
}

/** `n` rounded up to a multiple of `to`. */
export function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
