import { VhdxFormatError } from "./errors";
import { resolveParentPath } from "./parent_path";
import { VhdxImage } from "./vhdx_image";
import { MiB } from "./_layout";

/**
 * Folds a differencing file into its parent, as Hyper-V's merge does: every sector the child
 * holds (data, or zeros that hide the parent) is written into the parent, which keeps its path
 * and becomes what the child showed. The child file is left for the caller to delete.
 *
 * The merge is idempotent: re-running it with the same child after an interruption finishes it
 * (the child is opened on its own, since the parent's DataWriteGuid changes during the merge).
 */
export function mergeVhdxIntoParent(childPath: string, options: { parentPath?: string; onProgress?: (done: number, total: number) => void } = {}): void {
  const child = VhdxImage.open(childPath, { noParent: true });
  try {
    if (child.type !== "differencing") {
      throw new VhdxFormatError(childPath, "file", "is not a differencing disk, so there is nothing to merge", "VhdxNotDifferencing");
    }
    const parentPath = options.parentPath ?? resolveParentPath(childPath, child.parentLocator!);
    const parent = VhdxImage.open(parentPath, { writable: true });
    try {
      const extents = child.extents().filter((e) => e.kind !== "parent");
      const total = extents.reduce((n, e) => n + e.length, 0);
      let done = 0;
      const buf = Buffer.alloc(Math.min(32 * MiB, Math.max(total, 1)));
      for (const e of extents) {
        if (e.kind === "zero") parent.writeZeroes(e.offset, e.length);
        else {
          for (let p = e.offset; p < e.offset + e.length; p += buf.length) {
            const part = buf.subarray(0, Math.min(buf.length, e.offset + e.length - p));
            child.read(part, p);
            parent.write(part, p);
          }
        }
        done += e.length;
        options.onProgress?.(done, total);
      }
    } finally {
      parent.close();
    }
  } finally {
    child.close();
  }
}
