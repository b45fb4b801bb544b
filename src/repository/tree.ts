import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import * as path from "node:path";
import { fsyncDir } from "../base/mod";
import type { ManifestFile } from "./manifest";

/** fsyncs every file and folder below `dir` (after writing a point, before publishing it). */
export function syncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) syncTree(p);
    else if (entry.isFile()) {
      const fd = openSync(p, "r+");
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDir(dir);
}

/** Every file below `root/sub`, with size and SHA-256, paths relative to `root` with `/`. */
export function hashTree(root: string, sub: string): ManifestFile[] {
  const out: ManifestFile[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(r);
      else if (entry.isFile()) {
        const data = readFileSync(path.join(root, r));
        out.push({ file: r, size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
      }
    }
  };
  walk(sub);
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Bytes used by the files below `dir` (allocated blocks, so sparse files count what they use). */
export function treeSize(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) n += treeSize(p);
    else if (entry.isFile()) {
      const st = statSync(p);
      n += Math.min(st.size, st.blocks * 512);
    }
  }
  return n;
}
