/**
 * Restore as ImportSystemDefinition documents it (issue 13 A8): the checkpoints an imported
 * configuration still references are deleted from the planned VM before ValidatePlannedSystem
 * (the lab fails validation while one is referenced and its files are missing), and without
 * --dest the restore goes into the host's folders for new VMs
 * (Msvm_VirtualSystemManagementServiceSettingData), never the current folder.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backupAsync, cimQuery, diskHash, events, guestViewAsync, guestWriteAsync, labVmsAsync, newWorldAsync, okAsync } from "../../support/engine_harness";

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

const snapshotsOf = async (lab: string, vmId: string): Promise<string[]> =>
  (await cimQuery(lab, `SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemIdentifier='${vmId}'`))
    .filter((v) => String(v["VirtualSystemType"]).includes("Snapshot"))
    .map((v) => String(v["ElementName"]))
    .sort();

describe("restore of a VM with standard checkpoints", () => {
  it("removes the checkpoints the imported configuration references, then validates; the original keeps its own", async () => {
    const w = await newWorldAsync("restore-cp", ["--job-ms", "0"]);
    cleanups.push(w.cleanup);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "cp", "--disk", "8MiB", "--disk", "8MiB", "--checkpoint", "base", "--checkpoint", "patched"]);
    await guestWriteAsync(w.lab, "cp", 1, 4096, 8192, 5);
    const view = await guestViewAsync(w.lab, "cp");
    const p = await backupAsync(w, "cp");
    const original = (await labVmsAsync(w.lab)).find((v) => v.name === "cp")!;

    const r = await okAsync(["restore", "--repo", w.repo, "--vm", "cp", "--point", p.id, "--new-id", "--name", "cp-copy", "--dest", path.join(w.dir, "copy"), "--lab", w.lab, "--json"]);
    const removed = events(r.stdout).filter((e) => e.code === "CheckpointReferencesRemoved");
    expect(removed).toHaveLength(1);
    expect(removed[0]!.message).toMatch(/'patched', 'base'/);
    const copy = (await labVmsAsync(w.lab)).find((v) => v.name === "cp-copy")!;
    expect(copy.disks.map((d) => diskHash(d.path))).toEqual(view);
    expect(await snapshotsOf(w.lab, copy.id)).toEqual([]);
    expect(await snapshotsOf(w.lab, original.id)).toEqual(["base", "patched"]);
  });

  it("restores into the host's default folders without --dest, whatever the current folder", async () => {
    const w = await newWorldAsync("restore-default", ["--job-ms", "0"]);
    cleanups.push(w.cleanup);
    const cwd = mkdtempSync(path.join(tmpdir(), "hvb-cwd-"));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "dflt", "--disk", "8MiB"]);
    const view = await guestViewAsync(w.lab, "dflt");
    await backupAsync(w, "dflt");
    const [settings] = await cimQuery(w.lab, "SELECT * FROM Msvm_VirtualSystemManagementServiceSettingData");
    const root = String(settings!["DefaultExternalDataRoot"]);
    const vhds = String(settings!["DefaultVirtualHardDiskPath"]);
    const r = await okAsync(["restore", "--repo", w.repo, "--vm", "dflt", "--new-id", "--name", "dflt-2", "--lab", w.lab, "--json"], { cwd });
    const result = events(r.stdout).find((e) => e.type === "result")!.data as { destination: string; disks: Array<{ path: string }> };
    expect(result.destination).toBe(path.join(root, "dflt-2"));
    expect(result.disks.every((d) => path.dirname(d.path) === path.join(vhds, "dflt-2"))).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
    const restored = (await labVmsAsync(w.lab)).find((v) => v.name === "dflt-2")!;
    expect(restored.disks.map((d) => diskHash(d.path))).toEqual(view);
    expect(existsSync(path.join(root, "dflt-2", "Virtual Machines"))).toBe(true);
  });
});
