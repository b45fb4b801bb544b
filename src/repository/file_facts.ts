import { lstatSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../base/mod";
import { VhdxImage, resolveParentPath } from "../vhdx/mod";
import { RealPaths } from "./real_paths";

/**
 * What a repository file really is, read from the file system and the file itself rather than
 * taken from the catalog: the checker (checker.ts) compares these facts with what the catalog
 * and manifests claim, and destructive steps act only on them.
 */

/** The real path of `file` if it is a regular file (not a link) whose real path is inside `root`. */
export function realFileInside(file: string, root: string, what: string, paths: RealPaths = new RealPaths()): string {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    throw new HvbError("FileNotFound", `${what} '${file}' is missing`, { category: "ObjectNotFound", target: file });
  }
  if (st.isSymbolicLink()) throw new HvbError("RepositoryPathEscape", `${what} '${file}' is a symbolic link: repository files are never links (refused)`, { category: "InvalidData", target: file });
  if (!st.isFile()) throw new HvbError("NotARegularFile", `${what} '${file}' is not a regular file (refused)`, { category: "InvalidData", target: file });
  const real = paths.fileNotLink(file);
  if (!isInside(real, paths.folder(root))) throw new HvbError("RepositoryPathEscape", `${what} '${file}' resolves to '${real}', outside '${root}' (refused)`, { category: "InvalidData", target: file });
  return real;
}

/** The real path of folder `dir` if it is a folder (not a link) inside `root` after resolving links. */
export function realFolderInside(dir: string, root: string, what: string, paths: RealPaths = new RealPaths()): string {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    throw new HvbError("FileNotFound", `${what} '${dir}' is missing`, { category: "ObjectNotFound", target: dir });
  }
  if (st.isSymbolicLink() || !st.isDirectory()) throw new HvbError("RepositoryPathEscape", `${what} '${dir}' is ${st.isSymbolicLink() ? "a symbolic link" : "not a folder"} (refused)`, { category: "InvalidData", target: dir });
  const real = paths.folder(dir);
  if (!isInside(real, paths.folder(root))) throw new HvbError("RepositoryPathEscape", `${what} '${dir}' resolves to '${real}', outside '${root}' (refused)`, { category: "InvalidData", target: dir });
  return real;
}

/** True when `p` is `root` or below it (both already real paths). */
export function isInside(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** A disk file as the file says. */
export interface DiskFacts {
  /** The file's real path. */
  real: string;
  differencing: boolean;
  virtualSize: number;
  dataWriteGuid: string;
  /** For a differencing file: where its parent locator leads (real path) and the linkage GUIDs. */
  parent: { real: string; linkage: string[] } | undefined;
}

/**
 * Opens one disk file on its own (never its parent: that is the checker's comparison) and reads
 * what the chain depends on. The file must be a regular file inside `root` (see
 * {@link realFileInside}); a parent locator that leads nowhere gives `parent.real` = "" .
 */
export function readDiskFacts(file: string, root: string, what: string, paths: RealPaths = new RealPaths()): DiskFacts {
  const real = realFileInside(file, root, what, paths);
  const image = VhdxImage.open(file, { noParent: true });
  try {
    const differencing = image.type === "differencing";
    let parent: DiskFacts["parent"];
    if (differencing) {
      const loc = image.parentLocator ?? {};
      let parentReal = "";
      try {
        parentReal = paths.of(resolveParentPath(file, loc));
      } catch {
        // Left empty: the checker reports a parent that is not the catalog's.
      }
      const linkage = [loc["parent_linkage"], loc["parent_linkage2"]].filter((x): x is string => typeof x === "string").map((g) => g.replace(/[{}]/g, "").toLowerCase());
      parent = { real: parentReal, linkage };
    }
    return { real, differencing, virtualSize: image.virtualSize, dataWriteGuid: image.dataWriteGuid.replace(/[{}]/g, "").toLowerCase(), parent };
  } finally {
    image.close();
  }
}
