/**
 * Shared disks when sets go (prune of a group, a set no longer whole): a later set whose shared
 * disk is a differencing VHDX over the going set's file is first made whole on its own. Its
 * chain is flattened into a new full VHDX beside it (a new name: the recorded file stays valid
 * until the record changes), its set record is rewritten to name it, and only then is the old
 * differencing file removed. A crash leaves at worst an unreferenced file, never a broken chain.
 * A still later set's differencing file keeps a parent locator naming the removed file: chains
 * are read by their set records (shared_disk_restore.ts flattenChain), never by locators.
 */
import { renameSync, rmSync, statSync } from "node:fs";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { type Repository, type SetRecord, listSetRecords, sharedDiskDir, writeSetRecord } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { VerifyProblem } from "../verify";
import { flattenChain, sharedDiskChain } from "./shared_disk_restore";
import { sha256Of } from "./shared_disks";

/** Makes every set whose shared disk builds on `parent`'s a full copy (see the file comment). */
export function rebaseSharedChildren(repo: Repository, parent: SetRecord, events: EngineEvents): void {
  if (!parent.sharedDisks?.length) return;
  for (const child of listSetRecords(repo.root)) {
    let changed = false;
    for (const d of child.sharedDisks ?? []) {
      if (d.parentSetId !== parent.id) continue;
      const chain = sharedDiskChain(repo, child, d);
      const stem = path.posix.basename(d.file, ".vhdx").replace(/-full\d*$/, "");
      let n = 0;
      let rel = `${sharedDiskDir(child.id)}/${stem}-full.vhdx`;
      while (existsSync(path.join(repo.root, rel))) rel = `${sharedDiskDir(child.id)}/${stem}-full${++n}.vhdx`;
      const target = path.join(repo.root, rel);
      flattenChain(chain, `${target}.partial`, d.virtualSize);
      renameSync(`${target}.partial`, target);
      const old = d.file;
      Object.assign(d, { file: rel, kind: "full", parentSetId: null, size: statSync(target).size, sha256: sha256Of(target) });
      writeSetRecord(repo.root, child);
      rmSync(path.join(repo.root, old), { force: true });
      changed = true;
    }
    if (changed) events.info(`The shared disks of backup set ${child.id} no longer build on set ${parent.id}: stored in full`);
  }
}

/** Removes a set's shared disk folder (after its record is gone). */
export function removeSharedDiskFiles(repo: Repository, id: string): void {
  rmSync(path.join(repo.root, sharedDiskDir(id)), { recursive: true, force: true });
}

/** Verify: every shared disk of a committed set has its whole chain, each file as recorded. */
export function sharedDiskProblems(repo: Repository, set: SetRecord): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  for (const d of set.sharedDisks ?? []) {
    try {
      sharedDiskChain(repo, set, d);
    } catch (e) {
      problems.push({ vmName: `group ${set.groupName}`, pointId: set.id, disk: null, message: `shared disk '${d.sourcePath}': ${(e as Error).message}` });
    }
  }
  return problems;
}
