/**
 * A representative backup and restore on each Windows Server release the lab poses as: the
 * client reads each host's class schemas and sends nothing the host's classes lack (Server 2016
 * has no GuestBackupType, DisableDifferentialOfIgnoredStorage, ExcludedVirtualHardDisks), and
 * keeps only configuration out of the host's export. The whole suite runs on one release with
 * HVB_HOST_VERSION=2016|2019|2022|2025.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backupVm, restoreVm, type EngineEvents } from "../../../src/engine/mod";
import { HyperVClient } from "../../../src/hyperv/mod";
import { guestWriteInLab, HOST_VERSIONS, readLabState, type HostVersion } from "../../../src/lab/mod";
import { Repository } from "../../../src/repository/mod";
import { diskHash } from "../../support/engine_harness";
import { addVm, MiB, newLab } from "../../support/lab";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe.each(HOST_VERSIONS.map((v) => [v]))("Windows Server %s", (version: HostVersion) => {
  it("backs up (full, then RCT incremental) and restores bit-exact, keeping only configuration from the export", async () => {
    const lab = newLab({ hostVersion: version });
    dirs.push(lab.dir);
    addVm(lab, { name: "v", diskSizes: [8 * MiB, 4 * MiB] });
    const vm = readLabState(lab.dir).vms[0]!;
    expect(vm.configVersion).toBe(version === "2016" ? "8.0" : "9.0");
    const root = mkdtempSync(path.join(tmpdir(), `hvb-hostver-${version}-`));
    dirs.push(root);
    const infos: string[] = [];
    const events: EngineEvents = { progress: () => {}, warning: () => {}, info: (m) => infos.push(m) };
    const host = new HyperVClient(lab.session, { pollMs: 1 });
    const repo = new Repository(path.join(root, "repo"));

    guestWriteInLab(lab.dir, "v", 0, 0, 64 * 1024, "a");
    const full = await backupVm(host, repo, "v", {}, events);
    expect(full.point).toMatchObject({ kind: "full", consistency: "application" });
    expect(full.warnings).toEqual([]);
    guestWriteInLab(lab.dir, "v", 1, 1 * MiB, 4096, "b");
    const incr = await backupVm(host, repo, "v", {}, events);
    expect(incr.point.kind).toBe("incremental");
    expect(incr.point.disks.map((d) => d.method)).toEqual(["rct", "rct"]);

    // The host's export leaves differencing disks of production where it cannot be told not to
    // (before 1709): they were removed, never kept in a point.
    const stored = filesUnder(path.join(root, "repo"));
    const named = [full, incr].flatMap((r) => r.point.disks.map((d) => `${r.point.id}/${d.file}`)).sort();
    const diskFiles = stored.filter((f) => /\.a?vhdx?$/i.test(f)).map((f) => path.relative(path.dirname(path.dirname(path.dirname(f))), f).split(path.sep).join("/")).sort();
    expect(diskFiles).toEqual(named);
    expect(infos.some((m) => /not configuration/.test(m))).toBe(version === "2016");

    const dest = path.join(root, "restored");
    const restored = await restoreVm(host, repo, "v", { newId: true, name: "v-restored", destination: dest }, events);
    const live = readLabState(lab.dir).vms.find((x) => x.name === "v")!;
    expect(restored.disks.map((d) => diskHash(d.path))).toEqual(live.disks.map((d) => diskHash(d.path)));
  });
});
