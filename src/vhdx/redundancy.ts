/**
 * Which of a VHDX file's redundant structures (two headers, two region tables) are damaged,
 * although the file still reads from the other copy.
 */
import { closeSync, readSync } from "node:fs";
import { openRegularFile } from "../base/mod";
import { HEADER1_OFFSET, HEADER2_OFFSET, HEADER_SIZE, REGION_TABLE1_OFFSET, REGION_TABLE2_OFFSET, REGION_TABLE_SIZE } from "./_layout";
import { parseHeader } from "./header";
import { parseRegionTable } from "./region_table";

/**
 * A VHDX file keeps two headers and two region tables so it survives one being damaged; readers
 * (and so the structural check) quietly use the good copy. A backup must still say that a copy
 * is damaged: the file has lost its redundancy, and the damage may spread. The data itself is
 * still checked block by block, so restore can go on.
 */
export function redundantCopyProblems(file: string): string[] {
  const problems: string[] = [];
  const fd = openRegularFile(file, "r", "VHDX file");
  try {
    const read = (offset: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      readSync(fd, b, 0, length, offset);
      return b;
    };
    const copies = [
      ["header 1", HEADER1_OFFSET, HEADER_SIZE, parseHeader],
      ["header 2", HEADER2_OFFSET, HEADER_SIZE, parseHeader],
      ["region table 1", REGION_TABLE1_OFFSET, REGION_TABLE_SIZE, parseRegionTable],
      ["region table 2", REGION_TABLE2_OFFSET, REGION_TABLE_SIZE, parseRegionTable],
    ] as const;
    for (const [name, offset, size, parse] of copies) {
      try {
        parse(read(offset, size), name);
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        problems.push(`Invalid VHDX file '${file}': ${e.message} (the file still reads from its other copy, but has lost its redundancy)`);
      }
    }
  } finally {
    closeSync(fd);
  }
  return problems;
}
