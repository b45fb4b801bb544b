import type { DiskType } from "../disk/mod";
import { type BatGeometry, entryOffset, entryState } from "./bat";
import type { VhdxRegions } from "./region_read";
import {
  HEADER_SECTION_SIZE,
  MiB,
  PAYLOAD_FULLY_PRESENT,
  PAYLOAD_NOT_PRESENT,
  PAYLOAD_PARTIALLY_PRESENT,
  PAYLOAD_UNDEFINED,
  PAYLOAD_UNMAPPED,
  PAYLOAD_UNMAPPED_V095,
  PAYLOAD_ZERO,
  SB_NOT_PRESENT,
  SB_PRESENT,
} from "./_layout";

/** What {@link checkBatEntries} looks at: one open file's layout and a reader of its BAT. */
export interface BatCheckInput {
  /** Current size of the file in bytes. */
  fileSize: number;
  type: DiskType;
  geometry: BatGeometry;
  regions: VhdxRegions;
  /** The log's place in the file, from the current header. */
  log: { offset: number; length: number };
  /** Reads BAT entry `index`. */
  batEntry: (index: number) => bigint;
  /** Bytes of payload block `block` inside the virtual disk (less for a short last block). */
  blockBytes: (block: number) => number;
}

/** Verifies the BAT: states valid for the file type, blocks inside the file, no overlaps. */
export function checkBatEntries(input: BatCheckInput): string[] {
  const problems: string[] = [];
  const size = input.fileSize;
  const { regions, type } = input;
  const used: Array<[number, number, string]> = [
    [0, HEADER_SECTION_SIZE, "header section"],
    [input.log.offset, input.log.offset + input.log.length, "log"],
    [regions.bat.fileOffset, regions.bat.fileOffset + regions.bat.length, "BAT region"],
    [regions.metadata.fileOffset, regions.metadata.fileOffset + regions.metadata.length, "metadata region"],
  ];
  const g = input.geometry;
  let partialInChunk = false;
  for (let i = 0; i < g.totalEntries; i++) {
    const e = input.batEntry(i);
    const state = entryState(e);
    const isBitmap = (i + 1) % (g.chunkRatio + 1) === 0;
    if ((e & 0xffff8n) !== 0n) problems.push(`BAT entry ${i}: reserved bits are not zero`);
    if (isBitmap) {
      if (state === SB_PRESENT) {
        if (type !== "differencing") problems.push(`BAT entry ${i}: sector bitmap block present in a non-differencing file`);
        used.push([entryOffset(e), entryOffset(e) + MiB, `sector bitmap entry ${i}`]);
      } else if (state !== SB_NOT_PRESENT) problems.push(`BAT entry ${i}: sector bitmap state ${state} is not valid`);
      else if (partialInChunk) problems.push(`BAT entry ${i}: sector bitmap block missing for a PARTIALLY_PRESENT payload block`);
      partialInChunk = false;
      continue;
    }
    const block = i - Math.floor(i / (g.chunkRatio + 1));
    if (block >= g.dataBlocks) {
      if (state !== PAYLOAD_NOT_PRESENT) problems.push(`BAT entry ${i}: payload entry past the last block has state ${state}`);
      continue;
    }
    if (state === PAYLOAD_FULLY_PRESENT || state === PAYLOAD_PARTIALLY_PRESENT) {
      if (state === PAYLOAD_PARTIALLY_PRESENT) {
        if (type !== "differencing") problems.push(`BAT entry ${i} (payload block ${block}): PARTIALLY_PRESENT in a non-differencing file`);
        partialInChunk = true;
      }
      used.push([entryOffset(e), entryOffset(e) + input.blockBytes(block), `payload block ${block}`]);
    } else if (![PAYLOAD_NOT_PRESENT, PAYLOAD_UNDEFINED, PAYLOAD_ZERO, PAYLOAD_UNMAPPED, PAYLOAD_UNMAPPED_V095].includes(state)) {
      problems.push(`BAT entry ${i} (payload block ${block}): state ${state} is not valid`);
    }
  }
  if (partialInChunk && g.totalEntries % (g.chunkRatio + 1) !== 0) {
    problems.push("BAT: a PARTIALLY_PRESENT payload block has no sector bitmap entry");
  }
  for (const [from, to, what] of used.slice(4)) {
    if (from < HEADER_SECTION_SIZE) problems.push(`${what}: file offset ${from} lies in the header section`);
    else if (from >= size) problems.push(`${what}: file offset ${from} lies past the end of the ${size}-byte file`);
    // A short last block (see VhdxImage's #blockBytes) may end with the file, but not before it.
    else if (to > size) problems.push(`${what}: [${from}, ${to}) is cut short by the end of the ${size}-byte file`);
  }
  used.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < used.length; i++) {
    const [pf, pt, pw] = used[i - 1]!;
    const [f, , w] = used[i]!;
    if (f < pt && pf !== pt) problems.push(`${w} at ${f} overlaps ${pw} at ${pf}`);
  }
  return problems;
}
