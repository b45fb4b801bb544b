/**
 * The Hyper-V client against the lab host: the lab is made through the CLI
 * (`hvbackup lab init|vm new|write|fail|guest`), the client talks to it in-process through
 * the lab's CimSession. Nothing here knows the lab's internals.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CimSession } from "../../../src/cim/mod";
import { exportedDefinitionFile } from "../../../src/hyperv/mod";
import { HyperVClient } from "../../../src/hyperv/mod";
import { HyperVMethodError } from "../../../src/hyperv/mod";
import { isRctFallbackError } from "../../../src/hyperv/mod";
import { rctIdAt } from "../../../src/hyperv/mod";

const CLI = join(process.cwd(), "module/bin/hvbackup.cjs");
const MiB = 1 << 20;

type LabModule = { LabCimSession: new (dir: string) => CimSession };
const labModule = (await import("../../../src/lab/mod").catch(() => undefined)) as LabModule | undefined;
const labReady = labModule !== undefined && typeof labModule.LabCimSession === "function";

/** Wraps a session to count method calls by name (the client must loop on ProcessedByteLength). */
function counting(inner: CimSession, counts: Map<string, number>): CimSession {
  return {
    query: (w) => inner.query(w),
    getInstance: (p) => inner.getInstance(p),
    associators: (p, o) => inner.associators(p, o),
    getClass: (c) => inner.getClass(c),
    invokeMethod: (p, m, a) => {
      counts.set(m, (counts.get(m) ?? 0) + 1);
      return inner.invokeMethod(p, m, a);
    },
  };
}

function lab(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, "lab", ...args], { encoding: "utf8" });
}

describe.skipIf(!labReady)("HyperVClient on the lab host", () => {
  let root: string;
  let dir: string;
  let hv: HyperVClient;
  let lsDisks: string[];
  let vmId: string;
  const progress: [number, string][] = [];
  const calls = new Map<string, number>();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "hvb-hyperv-"));
    dir = join(root, "lab");
    lab("init", dir, "--job-ms", "20", "--host-version", "2022");
    const created = JSON.parse(lab("vm", "new", "--lab", dir, "--name", "web01", "--disk", "64MiB", "--disk", "32MiB")) as { id: string; disks: { path: string }[] };
    vmId = created.id;
    lab("vm", "new", "--lab", dir, "--name", "old01", "--disk", "16MiB", "--config-version", "5.0", "--generation", "1", "--no-scsi", "--guest", "none");
    lab("vm", "new", "--lab", dir, "--name", "vhd01", "--disk", "16MiB", "--vhd");
    const ls = JSON.parse(lab("ls", "--lab", dir, "--json")) as { vms: { name: string; disks: { path: string }[] }[] };
    lsDisks = ls.vms.find((v) => v.name === "web01")!.disks.map((d) => d.path);
    hv = new HyperVClient(counting(new labModule!.LabCimSession(dir), calls), { pollMs: 5, onJobProgress: (p, d) => progress.push([p, d]) });
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("finds a VM by name and by id and describes it as `lab ls` does", async () => {
    const byName = await hv.findVm("web01");
    const byId = await hv.findVm(vmId.toLowerCase());
    expect(byId.path).toBe(byName.path);
    expect(byName).toMatchObject({ id: vmId, name: "web01", state: "Running", configVersion: "9.0", generation: 2, hasScsiController: true, backupIntegration: "ok", userCheckpointCount: 0, recoveryCheckpointCount: 0 });
    expect(byName.disks.map((d) => d.hostResource)).toEqual(lsDisks);
    expect(byName.disks.map((d) => [d.index, d.controller, d.format])).toEqual([
      [0, "SCSI", "vhdx"],
      [1, "SCSI", "vhdx"],
    ]);
    await expect(hv.findVm("nope")).rejects.toMatchObject({ code: "VmNotFound" });
  });

  it("describes an old generation 1 VM without SCSI controller or integration services", async () => {
    const vm = await hv.findVm("old01");
    expect(vm).toMatchObject({ configVersion: "5.0", generation: 1, hasScsiController: false, backupIntegration: "missing" });
    expect(vm.disks.map((d) => d.controller)).toEqual(["IDE"]);
  });

  it("creates a recovery checkpoint: the checkpoint keeps the frozen file, the VM moves to a new .avhdx; destroy merges back", async () => {
    const vm = await hv.findVm("web01");
    progress.length = 0;
    const cp = await hv.createRecoveryCheckpoint(vm, "application");
    expect(progress.at(-1)).toEqual([100, expect.stringMatching(/checkpoint/i)]);
    expect(cp.systemType).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
    expect(cp.disks.map((d) => d.path)).toEqual(lsDisks);
    const during = await hv.refreshVm(vm);
    expect(during.recoveryCheckpointCount).toBe(1);
    for (const [i, d] of during.disks.entries()) {
      expect(d.hostResource).toMatch(/\.avhdx$/);
      expect(d.hostResource).not.toBe(lsDisks[i]);
      expect(existsSync(d.hostResource)).toBe(true);
      expect((await hv.getVhdSettings(d.hostResource)).parentPath).toBe(lsDisks[i]);
    }
    expect((await hv.listCheckpoints(vm, "recovery")).map((c) => c.path)).toEqual([cp.path]);
    await hv.destroyCheckpoint(cp);
    const after = await hv.refreshVm(vm);
    expect(after.disks.map((d) => d.hostResource)).toEqual(lsDisks);
    expect(after.recoveryCheckpointCount).toBe(0);
    for (const d of during.disks) expect(existsSync(d.hostResource)).toBe(false);
  });

  it("converts a recovery checkpoint into a reference point with one RCT id per disk", async () => {
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    const rp = await hv.convertToReferencePoint(cp);
    expect(rp.referencePointType).toBe(2);
    expect(rp.vmId.toLowerCase()).toBe(vmId.toLowerCase());
    expect(rp.rctIds).toHaveLength(2);
    for (const id of rp.rctIds) expect(id).not.toBe("");
    // Index-aligned with each other, in no documented order: compared as sets.
    expect([...rp.virtualDiskIds].sort()).toEqual(vm.disks.map((d) => d.instanceId).sort());
    for (const d of vm.disks) expect(rctIdAt(rp, d.location)).toBe(rp.rctIds[rp.virtualDiskIds.indexOf(d.instanceId)]);
    expect((await hv.listReferencePoints(vm)).map((r) => r.instanceId)).toContain(rp.instanceId);
    const after = await hv.refreshVm(vm);
    expect(after.recoveryCheckpointCount).toBe(0);
    expect(after.disks.map((d) => d.hostResource)).toEqual(lsDisks);
    await hv.destroyReferencePoint(rp);
    expect(await hv.findReferencePoint(rp.instanceId)).toBeUndefined();
  });

  it("answers changed ranges after a guest write with a superset of the write, looping over ProcessedByteLength", async () => {
    const vm = await hv.findVm("web01");
    const rp = await hv.convertToReferencePoint(await hv.createRecoveryCheckpoint(vm, "crash"));
    const offset = 40 * MiB + 12345;
    const length = 300000;
    lab("write", "--lab", dir, "--vm", "web01", "--disk", "0", "--offset", String(offset), "--length", String(length), "--seed", "7");
    lab("write", "--lab", dir, "--vm", "web01", "--disk", "0", "--offset", "4096", "--length", "4096", "--seed", "8");
    const cp = await hv.createRecoveryCheckpoint(await hv.refreshVm(vm), "crash");
    calls.clear();
    const changed = await hv.getChangedRanges(cp.disks[0]!.path, rctIdAt(rp, cp.disks[0]!.location)!);
    // The lab processes at most a few MiB per call: a 64 MiB disk needs several.
    expect(calls.get("GetVirtualDiskChanges") ?? 0).toBeGreaterThan(1);
    const covers = (o: number, l: number) => changed.some((r) => r.offset <= o && r.offset + r.length >= o + l);
    expect(covers(offset, length)).toBe(true);
    expect(covers(4096, 4096)).toBe(true);
    const total = changed.reduce((s, r) => s + r.length, 0);
    expect(total).toBeLessThan(64 * MiB);
    expect(await hv.getChangedRanges(cp.disks[1]!.path, rctIdAt(rp, cp.disks[1]!.location)!)).toEqual([]);
    // A region query only reports what lies inside it.
    expect(await hv.getChangedRanges(cp.disks[0]!.path, rctIdAt(rp, cp.disks[0]!.location)!, { offset: 0, length: MiB })).toEqual([{ offset: 4096, length: 4096 }]);
    const next = await hv.convertToReferencePoint(cp);
    await hv.destroyReferencePoint(rp);
    // The destroyed reference point's id is no longer usable: the engine falls back to a full backup.
    const cp2 = await hv.createRecoveryCheckpoint(await hv.refreshVm(vm), "crash");
    const e = await hv.getChangedRanges(cp2.disks[0]!.path, rctIdAt(rp, cp.disks[0]!.location)!).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HyperVMethodError);
    expect(isRctFallbackError(e)).toBe(true);
    expect((e as HyperVMethodError).code).toBe("RctIdInvalid");
    expect(await hv.getChangedRanges(cp2.disks[0]!.path, rctIdAt(next, cp2.disks[0]!.location)!)).toEqual([]);
    await hv.destroyCheckpoint(cp2);
    await hv.destroyReferencePoint(next);
  });

  it("reports RCT as not supported on a VHD disk", async () => {
    const vm = await hv.findVm("vhd01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    try {
      const e = await hv.getChangedRanges(cp.disks[0]!.path, "rctX:whatever:1").catch((x: unknown) => x);
      expect(isRctFallbackError(e)).toBe(true);
    } finally {
      await hv.destroyCheckpoint(cp);
    }
  });

  it("turns an injected CreateSnapshot failure into a HyperVMethodError with the right fields", async () => {
    const vm = await hv.findVm("web01");
    lab("fail", "--lab", dir, "--method", "CreateSnapshot", "--code", "32775");
    const e = (await hv.createRecoveryCheckpoint(vm, "application").catch((x: unknown) => x)) as HyperVMethodError;
    expect(e).toBeInstanceOf(HyperVMethodError);
    expect(e).toMatchObject({ code: "HyperVMethodFailed", method: "CreateSnapshot", returnValue: 32775, errorCode: 32775, meaning: "Invalid state for this operation", target: "web01" });
    expect(e.message).toBe("CreateSnapshot failed on VM 'web01': 32775 Invalid state for this operation");
    expect((await hv.refreshVm(vm)).recoveryCheckpointCount).toBe(0);
  });

  it("reports a job that fails part-way with the job's error code and description", async () => {
    const vm = await hv.findVm("web01");
    lab("fail", "--lab", dir, "--method", "CreateSnapshot", "--code", "32768", "--at-percent", "50");
    const e = (await hv.createRecoveryCheckpoint(vm, "crash").catch((x: unknown) => x)) as HyperVMethodError;
    expect(e).toMatchObject({ method: "CreateSnapshot", returnValue: 4096, jobErrorCode: 32768, errorCode: 32768, meaning: "Failed" });
    expect(e.jobState).not.toBe(7);
    expect(e.jobErrorDescription).toBeTruthy();
    expect(e.message).toMatch(/^CreateSnapshot failed on VM 'web01': 32768 Failed \(job: .+\)$/);
  });

  it("fails an application-consistent checkpoint when the guest's VSS fails, and a crash-consistent one still works", async () => {
    lab("guest", "--lab", dir, "--vm", "web01", "--integration", "failing");
    try {
      const vm = await hv.findVm("web01");
      const e = (await hv.createRecoveryCheckpoint(vm, "application").catch((x: unknown) => x)) as HyperVMethodError;
      expect(e).toBeInstanceOf(HyperVMethodError);
      expect(e.returnValue).toBe(4096);
      expect(e.jobErrorDescription).toBeTruthy();
      expect(e.message).toMatch(/^CreateSnapshot failed on VM 'web01': 32768 Failed \(job: .+\)$/);
      expect((await hv.refreshVm(vm)).recoveryCheckpointCount).toBe(0);
      const cp = await hv.createRecoveryCheckpoint(vm, "crash");
      await hv.destroyCheckpoint(cp);
    } finally {
      lab("guest", "--lab", dir, "--vm", "web01", "--integration", "ok");
    }
  });

  it("exports a checkpoint's configuration and restores it as a new VM with repointed disks", async () => {
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    const exportDir = join(root, "export");
    const folder = await hv.exportConfiguration(cp, exportDir);
    expect(folder).toBe(exportDir);
    const definition = exportedDefinitionFile(folder, vm.id);
    expect(existsSync(definition)).toBe(true);
    // Stand-ins for restored disks: copies of the frozen files.
    const restored = cp.disks.map((d, i) => {
      const to = join(root, `restored_${i}.vhdx`);
      copyFileSync(d.path, to);
      return to;
    });
    await hv.destroyCheckpoint(cp);

    const planned = await hv.importSystemDefinition(definition, { generateNewId: true });
    expect(planned.id.toLowerCase()).not.toBe(vm.id.toLowerCase());
    expect(planned.disks).toHaveLength(2);
    await hv.renameSystem(planned, "web01-restore");
    for (const [i, file] of restored.entries()) await hv.setDiskPath(planned, i, file);
    await hv.validatePlannedSystem(planned);
    const copy = await hv.realizePlannedSystem(planned);
    expect(copy).toMatchObject({ id: planned.id, name: "web01-restore", state: "Off" });
    expect(copy.disks.map((d) => d.hostResource)).toEqual(restored);
    await hv.destroySystem(copy);
    await expect(hv.findVm("web01-restore")).rejects.toMatchObject({ code: "VmNotFound" });
  });

  it("discards a planned VM that is not wanted", async () => {
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    const exportDir = join(root, "export2");
    await hv.exportConfiguration(cp, exportDir);
    await hv.destroyCheckpoint(cp);
    const planned = await hv.importSystemDefinition(exportedDefinitionFile(exportDir, vm.id), { generateNewId: true });
    await hv.destroyPlannedSystem(planned);
    await expect(hv.refreshPlanned(planned)).rejects.toMatchObject({ code: "CimNotFound" });
  });

  it("changes VM state and refuses a transition the VM cannot make", async () => {
    const vm = await hv.findVm("web01");
    await hv.requestStateChange(vm, "Saved");
    expect((await hv.refreshVm(vm)).state).toBe("Saved");
    await expect(hv.requestStateChange(vm, "Paused")).rejects.toThrow("RequestStateChange failed on VM 'web01': 32775 Invalid state for this operation");
    await hv.requestStateChange(vm, "Running");
    expect((await hv.refreshVm(vm)).state).toBe("Running");
  });
});

if (!labReady) {
  describe("HyperVClient on the lab host", () => {
    it.skip("needs src/lab (LabCimSession) and the lab CLI, which are not available in this checkout", () => {});
  });
}
