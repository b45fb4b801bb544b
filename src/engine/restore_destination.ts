import * as path from "node:path";

/**
 * The folder name a restore uses by default for a VM named `vmName` (pure). The name comes from
 * the repository's catalog, which is input like any file: an absolute path, `..` or a path
 * separator in it must never send the restore outside the folder it is made in, so every
 * character Windows forbids in a file name (and `/`, `\`) becomes `_`, and a name of only dots
 * or blanks becomes `_`.
 *
 * @example
 * defaultDestinationName("web01")        // "web01"
 * defaultDestinationName("../../etc")    // ".._.._etc"
 * defaultDestinationName("C:\\Windows")  // "C__Windows"
 * defaultDestinationName("..")           // "_"
 */
export function defaultDestinationName(vmName: string): string {
  const safe = vmName.replace(/[<>:"/\\|?*\x00-\x1f]/g, "_").trim().slice(0, 100);
  return /^[.\s]*$/.test(safe) ? "_" : safe;
}

/** The default destination of a restore: `<base>/<safe VM name>`, always inside `base`. */
export function defaultDestination(base: string, vmName: string): string {
  const dest = path.resolve(base, defaultDestinationName(vmName));
  const rel = path.relative(path.resolve(base), dest);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return path.resolve(base, "_");
  return dest;
}
