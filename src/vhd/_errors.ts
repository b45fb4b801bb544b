import { HvbError } from "../base/mod";

/**
 * A structural problem found by a pure parser, before it knows the file name. The message
 * names the structure and the field (`footer checksum is 0x1234, expected 0xabcd`); image code
 * turns it into a {@link HvbError} that also names the file with {@link vhdFormatError}.
 */
export class VhdStructureError extends Error {
  constructor(readonly structure: string, readonly detail: string) {
    super(`${structure} ${detail}`);
    this.name = "VhdStructureError";
  }
}

/**
 * The error users see for a VHD file that is not what the format allows:
 * `Cannot open 'x.vhd': footer checksum is 0x1234, expected 0xabcd`.
 */
export function vhdFormatError(file: string, detail: string, cause?: unknown): HvbError {
  return new HvbError("VhdFormat", `Cannot open '${file}': ${detail}`, {
    category: "InvalidData",
    target: file,
    cause,
  });
}

/** Formats a number as 0x-prefixed hexadecimal for messages. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** Replaces non-printable characters for messages about cookies and codes. */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}
