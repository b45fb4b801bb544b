/**
 * Paths VMMS opens (issue 13 A9): a repository or restore destination on a drive letter the
 * user mapped becomes the share's path (VMMS, LocalSystem in session 0, has no such letter), or
 * is refused when the host does not name the share; a repository on a share warns that the
 * host's computer account needs rights there. The lab declares mappings with `lab drive map`
 * (Win32_LogicalDisk DriveType 4) and stands for the share with a folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { diskHash, events, guestViewAsync, hvbAsync, labVmsAsync, newWorldAsync, okAsync } from "../../support/engine_harness";

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe("a repository on a mapped drive", () => {
  it("is used through its share, with a warning about the host's computer account; restore too", async () => {
    const w = await newWorldAsync("mapped", ["--job-ms", "0"]);
    cleanups.push(w.cleanup);
    const cwd = mkdtempSync(path.join(tmpdir(), "hvb-cwd-"));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const share = path.join(w.dir, "nas-share");
    mkdirSync(share);
    await okAsync(["lab", "drive", "map", "--lab", w.lab, "--letter", "Z:", "--to", share]);
    const disks = JSON.parse((await okAsync(["lab", "cim", "query", "--lab", w.lab, "--namespace", "root\\cimv2", "SELECT * FROM Win32_LogicalDisk WHERE DriveType=4"])).stdout) as Array<Record<string, unknown>>;
    expect(disks.map((d) => [d["DeviceID"], d["ProviderName"]])).toEqual([["Z:", share]]);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "m", "--disk", "8MiB"]);
    const view = await guestViewAsync(w.lab, "m");

    const b = await okAsync(["backup", "--vm", "m", "--repo", "Z:\\backups\\hv", "--lab", w.lab, "--json"], { cwd });
    const ev = events(b.stdout);
    expect(ev.some((e) => e.type === "info" && /mapped network drive .* using its UNC path/.test(e.message ?? ""))).toBe(true);
    const onShare = ev.find((e) => e.code === "RepositoryOnShare");
    expect(onShare?.message).toMatch(/LAB\\LABHOST\$ modify rights/);
    expect(existsSync(path.join(share, "backups", "hv"))).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);

    await okAsync(["restore", "--repo", "Z:\\backups\\hv", "--vm", "m", "--new-id", "--name", "m2", "--dest", "Z:\\restored\\m2", "--lab", w.lab], { cwd });
    const m2 = (await labVmsAsync(w.lab)).find((v) => v.name === "m2")!;
    expect(m2.disks.every((d) => d.path.startsWith(path.join(share, "restored", "m2")))).toBe(true);
    expect(m2.disks.map((d) => diskHash(d.path))).toEqual(view);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("is refused with a message when the host does not name the share", async () => {
    const w = await newWorldAsync("mapped-unknown", ["--job-ms", "0"]);
    cleanups.push(w.cleanup);
    const cwd = mkdtempSync(path.join(tmpdir(), "hvb-cwd-"));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    await okAsync(["lab", "drive", "map", "--lab", w.lab, "--letter", "y", "--unknown-share"]);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "m", "--disk", "8MiB"]);
    const r = await hvbAsync(["backup", "--vm", "m", "--repo", "Y:\\hv", "--lab", w.lab, "--json"], { cwd });
    expect(r.code).not.toBe(0);
    const err = events(r.stdout).find((e) => e.type === "error") as { code?: string; message?: string };
    expect(err.code).toBe("PathOnMappedDrive");
    expect(err.message).toMatch(/Y:, a network drive mapped in this logon session only.*UNC path/);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
