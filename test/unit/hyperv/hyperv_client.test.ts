import { describe, expect, it, vi } from "vitest";
import { HvbError } from "../../../src/base/mod";
import { HyperVClient } from "../../../src/hyperv/hyperv_client";
import { jobPollDelay } from "../../../src/hyperv/jobs";
import { HyperVMethodError } from "../../../src/hyperv/method_errors";
import { parseInstanceXml, toCimDtd20 } from "../../../src/cim/mod";
import { DB01_ID, WEB01_ID, standardFakeHost } from "./_fake_host";

function setup(options: { jobStallMs?: number } = {}) {
  const host = standardFakeHost();
  const progress: [number, string][] = [];
  const hv = new HyperVClient(host.session, { pollMs: 1, onJobProgress: (p, d) => progress.push([p, d]), ...options });
  return { host, hv, progress };
}

describe("HyperVClient: finding VMs", () => {
  it("lists the VMs and leaves out the host", async () => {
    const { hv } = setup();
    const vms = await hv.listVms();
    expect(vms.map((v) => v.name).sort()).toEqual(["db01", "dup", "dup", "web01"]);
  });

  it("finds a VM by name, without regard to case", async () => {
    const { hv } = setup();
    const vm = await hv.findVm("WEB01");
    expect(vm.id).toBe(WEB01_ID);
    expect(vm.name).toBe("web01");
  });

  it("finds a VM by GUID, with or without braces and in lower case", async () => {
    const { hv } = setup();
    expect((await hv.findVm(WEB01_ID)).name).toBe("web01");
    expect((await hv.findVm(`{${WEB01_ID.toLowerCase()}}`)).name).toBe("web01");
  });

  it("raises VmNotFound and VmAmbiguous", async () => {
    const { hv } = setup();
    const missing = await hv.findVm("nope").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(HvbError);
    expect((missing as HvbError).code).toBe("VmNotFound");
    expect((missing as HvbError).message).toBe("Cannot find a VM named or with id 'nope' on the host");
    const dup = await hv.findVm("dup").catch((e: unknown) => e);
    expect((dup as HvbError).code).toBe("VmAmbiguous");
    expect((dup as HvbError).message).toMatch(/^Cannot choose a VM: 2 VMs are named 'dup' \(ids .+\); give the VM id instead$/);
  });

  it("describes state, version, generation, settings and disks in controller/address order", async () => {
    const { hv } = setup();
    const vm = await hv.findVm("web01");
    expect(vm).toMatchObject({ state: "Running", enabledState: 2, configVersion: "9.0", generation: 2, hasScsiController: true, backupIntegration: "ok", userCheckpointCount: 0, recoveryCheckpointCount: 0 });
    expect(vm.settingsPath).toMatch(/Msvm_VirtualSystemSettingData\.InstanceID="Microsoft:6A1C2E3F/);
    expect(vm.disks.map((d) => [d.index, d.controller, d.address, d.hostResource, d.format])).toEqual([
      [0, "SCSI", 0, "/vms/web01/os.vhdx", "vhdx"],
      [1, "SCSI", 1, "/vms/web01/data.vhdx", "vhdx"],
    ]);
    expect(vm.disks[0]!.sasdPath).toMatch(/^\\\\FAKEHOST\\root\\virtualization\\v2:Msvm_StorageAllocationSettingData\./);
  });

  it("describes a generation 1 VM with IDE disks only, VHD files and no VSS component", async () => {
    const { hv } = setup();
    const vm = await hv.findVm(DB01_ID);
    expect(vm).toMatchObject({ state: "Off", configVersion: "5.0", generation: 1, hasScsiController: false, backupIntegration: "missing" });
    expect(vm.disks.map((d) => [d.controller, d.controllerNumber, d.hostResource, d.format])).toEqual([
      ["IDE", 0, "/vms/db01/boot.vhd", "vhd"],
      ["IDE", 1, "/vms/db01/logs.vhd", "vhd"],
    ]);
  });

  it("maps the VSS component's OperationalStatus to ok, missing (No Contact) and degraded", async () => {
    const { hv } = setup();
    const [a, b] = (await hv.listVms()).filter((v) => v.name === "dup");
    expect([a!.backupIntegration, b!.backupIntegration].sort()).toEqual(["degraded", "missing"]);
  });
});

describe("HyperVClient: recovery checkpoints", () => {
  it("creates a recovery checkpoint with SnapshotType 32768 and the embedded settings, and waits for its job", async () => {
    const { host, hv, progress } = setup();
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "application");
    const call = host.session.calls.find((c) => c.method === "CreateSnapshot")!;
    expect(call.path).toBe(host.services.snapshot);
    expect(call.args).toEqual({ AffectedSystem: vm.path, SnapshotType: 32768, SnapshotSettings: expect.any(String) });
    // Embedded as WMI carries it: CIM-DTD 2.0 text typed by the host's schema.
    expect(call.args["SnapshotSettings"]).toBe(
      '<INSTANCE CLASSNAME="Msvm_VirtualSystemSnapshotSettingData"><PROPERTY NAME="ConsistencyLevel" TYPE="uint8"><VALUE>1</VALUE></PROPERTY><PROPERTY NAME="IgnoreNonSnapshottableDisks" TYPE="boolean"><VALUE>TRUE</VALUE></PROPERTY></INSTANCE>',
    );
    expect(cp.systemType).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
    expect(cp.requestedConsistency).toBe("application");
    expect(cp.vmId).toBe(WEB01_ID);
    // The checkpoint refers to the frozen files; the VM now writes to new .avhdx children.
    expect(cp.disks.map((d) => [d.index, d.path])).toEqual([
      [0, "/vms/web01/os.vhdx"],
      [1, "/vms/web01/data.vhdx"],
    ]);
    const after = await hv.refreshVm(vm);
    expect(after.disks.map((d) => d.hostResource)).toEqual([expect.stringMatching(/^\/vms\/web01\/os_.*\.avhdx$/), expect.stringMatching(/^\/vms\/web01\/data_.*\.avhdx$/)]);
    expect(after.recoveryCheckpointCount).toBe(1);
    // Progress is reported once per change, ending at 100%, with the job's description.
    expect(progress.map((p) => p[0])).toEqual([33, 66, 100]);
    expect(progress[0]![1]).toBe("fake job");
  });

  it("sends ConsistencyLevel 2 for crash consistency and GuestBackupType only when asked", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    await hv.createRecoveryCheckpoint(vm, "crash", { guestBackupType: "copy" });
    expect(host.lastSnapshotSettings).toEqual({ __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 2, IgnoreNonSnapshottableDisks: true });
    await hv.createRecoveryCheckpoint(await hv.refreshVm(vm), "application", { guestBackupType: "full" });
    expect(host.lastSnapshotSettings).toMatchObject({ ConsistencyLevel: 1, GuestBackupType: 1 });
  });

  it("lists recovery checkpoints and destroys one, putting the VM back on its files", async () => {
    const { hv } = setup();
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    const listed = await hv.listCheckpoints(vm, "recovery");
    expect(listed.map((c) => c.path)).toEqual([cp.path]);
    expect(await hv.listCheckpoints(vm, "standard")).toEqual([]);
    await hv.destroyCheckpoint(cp);
    const after = await hv.refreshVm(vm);
    expect(after.disks.map((d) => d.hostResource)).toEqual(["/vms/web01/os.vhdx", "/vms/web01/data.vhdx"]);
    expect(after.recoveryCheckpointCount).toBe(0);
  });

  it("turns a ReturnValue error into a HyperVMethodError naming the VM", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    host.fail("CreateSnapshot", { returnValue: 32775 });
    const e = (await hv.createRecoveryCheckpoint(vm, "application").catch((x: unknown) => x)) as HyperVMethodError;
    expect(e).toBeInstanceOf(HyperVMethodError);
    expect(e).toMatchObject({ code: "HyperVMethodFailed", method: "CreateSnapshot", returnValue: 32775, errorCode: 32775, meaning: "Invalid state for this operation", target: "web01" });
    expect(e.message).toBe("CreateSnapshot failed on VM 'web01': 32775 Invalid state for this operation");
  });

  it("turns a failed job into a HyperVMethodError with the job's error code and description", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    host.fail("CreateSnapshot", { jobErrorCode: 32768, jobErrorDescription: "Could not create backup checkpoint: the guest's VSS writer failed" });
    const e = (await hv.createRecoveryCheckpoint(vm, "application").catch((x: unknown) => x)) as HyperVMethodError;
    expect(e).toMatchObject({ method: "CreateSnapshot", returnValue: 4096, jobState: 10, jobErrorCode: 32768, errorCode: 32768 });
    expect(e.jobPath).toMatch(/Msvm_ConcreteJob/);
    expect(e.message).toBe("CreateSnapshot failed on VM 'web01': 32768 Failed (job: Could not create backup checkpoint: the guest's VSS writer failed)");
  });

  it("gives up on a job that makes no progress for jobStallMs with HyperVJobTimeout", async () => {
    const { host, hv } = setup({ jobStallMs: 30 });
    const vm = await hv.findVm("web01");
    // A job that never ends.
    host.session.on("Msvm_VirtualSystemSnapshotService", "CreateSnapshot", () => ({ ReturnValue: 4096, Job: host.session.startJob({ runningPolls: 1e9 }) }));
    const e = (await hv.createRecoveryCheckpoint(vm, "crash").catch((x: unknown) => x)) as HyperVMethodError;
    expect(e.code).toBe("HyperVJobTimeout");
    expect(e.message).toMatch(/^CreateSnapshot failed on VM 'web01': the job made no progress for 30 ms \(still Running at 0%; it may yet finish: '.+'\)$/);
  });

  it("names the final state of a job that failed without an error code or description", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    host.session.on("Msvm_VirtualSystemSnapshotService", "CreateSnapshot", () => ({ ReturnValue: 4096, Job: host.session.startJob({ finalState: 8 }) }));
    await expect(hv.createRecoveryCheckpoint(vm, "crash")).rejects.toThrow(/^CreateSnapshot failed on VM 'web01': job ended in state Terminated$/);
  });

  it("reports a job that vanished as HyperVJobLost", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    host.session.on("Msvm_VirtualSystemSnapshotService", "CreateSnapshot", () => {
      const job = host.session.startJob();
      host.session.remove(job);
      return { ReturnValue: 4096, Job: job };
    });
    await expect(hv.createRecoveryCheckpoint(vm, "crash")).rejects.toMatchObject({ code: "HyperVJobLost" });
  });
});

describe("HyperVClient: reference points", () => {
  it("converts a recovery checkpoint, lists, finds and destroys the reference point", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "application");
    const rp = await hv.convertToReferencePoint(cp);
    expect(rp.vmId).toBe(WEB01_ID);
    expect(rp.referencePointType).toBe(2);
    expect(rp.rctIds).toHaveLength(2);
    // Each RCT id belongs to one of the VM's disks, by SASD InstanceID.
    expect(new Set(rp.virtualDiskIds)).toEqual(new Set(vm.disks.map((d) => d.instanceId)));
    expect((await hv.refreshVm(vm)).recoveryCheckpointCount).toBe(0);
    expect((await hv.listReferencePoints(vm)).map((r) => r.instanceId)).toEqual([rp.instanceId]);
    expect((await hv.findReferencePoint(rp.instanceId))?.path).toBe(rp.path);
    await hv.destroyReferencePoint(rp);
    expect(await hv.findReferencePoint(rp.instanceId)).toBeUndefined();
    const call = host.session.calls.find((c) => c.method === "DestroyReferencePoint")!;
    expect(call).toMatchObject({ path: host.services.referencePoint, args: { AffectedReferencePoint: rp.path } });
  });

  it("reports a family-B error of DestroyReferencePoint with its meaning", async () => {
    const { host, hv } = setup();
    host.fail("DestroyReferencePoint", { returnValue: 32774 });
    await expect(hv.destroyReferencePoint({ path: "x", instanceId: "Microsoft:RP" })).rejects.toThrow("DestroyReferencePoint failed on reference point 'Microsoft:RP': 32774 System is in use");
  });
});

describe("HyperVClient: the host's class schemas (Windows Server 2016 lacks 1703/1709 properties)", () => {
  it("leaves out GuestBackupType and DisableDifferentialOfIgnoredStorage where the host's classes lack them", async () => {
    const host = standardFakeHost("2016");
    const hv = new HyperVClient(host.session, { pollMs: 1 });
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "application", { guestBackupType: "full" });
    expect(host.lastSnapshotSettings).toEqual({ __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 1, IgnoreNonSnapshottableDisks: true });
    await hv.exportConfiguration(cp, "/backup/staging");
    expect(host.exports[0]!.settings).not.toHaveProperty("DisableDifferentialOfIgnoredStorage");
    expect(host.exports[0]!.settings).toMatchObject({ BackupIntent: 1, CopySnapshotConfiguration: 3 });
  });

  it("a property the host's class lacks fails as WMI fails: Not found", async () => {
    const host = standardFakeHost("2016");
    // What the client did before it read the schema: send every property it knows of.
    const schema = await host.session.getClass("Msvm_VirtualSystemExportSettingData");
    expect(() => toCimDtd20(schema, { __CLASS: schema.className, DisableDifferentialOfIgnoredStorage: true })).toThrow(/Not found/);
  });
});

describe("HyperVClient: how often a job is polled", () => {
  it("polls soon after the call, then backs off to pollMs", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((n) => jobPollDelay(n, 250))).toEqual([20, 40, 80, 160, 250, 250, 250, 250]);
    expect([0, 1, 2].map((n) => jobPollDelay(n, 25))).toEqual([20, 25, 25]);
    expect([0, 1].map((n) => jobPollDelay(n, 1))).toEqual([1, 1]);
  });

  it("a job's wait sleeps by that schedule between its polls (an export running for 3 polls: 20, 40, 80 ms, not 250 three times)", async () => {
    const host = standardFakeHost();
    const hv = new HyperVClient(host.session, { pollMs: 250 });
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    const spy = vi.spyOn(globalThis, "setTimeout");
    try {
      await hv.exportConfiguration(cp, "/backup/staging");
      expect(spy.mock.calls.map((c) => c[1])).toEqual([20, 40, 80]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("HyperVClient: export, disks, state", () => {
  it("exports a checkpoint's configuration for backup without storage", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    const cp = await hv.createRecoveryCheckpoint(vm, "crash");
    const folder = await hv.exportConfiguration(cp, "/backup/staging");
    expect(folder).toBe("/backup/staging");
    const call = host.session.calls.find((c) => c.method === "ExportSystemDefinition")!;
    expect(call.path).toBe(host.services.management);
    expect(call.args["ComputerSystem"]).toBe(vm.path);
    expect(call.args["ExportDirectory"]).toBe("/backup/staging");
    expect(host.exports[0]!.settings).toEqual({
      __CLASS: "Msvm_VirtualSystemExportSettingData",
      CopyVmStorage: false,
      CopyVmRuntimeInformation: false,
      CreateVmExportSubdirectory: false,
      DifferentialBackupBase: null,
      BackupIntent: 1,
      DisableDifferentialOfIgnoredStorage: true,
      CopySnapshotConfiguration: 3,
      SnapshotVirtualSystem: cp.path,
    });
  });

  it("exports a VM's own configuration with no checkpoints, into a subfolder when asked", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    const folder = await hv.exportConfiguration(vm, "D:\\Backups\\x", { createSubdirectory: true });
    expect(folder).toBe("D:\\Backups\\x\\web01");
    expect(host.exports[0]!.settings).toMatchObject({ CopySnapshotConfiguration: 1, SnapshotVirtualSystem: null, CreateVmExportSubdirectory: true, CopyVmStorage: false, CaptureLiveState: 0 });
  });

  it("repoints a disk with ModifyResourceSettings, sending the whole storage setting back", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    const disk = await hv.setDiskPath(vm, 1, "/restore/data.vhdx");
    expect(disk.hostResource).toBe("/restore/data.vhdx");
    expect(disk.index).toBe(1);
    const call = host.session.calls.find((c) => c.method === "ModifyResourceSettings")!;
    const rs = parseInstanceXml((call.args["ResourceSettings"] as string[])[0]!);
    expect(rs).toMatchObject({ __CLASS: "Msvm_StorageAllocationSettingData", InstanceID: vm.disks[1]!.instanceId, HostResource: ["/restore/data.vhdx"], ResourceSubType: "Microsoft:Hyper-V:Virtual Hard Disk" });
    expect(rs["__PATH"]).toBeUndefined();
    expect((await hv.refreshVm(vm)).disks[0]!.hostResource).toBe("/vms/web01/os.vhdx");
    await expect(hv.setDiskPath(vm, 5, "/x.vhdx")).rejects.toMatchObject({ code: "DiskNotFound" });
  });

  it("changes state with RequestStateChange and waits for it", async () => {
    const { host, hv } = setup();
    const vm = await hv.findVm("web01");
    await hv.requestStateChange(vm, "Saved");
    expect(host.session.calls.at(-1)).toMatchObject({ path: vm.path, method: "RequestStateChange", args: { RequestedState: 6 } });
    expect((await hv.refreshVm(vm)).state).toBe("Saved");
    host.fail("RequestStateChange", { returnValue: 32775 });
    await expect(hv.requestStateChange(vm, "Paused")).rejects.toThrow("RequestStateChange failed on VM 'web01': 32775 Invalid state for this operation");
  });

  it("reads virtual hard disk settings from the embedded instance", async () => {
    const { hv } = setup();
    expect(await hv.getVhdSettings("/vms/web01/data.vhdx")).toMatchObject({ path: "/vms/web01/data.vhdx", type: "dynamic", format: "vhdx", virtualSize: 128 << 20, parentPath: undefined });
  });
});

describe("parseInstanceXml", () => {
  it("reads scalar and array properties from WMI DTD 2.0 text", () => {
    const xml =
      '<INSTANCE CLASSNAME="Msvm_VirtualHardDiskSettingData">' +
      '<PROPERTY NAME="Path" TYPE="string"><VALUE>C:\\VMs\\a &amp; b.vhdx</VALUE></PROPERTY>' +
      '<PROPERTY NAME="ParentPath" TYPE="string"></PROPERTY>' +
      '<PROPERTY NAME="MaxInternalSize" TYPE="uint64"><VALUE>1073741824</VALUE></PROPERTY>' +
      '<PROPERTY.ARRAY NAME="HostResource" TYPE="string"><VALUE.ARRAY><VALUE>x</VALUE><VALUE>y</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>' +
      '<PROPERTY NAME="Huge" TYPE="uint64"><VALUE>18446744073709551615</VALUE></PROPERTY>' +
      '<PROPERTY NAME="InUse" TYPE="boolean"><VALUE>TRUE</VALUE></PROPERTY>' +
      "</INSTANCE>";
    // Values in WMI's types: integers as numbers (beyond 2^53 as decimal text), booleans as booleans.
    expect(parseInstanceXml(xml)).toEqual({
      __CLASS: "Msvm_VirtualHardDiskSettingData",
      Path: "C:\\VMs\\a & b.vhdx",
      ParentPath: null,
      MaxInternalSize: 1073741824,
      HostResource: ["x", "y"],
      Huge: "18446744073709551615",
      InUse: true,
    });
  });
});
