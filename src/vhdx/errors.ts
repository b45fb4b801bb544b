import { HvbError, type HvbErrorCode } from "../base/mod";

/**
 * A VHDX file that is not what the format allows. The message names the file, the structure
 * and the field, e.g. `Cannot open 'a.vhdx': header 1: checksum is 0x1234abcd, expected 0x…`.
 */
export class VhdxFormatError extends HvbError {
  /** Which on-disk structure is wrong: `header`, `region table`, `BAT`, `log`, … */
  readonly structure: string;

  constructor(file: string, structure: string, detail: string, code: HvbErrorCode = "VhdxFormat") {
    super(code, `Invalid VHDX file '${file}': ${structure}: ${detail}`, {
      category: "InvalidData",
      target: file,
    });
    this.name = "VhdxFormatError";
    this.structure = structure;
  }
}

/**
 * A structural problem found by a pure parser, before it knows the file name. The image code
 * catches it and rethrows a {@link VhdxFormatError} naming the file.
 */
export class StructureError extends Error {
  constructor(readonly structure: string, readonly detail: string) {
    super(`${structure}: ${detail}`);
    this.name = "StructureError";
  }
}

/** Formats a number as 0x-prefixed hexadecimal for messages. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}
