import * as fs from "node:fs";
import * as path from "node:path";
import { processAlive } from "../../base/mod";

/**
 * Files a lab process writes under a name of its own and renames or links into place: the lab
 * lock's owner file (`lab.lock.<pid>`, state_store.ts) and the temp files of atomic writes
 * (`.<name>.partial-<pid>`: lab.json, job files). A process killed between writing one and
 * renaming or removing it leaves it behind; nothing reads it, but nothing removed it either.
 */
const OWN_FILE = /^(?:lab\.lock\.(\d+)|\..+\.partial-(\d+))$/;

/**
 * Removes, from `dir`, such files of processes that are no longer running on this host. Called
 * with the lab lock held, so no live lab process is between writing and renaming one of a dead
 * process's files (a file's PID is its writer's, and a live writer's file is kept).
 */
export function removeDeadProcessFiles(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = OWN_FILE.exec(name);
    if (!m) continue;
    const pid = Number(m[1] ?? m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
  }
}
