import { existsSync } from "node:fs";
import * as path from "node:path";
import { isRootedWindowsPath, relativeWindowsPath, windowsBaseName, windowsPathParts } from "../base/mod";
import { VhdxFormatError } from "./errors";
import type { ParentLocatorEntries } from "./parent_locator";

/**
 * Finds the parent file of a differencing disk from its locator, in the order MS-VHDX
 * 2.6.2.6.3 gives: relative_path, then volume_path, then absolute_win32_path.
 *
 * Hyper-V writes Windows paths (`.\web01.vhdx`, `\\?\C:\VMs\web01.vhdx`,
 * `\\?\UNC\server\share\web01.vhdx`, `\\?\Volume{…}\VMs\web01.vhdx`). On Windows an absolute
 * path is tried as it is. Everywhere, an absolute path is also tried as the same file name next
 * to the child: a backup copied to another machine or a Linux host keeps a chain's files side
 * by side or in known relative places. A relative_path that is in fact rooted is treated the
 * same way (the mapping is src/base/windows_path.ts, shared with VHD).
 */
export function resolveParentPath(childPath: string, locator: ParentLocatorEntries): string {
  const dir = path.dirname(childPath);
  const tried: string[] = [];
  const attempt = (candidate: string | undefined): string | undefined => {
    if (candidate === undefined || candidate === "") return undefined;
    tried.push(candidate);
    return existsSync(candidate) ? candidate : undefined;
  };
  const tryAbsolute = (value: string): string | undefined => {
    if (process.platform === "win32") {
      const found = attempt(value);
      if (found) return found;
    }
    const name = windowsBaseName(value);
    return name === "" ? undefined : attempt(path.join(dir, name));
  };
  const rel = locator["relative_path"];
  if (rel !== undefined) {
    const found = isRootedWindowsPath(rel) ? tryAbsolute(rel) : attempt(path.resolve(dir, ...windowsPathParts(rel)));
    if (found) return found;
  }
  for (const key of ["volume_path", "absolute_win32_path"] as const) {
    const value = locator[key];
    if (value === undefined) continue;
    const found = tryAbsolute(value);
    if (found) return found;
  }
  throw new VhdxFormatError(
    childPath,
    "parent locator",
    `parent not found (looked for ${tried.map((t) => `'${t}'`).join(", ") || "nothing: the locator has no usable path"}); supply it explicitly with --parent`,
    "VhdxParentNotFound",
  );
}

/** `relative_path` value for a parent as seen from the child's folder: `.\p.vhdx`, `..\x\p.vhdx`. */
export function relativeLocatorPath(childPath: string, parentPath: string): string {
  return relativeWindowsPath(childPath, parentPath);
}
