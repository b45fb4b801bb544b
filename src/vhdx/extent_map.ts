import type { ByteRange, DiskType } from "../disk/mod";
import { VhdxFormatError } from "./errors";
import {
  PAYLOAD_FULLY_PRESENT,
  PAYLOAD_NOT_PRESENT,
  PAYLOAD_PARTIALLY_PRESENT,
  PAYLOAD_UNDEFINED,
  PAYLOAD_UNMAPPED,
  PAYLOAD_UNMAPPED_V095,
  PAYLOAD_ZERO,
} from "./_layout";

/** What a range of a single file holds. */
export type ExtentKind = "data" | "zero" | "parent";

/** A range of the virtual disk and where its content comes from in one file. */
export interface Extent extends ByteRange {
  kind: ExtentKind;
}

/** One open file as {@link mapExtents} sees it. */
export interface ExtentSource {
  path: string;
  type: DiskType;
  blockSize: number;
  virtualSize: number;
  logicalSectorSize: number;
  /** The BAT state of payload block `block`. */
  blockState: (block: number) => number;
  /**
   * Whether logical sector `sector` is present per the file's sector bitmap, and how many
   * sectors from it (at least 1, at most `maxCount`) share that state: whole runs at a time, so
   * a partially present block costs one bitmap scan, not one lookup per sector.
   */
  sectorRun: (sector: number, maxCount: number) => SectorRun;
}

/** A run of logical sectors with the same bit in a sector bitmap. */
export interface SectorRun {
  present: boolean;
  count: number;
}

/**
 * What `file` holds for `range` (already checked to lie inside the disk): its own data, zeros
 * (which, in a differencing file, hide the parent) or "parent" (look further down the chain;
 * plain unallocated space in a dynamic file reads as zeros and is reported as "zero").
 */
export function mapExtents(file: ExtentSource, range: ByteRange): Extent[] {
  const out: Extent[] = [];
  const push = (o: number, l: number, kind: ExtentKind): void => {
    const last = out[out.length - 1];
    if (last && last.kind === kind && last.offset + last.length === o) last.length += l;
    else out.push({ offset: o, length: l, kind });
  };
  const end = range.offset + range.length;
  let pos = range.offset;
  while (pos < end) {
    const block = Math.floor(pos / file.blockSize);
    const blockEnd = Math.min((block + 1) * file.blockSize, end, file.virtualSize);
    const state = file.blockState(block);
    if (state === PAYLOAD_FULLY_PRESENT) push(pos, blockEnd - pos, "data");
    else if (state === PAYLOAD_NOT_PRESENT) push(pos, blockEnd - pos, file.type === "differencing" ? "parent" : "zero");
    else if (state === PAYLOAD_PARTIALLY_PRESENT && file.type === "differencing") {
      const lss = file.logicalSectorSize;
      const endSector = Math.ceil(blockEnd / lss);
      let p = pos;
      while (p < blockEnd) {
        const sector = Math.floor(p / lss);
        const run = file.sectorRun(sector, endSector - sector);
        const next = Math.min((sector + run.count) * lss, blockEnd);
        push(p, next - p, run.present ? "data" : "parent");
        p = next;
      }
    } else if (state === PAYLOAD_PARTIALLY_PRESENT) {
      throw new VhdxFormatError(file.path, `BAT entry of payload block ${block}`, "state PARTIALLY_PRESENT is only valid in a differencing file");
    } else if (state === PAYLOAD_ZERO || state === PAYLOAD_UNMAPPED || state === PAYLOAD_UNMAPPED_V095 || state === PAYLOAD_UNDEFINED) {
      push(pos, blockEnd - pos, "zero");
    } else {
      // As read() does: a reserved state is damage, not zeros (callers copy only mapped data).
      throw new VhdxFormatError(file.path, `BAT entry of payload block ${block}`, `state ${state} is not a valid payload block state`);
    }
    pos = blockEnd;
  }
  return out;
}
