import * as nodePath from "node:path";
import {
  isDrivePath,
  isRootedWindowsPath,
  isUncPath,
  relativeWindowsPath as relativeWindowsPathBetween,
  stripLongPathPrefix,
  windowsPathParts,
} from "../base/mod";
import type { VhdDynamicHeader } from "./dynamic_header";
import {
  PLATFORM_MACX,
  PLATFORM_W2KU,
  PLATFORM_W2RU,
  PLATFORM_WI2K,
  PLATFORM_WI2R,
  type ParentLocatorEntry,
  decodeLocatorPath,
} from "./parent_locator";

/** A place where the parent of a differencing disk may be, and what said so. */
export interface ParentCandidate {
  /** Local path to try. */
  path: string;
  /** What named it, for messages: `W2ru locator '.\\base.vhd'`. */
  source: string;
}

/** Order in which locators are tried: relative first (survives moving the whole folder), then absolute. */
const LOCATOR_ORDER = [PLATFORM_W2RU, PLATFORM_W2KU, PLATFORM_WI2R, PLATFORM_WI2K, PLATFORM_MACX];

/**
 * Lists the local paths where the parent of a differencing disk may be, best first: the W2ru
 * (relative) locator, the W2ku (absolute) locator, the deprecated Wi2r/Wi2k and MacX locators,
 * and last the header's Parent Unicode Name next to the child (what libvhdi's vhdimount does).
 * `readLocator` returns an entry's data (the caller checks it lies inside the file).
 *
 * Windows paths are mapped for the host: `.\x.vhd` and `..\d\x.vhd` resolve against the
 * child's folder; an absolute `C:\VMs\x.vhd` is used as is on Windows and, elsewhere, tried as
 * the same file name next to the child (a disk set copied off a Hyper-V host keeps its names,
 * not its drive letters).
 */
export function parentCandidates(
  childPath: string,
  header: VhdDynamicHeader,
  readLocator: (entry: ParentLocatorEntry, index: number) => Uint8Array,
  platform: NodeJS.Platform = process.platform,
): ParentCandidate[] {
  const childDir = nodePath.dirname(nodePath.resolve(childPath));
  const out: ParentCandidate[] = [];
  const add = (path: string, source: string): void => {
    if (!out.some((c) => c.path === path)) out.push({ path, source });
  };
  for (const code of LOCATOR_ORDER) {
    header.parentLocators.forEach((entry, index) => {
      if (entry.platformCode !== code || entry.platformDataLength === 0) return;
      const text = decodeLocatorPath(code, readLocator(entry, index));
      if (text === undefined || text === "") return;
      const source = `${code} locator '${text}'`;
      if (code === PLATFORM_MACX) add(text, source);
      else for (const p of windowsPathToLocal(text, childDir, platform)) add(p, source);
    });
  }
  if (header.parentUnicodeName !== "") {
    for (const p of windowsPathToLocal(header.parentUnicodeName, childDir, platform)) {
      add(p, `Parent Unicode Name '${header.parentUnicodeName}'`);
    }
  }
  return out;
}

/**
 * Maps a Windows path stored in a VHD to local paths to try, best first.
 *
 * @example windowsPathToLocal(".\\base.vhd", "/vms", "linux") // ["/vms/base.vhd"]
 * @example windowsPathToLocal("C:\\VMs\\base.vhd", "/vms", "linux") // ["/vms/base.vhd"]
 */
export function windowsPathToLocal(text: string, childDir: string, platform: NodeJS.Platform = process.platform): string[] {
  const p = stripLongPathPrefix(text);
  const parts = windowsPathParts(p);
  const name = parts[parts.length - 1];
  if (name === undefined) return [];
  if (!isRootedWindowsPath(p)) return [nodePath.resolve(childDir, ...parts)];
  if (platform === "win32") return [nodePath.win32.normalize(p), nodePath.join(childDir, name)];
  const out: string[] = [];
  // A rooted path without a drive letter may be a POSIX path written with backslashes (what
  // createVhdDifferencing stores as W2ku on Linux): try it as is first.
  if (!isDrivePath(p) && !isUncPath(p)) out.push(nodePath.posix.join("/", ...parts));
  out.push(nodePath.join(childDir, name));
  return out;
}

/**
 * The W2ru text for a parent as seen from the child's folder: `.\base.vhd`, `..\d\base.vhd`.
 *
 * @example relativeWindowsPath("/vms/a/child.avhd", "/vms/a/base.vhd") // ".\\base.vhd"
 */
export function relativeWindowsPath(childPath: string, parentPath: string): string {
  return relativeWindowsPathBetween(childPath, parentPath);
}
