import { checksumWithFieldZeroed } from "./crc32c";
import { StructureError, hex } from "./errors";
import { readGuid, writeGuid } from "./guid";
import { HEADER_SIZE, MiB, SIG_HEADER } from "./_layout";

/** One of the two VHDX headers (MS-VHDX 2.2.2). */
export interface VhdxHeader {
  sequenceNumber: bigint;
  /** Changed before the first write of any kind after each open. */
  fileWriteGuid: string;
  /** Changed before the first user-visible change; children store it as `parent_linkage`. */
  dataWriteGuid: string;
  /** All-zero when the log holds nothing to replay. */
  logGuid: string;
  logVersion: number;
  version: number;
  logLength: number;
  logOffset: number;
}

/**
 * Parses a 4 KiB header block: signature, then checksum, then fields, then range checks.
 * Throws {@link StructureError} when the header is not valid.
 */
export function parseHeader(block: Uint8Array, name = "header"): VhdxHeader {
  if (block.length < HEADER_SIZE) throw new StructureError(name, `got ${block.length} bytes, expected ${HEADER_SIZE}`);
  const b = Buffer.from(block.buffer, block.byteOffset, HEADER_SIZE);
  const sig = b.toString("latin1", 0, 4);
  if (sig !== SIG_HEADER) throw new StructureError(name, `signature is '${printable(sig)}', expected '${SIG_HEADER}'`);
  const stored = b.readUInt32LE(4);
  const actual = checksumWithFieldZeroed(b, 4);
  if (stored !== actual) throw new StructureError(name, `checksum is ${hex(stored)}, expected ${hex(actual)}`);
  const header: VhdxHeader = {
    sequenceNumber: b.readBigUInt64LE(8),
    fileWriteGuid: readGuid(b, 16),
    dataWriteGuid: readGuid(b, 32),
    logGuid: readGuid(b, 48),
    logVersion: b.readUInt16LE(64),
    version: b.readUInt16LE(66),
    logLength: b.readUInt32LE(68),
    logOffset: Number(b.readBigUInt64LE(72)),
  };
  if (header.version !== 1) throw new StructureError(name, `Version is ${header.version}, expected 1`);
  if (header.logVersion !== 0) throw new StructureError(name, `LogVersion is ${header.logVersion}, expected 0`);
  if (header.logLength % MiB !== 0) throw new StructureError(name, `LogLength ${header.logLength} is not a multiple of 1 MiB`);
  if (header.logOffset % MiB !== 0 || header.logOffset < MiB) {
    throw new StructureError(name, `LogOffset ${header.logOffset} is not a multiple of 1 MiB at or after 1 MiB`);
  }
  return header;
}

/** Serialises a header into a 4 KiB block with a correct checksum. */
export function serializeHeader(h: VhdxHeader): Uint8Array {
  const b = Buffer.alloc(HEADER_SIZE);
  b.write(SIG_HEADER, 0, "latin1");
  b.writeBigUInt64LE(h.sequenceNumber, 8);
  writeGuid(b, 16, h.fileWriteGuid);
  writeGuid(b, 32, h.dataWriteGuid);
  writeGuid(b, 48, h.logGuid);
  b.writeUInt16LE(h.logVersion, 64);
  b.writeUInt16LE(h.version, 66);
  b.writeUInt32LE(h.logLength, 68);
  b.writeBigUInt64LE(BigInt(h.logOffset), 72);
  b.writeUInt32LE(checksumWithFieldZeroed(b, 4), 4);
  return b;
}

/**
 * Chooses the current header from the two slots (2.2.2.1): the only valid one, or the valid one
 * with the larger SequenceNumber. Returns which slot (0 or 1) it came from.
 */
export function chooseHeader(
  slot1: Uint8Array,
  slot2: Uint8Array,
): { header: VhdxHeader; slot: 0 | 1; errors: string[] } {
  const errors: string[] = [];
  const tryParse = (b: Uint8Array, name: string): VhdxHeader | undefined => {
    try {
      return parseHeader(b, name);
    } catch (e) {
      if (e instanceof StructureError) {
        errors.push(e.message);
        return undefined;
      }
      throw e;
    }
  };
  const h1 = tryParse(slot1, "header 1");
  const h2 = tryParse(slot2, "header 2");
  if (h1 && h2) {
    return h2.sequenceNumber > h1.sequenceNumber ? { header: h2, slot: 1, errors } : { header: h1, slot: 0, errors };
  }
  if (h1) return { header: h1, slot: 0, errors };
  if (h2) return { header: h2, slot: 1, errors };
  throw new StructureError("headers", `no valid header (${errors.join("; ")})`);
}

/** Replaces non-printable characters for messages about signatures. */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}
