/**
 * Restoring a set's shared disks (docs/design/repository.md "Shared disks of a set"): each
 * stored file of the chain (the set's, its parent set's, ... down to the full) is checked
 * against the SHA-256 its set record gives before anything is read; the chain is flattened into
 * one new VHDX; and the host makes a new VHD Set over it (CreateVirtualHardDisk of the VHD Set
 * type with that VHDX as parent), which every restored member is attached to where it was.
 * The original .vhds is never touched: the cluster may still be writing to it.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { type Repository, type SetRecord, type SetSharedDisk, isSetId, readSetRecord, realFileInside, SETS_DIR } from "../../repository/mod";
import { VhdxImage, createVhdx } from "../../vhdx/mod";
import type { HostApi } from "../host_api";
import { sha256Of } from "./shared_disks";

/** The folder under a restore's destination that holds the restored shared disks. */
export const SHARED_DISKS_DIR = "Shared Disks";

/** What a restore of shared disks made: the new .vhds per (member, location), and the files to remove on failure. */
export interface RestoredSharedDisks {
  /** vmId (lower case) → location → new .vhds. */
  byMember: Map<string, Map<string, string>>;
  files: string[];
  /** The restored VHD Sets, for the result. */
  sets: { sourcePath: string; path: string; virtualSize: number }[];
}

/**
 * The files of a shared disk's chain, full first, each checked (size and SHA-256) against its
 * set record; a missing or changed one is refused with the file named.
 */
export function sharedDiskChain(repo: Repository, set: SetRecord, disk: SetSharedDisk): string[] {
  const files: string[] = [];
  let s: SetRecord = set;
  let d: SetSharedDisk = disk;
  for (let depth = 0; ; depth++) {
    const file = path.join(repo.root, d.file);
    const damaged = (why: string): never => {
      throw new HvbError("ChainBroken", `Shared disk '${d.sourcePath}' of backup set ${set.id} cannot be restored: '${file}' (of set ${s.id}) ${why} (run 'hvbackup verify --repo ${repo.root}')`, { category: "InvalidData", target: file });
    };
    if (!existsSync(file)) damaged("is missing");
    // A regular file inside the repository, not a link leading elsewhere (the checker's rule).
    try {
      realFileInside(file, repo.root, "Shared disk file");
    } catch (e) {
      damaged(`is refused: ${(e as Error).message}`);
    }
    if (statSync(file).size !== d.size || sha256Of(file) !== d.sha256) damaged("does not match its SHA-256");
    files.unshift(file);
    if (d.parentSetId === null) return files;
    if (depth > 10000 || !isSetId(d.parentSetId)) damaged("names a bad parent set");
    const parent = readSetRecord(path.join(repo.root, SETS_DIR, `${d.parentSetId}.json`));
    const pd = parent.sharedDisks?.find((x) => x.sourcePath === d.sourcePath);
    if (!pd) damaged(`names parent set ${d.parentSetId}, which holds no copy of it`);
    s = parent;
    d = pd!;
  }
}

/**
 * Restores the shared disks of `set` that the members `vmIds` attach into `<root>/Shared Disks/`:
 * a flattened VHDX and a new VHD Set over it, per shared disk.
 */
export async function restoreSharedDisks(host: HostApi, repo: Repository, set: SetRecord, vmIds: readonly string[], root: string): Promise<RestoredSharedDisks> {
  const wanted = new Set(vmIds.map((v) => v.toLowerCase()));
  const out: RestoredSharedDisks = { byMember: new Map(), files: [], sets: [] };
  const disks = (set.sharedDisks ?? []).filter((d) => d.attachments.some((a) => wanted.has(a.vmId.toLowerCase())));
  if (disks.length === 0) return out;
  const dir = path.join(root, SHARED_DISKS_DIR);
  try {
    for (const d of disks) {
      const chain = sharedDiskChain(repo, set, d);
      mkdirSync(dir, { recursive: true });
      // Named after the original (the stored file may have been renamed by a prune).
      let base = path.win32.basename(d.sourcePath).replace(/\.vhds$/i, "").replace(/[^A-Za-z0-9 ._-]/g, "_") || "shared";
      if (out.sets.some((x) => path.basename(x.path, ".vhds").toLowerCase() === base.toLowerCase())) base = `${base}-${out.sets.length}`;
      const data = path.join(dir, `${base}.vhdx`);
      const vhds = path.join(dir, `${base}.vhds`);
      if (existsSync(data) || existsSync(vhds)) throw new HvbError("DestinationNotEmpty", `Cannot restore the shared disk into '${dir}': '${base}' is already there (choose another --dest)`, { category: "ResourceUnavailable", target: dir });
      out.files.push(data);
      flattenChain(chain, data, d.virtualSize);
      out.files.push(vhds);
      await host.createVhdSetOver(vhds, data);
      // The files the host made for the new set (its root beside the .vhds): removed with it on a failure.
      for (const f of (await host.getVhdSetInformation(vhds, true)).allPaths) if (!out.files.includes(f)) out.files.push(f);
      out.sets.push({ sourcePath: d.sourcePath, path: vhds, virtualSize: d.virtualSize });
      for (const a of d.attachments) {
        const key = a.vmId.toLowerCase();
        if (!wanted.has(key)) continue;
        if (!out.byMember.has(key)) out.byMember.set(key, new Map());
        out.byMember.get(key)!.set(a.location, vhds);
      }
    }
    return out;
  } catch (e) {
    removeRestoredSharedDisks(out);
    throw e;
  }
}

/** Removes the files a shared disk restore made (after a failure before any member was restored). */
export function removeRestoredSharedDisks(r: RestoredSharedDisks): void {
  for (const f of r.files) rmSync(f, { force: true });
  // And their folder, when that leaves it empty (a deleted .vhds is a deleted VHD Set).
  for (const d of new Set(r.files.map((f) => path.dirname(f)))) {
    try {
      if (path.basename(d) === SHARED_DISKS_DIR && readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // Already gone.
    }
  }
}

/**
 * What the guest sees through `chain` (full first) into a new dynamic VHDX `target`, reading
 * each file on its own (the chain is the set records', checked above, not what the files' parent
 * locators say: a prune may have made a parent whole under a new name). Per file, in order: its
 * data overwrites, its zero blocks clear, what it leaves to its parent stays.
 */
export function flattenChain(chain: readonly string[], target: string, virtualSize: number): void {
  const dst = createVhdx(target, { virtualSize });
  try {
    const buf = Buffer.alloc(4 * 1024 * 1024);
    chain.forEach((file, depth) => {
      const src = VhdxImage.open(file, { noParent: true });
      try {
        if (src.virtualSize !== virtualSize) throw new HvbError("ChainBroken", `'${file}' has ${src.virtualSize} bytes, its set record says ${virtualSize}`, { category: "InvalidData", target: file });
        for (const e of src.extents()) {
          if (e.kind === "parent" || (e.kind === "zero" && depth === 0)) continue;
          for (let p = e.offset; p < e.offset + e.length; p += buf.length) {
            const part = buf.subarray(0, Math.min(buf.length, e.offset + e.length - p));
            if (e.kind === "data") src.read(part, p);
            else part.fill(0);
            dst.write(part, p);
          }
        }
      } finally {
        src.close();
      }
    });
    dst.flush();
  } finally {
    dst.close();
  }
}
