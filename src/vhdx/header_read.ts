import { VhdxFormatError } from "./errors";
import type { FileIo } from "./file_io";
import { type VhdxHeader, chooseHeader, printable } from "./header";
import { HEADER1_OFFSET, HEADER2_OFFSET, HEADER_SECTION_SIZE, HEADER_SIZE, SIG_FILE } from "./_layout";

/**
 * Checks the file identifier (MS-VHDX 2.2.1) and the 1 MiB header section, then picks the
 * current of the two headers (2.2.2.1). A short file that is not a VHDX at all says so first.
 */
export function readCurrentHeader(io: FileIo): { header: VhdxHeader; slot: 0 | 1 } {
  const path = io.path;
  const size = io.size();
  if (size < HEADER_SECTION_SIZE) {
    const sig = size >= 8 ? io.readExact(0, 8, "file identifier").toString("latin1") : "";
    if (sig !== SIG_FILE) throw new VhdxFormatError(path, "file identifier", `signature is '${printable(sig)}', expected '${SIG_FILE}' (not a VHDX file)`, "VhdxNotVhdx");
    throw new VhdxFormatError(path, "file", `is ${size} bytes, smaller than the 1 MiB header section`, "VhdxTruncated");
  }
  const sig = io.readExact(0, 8, "file identifier").toString("latin1");
  if (sig !== SIG_FILE) throw new VhdxFormatError(path, "file identifier", `signature is '${printable(sig)}', expected '${SIG_FILE}' (not a VHDX file)`, "VhdxNotVhdx");
  return chooseHeader(
    io.readExact(HEADER1_OFFSET, HEADER_SIZE, "header 1"),
    io.readExact(HEADER2_OFFSET, HEADER_SIZE, "header 2"),
  );
}
