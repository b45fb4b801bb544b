import { StructureError, VhdxFormatError } from "./errors";
import type { FileIo } from "./file_io";
import { type RegionEntry, parseRegionTable } from "./region_table";
import { REGION_BAT, REGION_METADATA, REGION_TABLE1_OFFSET, REGION_TABLE2_OFFSET, REGION_TABLE_SIZE } from "./_layout";

/** The two regions every VHDX file must have (MS-VHDX 2.2.3.2). */
export interface VhdxRegions {
  bat: RegionEntry;
  metadata: RegionEntry;
}

/**
 * Reads the region table (the first valid of its two copies) and finds the BAT and metadata
 * regions, checked to lie inside the file and not to overlap.
 */
export function readRegions(io: FileIo): VhdxRegions {
  let entries: RegionEntry[] | undefined;
  const errors: string[] = [];
  for (const [offset, name] of [[REGION_TABLE1_OFFSET, "region table 1"], [REGION_TABLE2_OFFSET, "region table 2"]] as const) {
    try {
      entries = parseRegionTable(io.readExact(offset, REGION_TABLE_SIZE, name), name);
      break;
    } catch (e) {
      if (!(e instanceof StructureError)) throw e;
      errors.push(e.message);
    }
  }
  if (!entries) throw new StructureError("region tables", `no valid region table (${errors.join("; ")})`);
  const bat = entries.find((e) => e.guid === REGION_BAT);
  const metadata = entries.find((e) => e.guid === REGION_METADATA);
  if (!bat) throw new StructureError("region table", "has no BAT region");
  if (!metadata) throw new StructureError("region table", "has no metadata region");
  const size = io.size();
  for (const [r, name] of [[bat, "BAT region"], [metadata, "metadata region"]] as const) {
    if (r.fileOffset + r.length > size) {
      throw new VhdxFormatError(io.path, name, `[${r.fileOffset}, ${r.fileOffset + r.length}) lies past the end of the ${size}-byte file`, "VhdxTruncated");
    }
  }
  if (bat.fileOffset < metadata.fileOffset + metadata.length && metadata.fileOffset < bat.fileOffset + bat.length) {
    throw new StructureError("region table", `BAT region at ${bat.fileOffset} overlaps metadata region at ${metadata.fileOffset}`);
  }
  return { bat, metadata };
}
