import * as nodePath from "node:path";

/**
 * Windows paths as Hyper-V stores them in disk files (VHD parent locators and Parent Unicode
 * Name, VHDX parent locator entries), taken apart without touching the file system so either
 * format can map them onto the local host. Pure functions: no I/O, no platform checks.
 *
 * @module
 */

/** Win32 file namespace prefix for a UNC path: `\\?\UNC\server\share\x`. */
const LONG_UNC_PREFIX = "\\\\?\\UNC\\";
/** Win32 file namespace prefix: `\\?\C:\x`, `\\?\Volume{…}\x`. */
const LONG_PREFIX = "\\\\?\\";

/**
 * Removes the `\\?\` file namespace prefix, turning `\\?\UNC\server\share\x` into the plain UNC
 * path `\\server\share\x` and `\\?\C:\x` into `C:\x`. Leading and trailing blanks go too.
 *
 * @example stripLongPathPrefix("\\\\?\\UNC\\srv\\share\\x.vhdx") // "\\\\srv\\share\\x.vhdx"
 */
export function stripLongPathPrefix(text: string): string {
  const p = text.trim();
  if (p.toUpperCase().startsWith(LONG_UNC_PREFIX)) return "\\\\" + p.slice(LONG_UNC_PREFIX.length);
  if (p.startsWith(LONG_PREFIX)) return p.slice(LONG_PREFIX.length);
  return p;
}

/**
 * The non-empty components of a Windows path, split on `\` and `/`, after
 * {@link stripLongPathPrefix}.
 *
 * @example windowsPathParts("\\\\?\\C:\\VMs\\a.vhdx") // ["C:", "VMs", "a.vhdx"]
 */
export function windowsPathParts(text: string): string[] {
  return stripLongPathPrefix(text).split(/[\\/]+/).filter((s) => s !== "");
}

/**
 * The last component of a Windows path, "" when there is none.
 *
 * @example windowsBaseName("\\\\?\\UNC\\srv\\share\\a.vhdx") // "a.vhdx"
 */
export function windowsBaseName(text: string): string {
  const parts = windowsPathParts(text);
  return parts[parts.length - 1] ?? "";
}

/** Whether a Windows path starts with a drive letter (`C:\x`, `\\?\C:\x`). */
export function isDrivePath(text: string): boolean {
  return /^[A-Za-z]:/.test(stripLongPathPrefix(text));
}

/** Whether a Windows path is a UNC path (`\\server\share\x`, `\\?\UNC\server\share\x`). */
export function isUncPath(text: string): boolean {
  return stripLongPathPrefix(text).startsWith("\\\\");
}

/**
 * Whether a Windows path is rooted (names a place without a base folder): a drive path, a UNC
 * path, or one that starts with `\` or `/`. `.\x` and `..\d\x` are not.
 */
export function isRootedWindowsPath(text: string): boolean {
  const p = stripLongPathPrefix(text);
  return isDrivePath(p) || p.startsWith("\\") || p.startsWith("/");
}

/**
 * The relative Windows path of local file `targetPath` as seen from the folder of local file
 * `fromPath`, in the form Hyper-V writes: `.\base.vhdx`, `..\d\base.vhdx`.
 *
 * @example relativeWindowsPath("/vms/a/child.avhdx", "/vms/a/base.vhdx") // ".\\base.vhdx"
 */
export function relativeWindowsPath(fromPath: string, targetPath: string): string {
  const rel = nodePath.relative(nodePath.dirname(nodePath.resolve(fromPath)), nodePath.resolve(targetPath));
  const win = rel.split(nodePath.sep).join("\\");
  return win.startsWith("..") ? win : `.\\${win}`;
}
