import type { VhdxImage } from "../vhdx/mod";
import { zeroHashOf } from "./disk_copy";
import { forEachUnit } from "./pipeline/unit_pipeline";
import { unitsOf } from "./units";

/**
 * Reads back every unit a point's manifest lists for one disk, through the file's chain, and
 * compares it with the manifest's SHA-256; in a full, the units the manifest does not list must
 * read as zeros. One pass through the pipeline, so reading and hashing use every core. Returns
 * the problems found (a read failure is thrown, as an HvbError naming the file).
 */
export function deepCheckDisk(image: VhdxImage, md: { unitSize: number; units: Readonly<Record<string, string>> }): string[] {
  const problems: string[] = [];
  const listed = new Map<number, string>();
  for (const [u, want] of Object.entries(md.units)) listed.set(Number(u), want);
  const all = new Set(listed.keys());
  // A full's unlisted units must be zero: only those that hold data in the file can be other.
  if (image.type !== "differencing") for (const u of unitsOf(image.dataRanges("file"), md.unitSize, image.virtualSize)) all.add(u);
  const zeroHash = new Map<number, string>();
  forEachUnit({
    source: image,
    unitSize: md.unitSize,
    units: [...all].sort((a, b) => a - b),
    consume: (u, part, hash) => {
      const want = listed.get(u);
      const offset = u * md.unitSize;
      if (want === undefined) {
        if (!hash.zero) problems.push(`data at offset ${offset} is not zero, but the manifest lists no data there`);
      } else if ((hash.zero ? zeroHashOf(part.length, zeroHash) : hash.sha256) !== want) {
        problems.push(`data at offset ${offset} (${part.length} bytes) does not match the manifest's SHA-256`);
      }
    },
  });
  return problems;
}
