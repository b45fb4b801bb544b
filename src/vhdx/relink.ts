import { META_PARENT_LOCATOR } from "./_layout";
import { VhdxFormatError } from "./errors";
import { type ParentLocatorEntries, serializeParentLocator } from "./parent_locator";
import { relativeLocatorPath } from "./parent_path";
import { VhdxImage } from "./vhdx_image";

/**
 * Points a differencing file at a new parent: rewrites its parent locator (relative_path to
 * the new parent, parent_linkage to its current DataWriteGuid; other path keys dropped, since
 * they would name the old file) through the log, so a crash leaves the old or the new locator.
 * The child's own DataWriteGuid does not change, so its children stay linked. Used after a
 * merge moves a chain's base (retention) and when backup files are relocated.
 */
export function relinkParent(childPath: string, newParentPath: string): ParentLocatorEntries {
  const parent = VhdxImage.open(newParentPath);
  let linkage: string;
  try {
    linkage = parent.dataWriteGuid;
  } finally {
    parent.close();
  }
  const child = VhdxImage.open(childPath, { writable: true, noParent: true });
  try {
    if (child.type !== "differencing") throw new VhdxFormatError(childPath, "file", "is not a differencing disk, so it has no parent to change", "VhdxNotDifferencing");
    const entries: ParentLocatorEntries = {
      parent_linkage: `{${linkage}}`,
      relative_path: relativeLocatorPath(childPath, newParentPath),
    };
    child.rewriteMetadataItem(META_PARENT_LOCATOR, serializeParentLocator(entries));
    return entries;
  } finally {
    child.close();
  }
}
