import { realpathSync } from "node:fs";
import { VhdxFormatError } from "./errors";
import { normalizeGuid } from "./guid";
import { resolveParentPath } from "./parent_path";
import type { VhdxImage, VhdxOpenOptions } from "./vhdx_image";

/** Deepest differencing chain we follow; real chains are far shorter, a loop is longer. */
const MAX_CHAIN_DEPTH = 256;

/** How {@link openParent} opens a file of the chain (VhdxImage.open, passed in to avoid an import cycle). */
export type OpenVhdx = (path: string, options: VhdxOpenOptions) => VhdxImage;

/**
 * Opens the parent of differencing file `child` (from `options.parentPath` or its parent
 * locator), read-only, and checks it: no loop, not too deep, `parent_linkage` names the
 * parent's DataWriteGuid (MS-VHDX 2.6.2.6), same virtual size and logical sector size.
 */
export function openParent(child: VhdxImage, options: VhdxOpenOptions, open: OpenVhdx): VhdxImage {
  // Opened as a parent, the child's real path is already the last one seen (added below by
  // its own child): resolving it again doubled the realpath walks of opening a chain.
  const seen = new Set(options.chainSeen ?? [realpathSync(child.path)]);
  if (seen.size > MAX_CHAIN_DEPTH) {
    throw new VhdxFormatError(child.path, "parent locator", `differencing chain is deeper than ${MAX_CHAIN_DEPTH} files`, "VhdxChainTooDeep");
  }
  const locator = child.parentLocator!;
  const parentPath = options.parentPath ?? resolveParentPath(child.path, locator);
  const real = realpathSync(parentPath);
  if (seen.has(real)) {
    throw new VhdxFormatError(child.path, "parent locator", `parent '${parentPath}' is already part of this chain (the chain loops)`, "VhdxChainLoop");
  }
  seen.add(real);
  const parent = open(parentPath, { chainSeen: seen });
  try {
    const linkage = locator["parent_linkage"];
    const linkage2 = locator["parent_linkage2"];
    const want = [linkage, linkage2].filter((x): x is string => x !== undefined).map(safeGuid);
    if (!want.includes(parent.dataWriteGuid)) {
      throw new VhdxFormatError(
        child.path,
        "parent locator",
        `parent_linkage ${linkage} does not match the DataWriteGuid {${parent.dataWriteGuid}} of parent '${parentPath}' (the parent was modified or replaced after this child was created)`,
        "VhdxParentLinkage",
      );
    }
    if (parent.virtualSize !== child.virtualSize) {
      throw new VhdxFormatError(child.path, "parent", `parent '${parentPath}' has virtual size ${parent.virtualSize}, the child ${child.virtualSize}`, "VhdxParentMismatch");
    }
    if (parent.logicalSectorSize !== child.logicalSectorSize) {
      throw new VhdxFormatError(child.path, "parent", `parent '${parentPath}' has ${parent.logicalSectorSize}-byte sectors, the child ${child.logicalSectorSize}`, "VhdxParentMismatch");
    }
    return parent;
  } catch (e) {
    parent.close();
    throw e;
  }
}

function safeGuid(text: string): string {
  try {
    return normalizeGuid(text);
  } catch {
    return text;
  }
}
