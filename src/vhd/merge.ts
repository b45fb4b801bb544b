import { HvbError } from "../base/mod";
import { MiB } from "./_layout";
import { VhdImage } from "./vhd_image";

/** What {@link mergeVhdIntoParent} did. */
export interface VhdMergeResult {
  /** The parent that received the data. */
  parentPath: string;
  /** Bytes copied (the sectors the child held). */
  bytesMerged: number;
}

const CHUNK = 4 * MiB;

/**
 * Copies every sector present in a differencing VHD into its parent (what Hyper-V does when a
 * checkpoint is deleted). The child file is left unchanged; the caller deletes it afterwards.
 *
 * Crash consistency: each parent write is itself ordered (data, then bitmap, footer, BAT), and
 * only sectors the child holds are written, so at every moment the chain child→parent still
 * reads exactly as before the merge, and the parent alone is a valid VHD. An interrupted merge
 * can simply be run again.
 *
 * @example mergeVhdIntoParent("/vms/disk_1234.avhd") // { parentPath: "/vms/disk.vhd", bytesMerged: 2097152 }
 */
export function mergeVhdIntoParent(childPath: string): VhdMergeResult {
  const child = VhdImage.open(childPath, { parentWritable: true });
  try {
    const parent = child.parent;
    if (child.type !== "differencing" || parent === undefined) {
      throw new HvbError("InvalidOperation", `Cannot merge '${childPath}': it is a ${child.type} disk, not a differencing disk`, {
        category: "InvalidOperation",
        target: childPath,
      });
    }
    if (child.virtualSize > parent.virtualSize) {
      throw new HvbError(
        "InvalidOperation",
        `Cannot merge '${childPath}': it is ${child.virtualSize} bytes, larger than its parent '${parent.path}' (${parent.virtualSize} bytes)`,
        { category: "InvalidOperation", target: childPath },
      );
    }
    const buf = new Uint8Array(CHUNK);
    let bytesMerged = 0;
    for (const r of child.dataRanges("file")) {
      for (let p = r.offset; p < r.offset + r.length; p += CHUNK) {
        const chunk = buf.subarray(0, Math.min(CHUNK, r.offset + r.length - p));
        child.read(chunk, p);
        parent.write(chunk, p);
        bytesMerged += chunk.length;
      }
    }
    parent.flush();
    return { parentPath: parent.path, bytesMerged };
  } finally {
    child.close();
  }
}
