import { lstatSync, realpathSync } from "node:fs";
import * as path from "node:path";

/**
 * Real paths (links resolved) for one check of a repository, each folder resolved once.
 *
 * Why: node's realpathSync walks a path one component at a time (an lstat each), and checking a
 * restore point resolved about a dozen paths (its folder, its disk, the disk's parent, its
 * manifest, its configuration files, and the repository root for each of them): a hundred
 * lstats per point, on every backup (the base chain is checked before an increment is built on
 * it), restore and verify, growing with the chain. A file that is not a link has the real path
 * of its folder joined with its name, so with folders resolved once a file costs the lstat its
 * caller makes anyway.
 *
 * Scoped to one check, never the process: a folder resolved here may be replaced later (by a
 * link, say), and the next check must see that.
 */
export class RealPaths {
  readonly #folders = new Map<string, string>();

  /** The real path of folder `dir`. */
  folder(dir: string): string {
    const key = path.resolve(dir);
    let real = this.#folders.get(key);
    if (real === undefined) {
      real = realpathSync(key);
      this.#folders.set(key, real);
    }
    return real;
  }

  /** The real path of `file`, which the caller has found (lstat) not to be a link. */
  fileNotLink(file: string): string {
    const abs = path.resolve(file);
    return path.join(this.folder(path.dirname(abs)), path.basename(abs));
  }

  /** The real path of any existing path (throws as realpathSync does when it does not exist). */
  of(p: string): string {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return realpathSync(p);
    return st.isDirectory() ? this.folder(p) : this.fileNotLink(p);
  }
}
