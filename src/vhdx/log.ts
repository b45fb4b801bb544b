import { checksumWithFieldZeroed, crc32c } from "./crc32c";
import { StructureError } from "./errors";
import { readGuid, writeGuid } from "./guid";
import { LOG_SECTOR_SIZE, SIG_DATA_DESC, SIG_DATA_SECTOR, SIG_LOG_ENTRY, SIG_ZERO_DESC } from "./_layout";

/**
 * The VHDX log (MS-VHDX 2.3): a circular buffer of entries, each a header sector with
 * descriptors, followed by one data sector per data descriptor. Metadata and BAT changes are
 * written here first, then applied in place, so a crash leaves either the old or the new state.
 */

/** One sector-sized change recorded in a log entry. */
export type LogWrite =
  | { kind: "data"; fileOffset: number; data: Uint8Array }
  | { kind: "zero"; fileOffset: number; length: number };

/** A parsed, validated log entry. */
export interface LogEntry {
  /** Byte offset of the entry within the log. */
  position: number;
  length: number;
  tail: number;
  sequenceNumber: bigint;
  flushedFileOffset: number;
  lastFileOffset: number;
  writes: LogWrite[];
}

const HEADER_LENGTH = 64;
const DESCRIPTOR_LENGTH = 32;
/** Pieces in which an entry is read to verify its checksum. */
const CHECKSUM_PIECE = 1024 * 1024;
/** Descriptors per 4 KiB sector: the 64-byte header takes the place of two (2.3.1.1). */
const DESCRIPTORS_PER_SECTOR = LOG_SECTOR_SIZE / DESCRIPTOR_LENGTH;

/** Number of 4 KiB sectors the header and `count` descriptors occupy. */
export function descriptorSectors(count: number): number {
  return Math.ceil((count + 2) / DESCRIPTORS_PER_SECTOR);
}

/**
 * Validates and parses the entry that starts at `bytes[0]`. Returns a reason string when the
 * entry is not valid (invalid entries are normal: the log is scanned at every position).
 * `read(offset, length)` reads bytes of the entry (offset 0 = its first byte) once the header
 * says how long it is. The entry is read in pieces of at most 1 MiB and data sectors one at a
 * time, so a damaged header that claims an entry as long as the log costs no more memory than a
 * valid entry holds.
 */
export function parseLogEntry(
  head: Uint8Array,
  logGuid: string,
  logLength: number,
  position: number,
  read: (offset: number, length: number) => Uint8Array,
): LogEntry | string {
  const h = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (h.length < LOG_SECTOR_SIZE) return "short";
  if (h.toString("latin1", 0, 4) !== SIG_LOG_ENTRY) return "signature";
  const length = h.readUInt32LE(8);
  const tail = h.readUInt32LE(12);
  const seq = h.readBigUInt64LE(16);
  const count = h.readUInt32LE(24);
  if (readGuid(h, 32) !== logGuid) return "log guid";
  if (length === 0 || length % LOG_SECTOR_SIZE !== 0 || length > logLength) return "length";
  if (tail % LOG_SECTOR_SIZE !== 0 || tail >= logLength) return "tail";
  if (seq === 0n) return "sequence";
  const descSectors = descriptorSectors(count);
  if (descSectors * LOG_SECTOR_SIZE > length) return "descriptor count";
  const stored = h.readUInt32LE(4);
  let crc = 0;
  for (let off = 0; off < length; off += CHECKSUM_PIECE) {
    const piece = Buffer.from(read(off, Math.min(CHECKSUM_PIECE, length - off)));
    if (off === 0) piece.fill(0, 4, 8);
    crc = crc32c(piece, crc);
  }
  if (crc !== stored) return "checksum";
  const writes: LogWrite[] = [];
  let dataSector = descSectors;
  let descPage = -1;
  let desc = h;
  for (let i = 0; i < count; i++) {
    const byte = HEADER_LENGTH + i * DESCRIPTOR_LENGTH;
    const page = Math.floor(byte / LOG_SECTOR_SIZE);
    if (page !== descPage) {
      desc = page === 0 ? h : Buffer.from(read(page * LOG_SECTOR_SIZE, LOG_SECTOR_SIZE));
      descPage = page;
    }
    const at = byte - page * LOG_SECTOR_SIZE;
    const sig = desc.toString("latin1", at, at + 4);
    const fileOffset = Number(desc.readBigUInt64LE(at + 16));
    if (desc.readBigUInt64LE(at + 24) !== seq) return "descriptor sequence";
    if (fileOffset % LOG_SECTOR_SIZE !== 0) return "descriptor offset";
    if (sig === SIG_ZERO_DESC) {
      const zeroLength = Number(desc.readBigUInt64LE(at + 8));
      if (zeroLength % LOG_SECTOR_SIZE !== 0) return "zero length";
      writes.push({ kind: "zero", fileOffset, length: zeroLength });
    } else if (sig === SIG_DATA_DESC) {
      if ((dataSector + 1) * LOG_SECTOR_SIZE > length) return "data sectors";
      const ds = Buffer.from(read(dataSector * LOG_SECTOR_SIZE, LOG_SECTOR_SIZE));
      dataSector++;
      if (ds.toString("latin1", 0, 4) !== SIG_DATA_SECTOR) return "data sector signature";
      const dsSeq = (BigInt(ds.readUInt32LE(4)) << 32n) | BigInt(ds.readUInt32LE(4092));
      if (dsSeq !== seq) return "data sector sequence";
      const data = Buffer.alloc(LOG_SECTOR_SIZE);
      desc.copy(data, 0, at + 8, at + 16); // LeadingBytes
      ds.copy(data, 8, 8, 4092);
      desc.copy(data, 4092, at + 4, at + 8); // TrailingBytes
      writes.push({ kind: "data", fileOffset, data });
    } else {
      return "descriptor signature";
    }
  }
  return {
    position,
    length,
    tail,
    sequenceNumber: seq,
    flushedFileOffset: Number(h.readBigUInt64LE(48)),
    lastFileOffset: Number(h.readBigUInt64LE(56)),
    writes,
  };
}

/**
 * Finds the active sequence (2.3.3, as qemu implements it): scan every 4 KiB position, grow a
 * run of valid entries with consecutive sequence numbers from each valid entry, and keep the run
 * whose last entry has the highest sequence number. Returns [] when nothing needs replaying.
 * `read(position, length)` reads the circular log (wrapping at `logLength`).
 */
export function findActiveSequence(
  read: (position: number, length: number) => Uint8Array,
  logLength: number,
  logGuid: string,
): LogEntry[] {
  const parseAt = (pos: number): LogEntry | undefined => {
    const r = parseLogEntry(read(pos, LOG_SECTOR_SIZE), logGuid, logLength, pos, (off, len) => read((pos + off) % logLength, len));
    return typeof r === "string" ? undefined : r;
  };
  let best: LogEntry[] = [];
  for (let pos = 0; pos < logLength; pos += LOG_SECTOR_SIZE) {
    const first = parseAt(pos);
    if (!first) continue;
    const run = [first];
    let cur = first;
    // A sequence can never be longer than the log itself; the bound also stops cycles.
    while (run.length < logLength / LOG_SECTOR_SIZE) {
      const nextPos = (cur.position + cur.length) % logLength;
      const next = parseAt(nextPos);
      if (!next || next.sequenceNumber !== cur.sequenceNumber + 1n) break;
      run.push(next);
      cur = next;
    }
    const last = run[run.length - 1]!;
    const bestLast = best[best.length - 1];
    // A run found from a later position can be a suffix of one found earlier (a sequence that
    // wraps past the end of the log is first met at offset 0): on equal last entries keep the
    // longer run, which holds the Tail entry.
    if (!bestLast || last.sequenceNumber > bestLast.sequenceNumber || (last.sequenceNumber === bestLast.sequenceNumber && run.length > best.length)) best = run;
  }
  if (best.length === 0) return [];
  // The last entry's Tail names where the sequence starts; entries before it are already applied.
  const tail = best[best.length - 1]!.tail;
  const start = best.findIndex((e) => e.position === tail);
  return start > 0 ? best.slice(start) : best;
}

/** Builds one log entry holding `writes` (each data write exactly one 4 KiB-aligned sector). */
export function buildLogEntry(opts: {
  sequenceNumber: bigint;
  tail: number;
  logGuid: string;
  flushedFileOffset: number;
  lastFileOffset: number;
  writes: readonly LogWrite[];
}): Uint8Array {
  const dataWrites = opts.writes.filter((w) => w.kind === "data");
  const descSectors = descriptorSectors(opts.writes.length);
  const length = (descSectors + dataWrites.length) * LOG_SECTOR_SIZE;
  const b = Buffer.alloc(length);
  const seq = opts.sequenceNumber;
  b.write(SIG_LOG_ENTRY, 0, "latin1");
  b.writeUInt32LE(length, 8);
  b.writeUInt32LE(opts.tail, 12);
  b.writeBigUInt64LE(seq, 16);
  b.writeUInt32LE(opts.writes.length, 24);
  writeGuid(b, 32, opts.logGuid);
  b.writeBigUInt64LE(BigInt(opts.flushedFileOffset), 48);
  b.writeBigUInt64LE(BigInt(opts.lastFileOffset), 56);
  let dataSector = descSectors;
  opts.writes.forEach((w, i) => {
    const at = HEADER_LENGTH + i * DESCRIPTOR_LENGTH;
    if (w.fileOffset % LOG_SECTOR_SIZE !== 0) throw new StructureError("log", `write at ${w.fileOffset} is not 4 KiB aligned`);
    b.writeBigUInt64LE(BigInt(w.fileOffset), at + 16);
    b.writeBigUInt64LE(seq, at + 24);
    if (w.kind === "zero") {
      b.write(SIG_ZERO_DESC, at, "latin1");
      b.writeBigUInt64LE(BigInt(w.length), at + 8);
      return;
    }
    if (w.data.length !== LOG_SECTOR_SIZE) throw new StructureError("log", "data write is not one 4 KiB sector");
    const data = Buffer.from(w.data.buffer, w.data.byteOffset, LOG_SECTOR_SIZE);
    b.write(SIG_DATA_DESC, at, "latin1");
    data.copy(b, at + 4, 4092, 4096); // TrailingBytes
    data.copy(b, at + 8, 0, 8); // LeadingBytes
    const ds = dataSector * LOG_SECTOR_SIZE;
    b.write(SIG_DATA_SECTOR, ds, "latin1");
    b.writeUInt32LE(Number(seq >> 32n), ds + 4);
    data.copy(b, ds + 8, 8, 4092);
    b.writeUInt32LE(Number(seq & 0xffffffffn), ds + 4092);
    dataSector++;
  });
  b.writeUInt32LE(checksumWithFieldZeroed(b, 4), 4);
  return b;
}

/** Largest number of data sectors one entry may carry in a log of `logLength` bytes. */
export function maxWritesPerEntry(logLength: number): number {
  const sectors = logLength / LOG_SECTOR_SIZE;
  // n data sectors + descriptorSectors(n) must fit.
  let n = sectors - 1;
  while (n > 0 && n + descriptorSectors(n) > sectors) n--;
  return n;
}
