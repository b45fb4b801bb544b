import { existsSync } from "node:fs";
import * as path from "node:path";
import { VhdxFormatError } from "./errors";
import type { ParentLocatorEntries } from "./parent_locator";

/**
 * Finds the parent file of a differencing disk from its locator, in the order MS-VHDX
 * 2.6.2.6.3 gives: relative_path, then volume_path, then absolute_win32_path.
 *
 * Hyper-V writes Windows paths (`.\web01.vhdx`, `\\?\C:\VMs\web01.vhdx`,
 * `\\?\Volume{…}\VMs\web01.vhdx`). On Windows an absolute path is tried as it is. Everywhere,
 * an absolute path is also tried as the same file name next to the child: a backup copied to
 * another machine or a Linux host keeps a chain's files side by side or in known relative places.
 */
export function resolveParentPath(childPath: string, locator: ParentLocatorEntries): string {
  const dir = path.dirname(childPath);
  const tried: string[] = [];
  const attempt = (candidate: string | undefined): string | undefined => {
    if (candidate === undefined || candidate === "") return undefined;
    tried.push(candidate);
    return existsSync(candidate) ? candidate : undefined;
  };
  const rel = locator["relative_path"];
  if (rel !== undefined) {
    const found = attempt(path.resolve(dir, toLocalSeparators(rel)));
    if (found) return found;
  }
  for (const key of ["volume_path", "absolute_win32_path"] as const) {
    const value = locator[key];
    if (value === undefined) continue;
    if (process.platform === "win32") {
      const found = attempt(value);
      if (found) return found;
    }
    const found = attempt(path.join(dir, windowsBaseName(value)));
    if (found) return found;
  }
  throw new VhdxFormatError(
    childPath,
    "parent locator",
    `parent not found (looked for ${tried.map((t) => `'${t}'`).join(", ") || "nothing: the locator has no usable path"}); supply it explicitly with --parent`,
    "VhdxParentNotFound",
  );
}

/** Turns `..\a\b.vhdx` into the local form (`../a/b.vhdx` on Linux). */
export function toLocalSeparators(p: string): string {
  return process.platform === "win32" ? p : p.replace(/\\/g, "/");
}

/** Last component of a Windows path (`\\?\C:\VMs\a.vhdx` -> `a.vhdx`). */
export function windowsBaseName(p: string): string {
  const parts = p.split(/[\\/]/).filter((x) => x !== "");
  return parts[parts.length - 1] ?? "";
}

/** `relative_path` value for a parent as seen from the child's folder: `.\p.vhdx`, `..\x\p.vhdx`. */
export function relativeLocatorPath(childPath: string, parentPath: string): string {
  let rel = path.relative(path.dirname(path.resolve(childPath)), path.resolve(parentPath));
  rel = rel.split(path.sep).join("\\");
  return rel.startsWith("..") ? rel : `.\\${rel}`;
}
