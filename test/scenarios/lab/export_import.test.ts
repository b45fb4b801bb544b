import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { guestData } from "../../../src/lab/mod";
import { embeddedInstance } from "../../../src/cim/mod";
import { guestWrite, setVmState } from "../../../src/lab/mod";
import { vmByName } from "../../../src/lab/mod";
import { mutateLab, readLabState } from "../../../src/lab/mod";
import { addVm, call, diskFilesOf, MiB, newLab, one, readBytes, recoveryCheckpoint, servicePath, vmPath, type TestLab } from "../../support/lab";

function write(lab: TestLab, vm: string, offset: number, length: number, seed: string): void {
  mutateLab(lab.dir, (s) => guestWrite(s, vmByName(s, vm), 0, offset, length, seed));
}

function exportSettings(lab: TestLab, vm: string, overrides: Record<string, unknown>): Record<string, unknown> {
  const esd = one(lab.session.associatorsSync(vmPath(lab, vm), { assocClass: "Msvm_SystemExportSettingData" }));
  const { __PATH: _p, ...rest } = esd;
  void _p;
  return { ...rest, ...overrides };
}

describe("ExportSystemDefinition / ImportSystemDefinition / ValidatePlannedSystem / RealizePlannedSystem", () => {
  it("exports a recovery checkpoint for backup, imports it with a new id and realizes a VM whose disk holds the checkpoint's bytes", async () => {
    const lab = newLab();
    addVm(lab, { name: "web01" });
    write(lab, "web01", 0, 1 * MiB, "before");
    const snap = await recoveryCheckpoint(lab, "web01");
    write(lab, "web01", 0, 4096, "after"); // not part of the checkpoint
    const dest = path.join(lab.dir, "export");
    const vmms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const esd = exportSettings(lab, "web01", {
      CopySnapshotConfiguration: 3,
      CopyVmRuntimeInformation: false,
      CopyVmStorage: true,
      CreateVmExportSubdirectory: false,
      SnapshotVirtualSystem: snap.__PATH,
      DifferentialBackupBase: null,
      BackupIntent: 1,
    });
    const ex = await call(lab, vmms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "web01"), ExportDirectory: dest, ExportSettingData: esd });
    expect(ex.result.ReturnValue).toBe(4096);
    expect(ex.job?.["JobState"]).toBe(7);
    const defs = fs.readdirSync(path.join(dest, "Virtual Machines"));
    expect(defs).toHaveLength(1);
    expect(defs[0]).toMatch(/\.vmcx$/);
    const exportedDisk = path.join(dest, "Virtual Hard Disks", "web01.vhdx");
    expect(readBytes(exportedDisk, 0, 1 * MiB)).toEqual(guestData("before", 1 * MiB));

    // Exporting again into the same folder fails in the job.
    const again = await call(lab, vmms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "web01"), ExportDirectory: dest, ExportSettingData: esd });
    expect(again.job?.["JobState"]).toBe(10);

    // Keeping the id collides with the running original.
    const defFile = path.join(dest, "Virtual Machines", defs[0]!);
    const keep = await call(lab, vmms, "ImportSystemDefinition", { SystemDefinitionFile: defFile, SnapshotFolder: path.join(dest, "Snapshots"), GenerateNewSystemIdentifier: false });
    expect(keep.job?.["JobState"]).toBe(10);

    const imp = await call(lab, vmms, "ImportSystemDefinition", { SystemDefinitionFile: defFile, SnapshotFolder: path.join(dest, "Snapshots"), GenerateNewSystemIdentifier: true });
    expect(imp.job?.["JobState"]).toBe(7);
    const planned = one(imp.affected.filter((a) => a.__CLASS === "Msvm_PlannedComputerSystem"));
    expect(planned["Caption"]).toBe("Planned Virtual Machine");
    // The definition is now in use.
    expect((await call(lab, vmms, "ImportSystemDefinition", { SystemDefinitionFile: defFile, GenerateNewSystemIdentifier: true })).result.ReturnValue).toBe(32779);
    const plannedVssd = one(lab.session.associatorsSync(planned.__PATH, { assocClass: "Msvm_SettingsDefineState" }));
    expect(plannedVssd["VirtualSystemType"]).toBe("Microsoft:Hyper-V:System:Planned");

    // Same name as the original: allowed, as on Hyper-V (names are not identities); renamed anyway.
    const val = await call(lab, vmms, "ValidatePlannedSystem", { PlannedSystem: planned.__PATH });
    expect(val.job?.["JobState"]).toBe(7);
    const mss = await call(lab, vmms, "ModifySystemSettings", { SystemSettings: { __CLASS: "Msvm_VirtualSystemSettingData", InstanceID: plannedVssd["InstanceID"], ElementName: "web01-restore" } });
    expect(mss.result.ReturnValue).toBe(0);
    expect((await call(lab, vmms, "ValidatePlannedSystem", { PlannedSystem: planned.__PATH })).job?.["JobState"]).toBe(7);

    const real = await call(lab, vmms, "RealizePlannedSystem", { PlannedSystem: planned.__PATH });
    expect(real.job?.["JobState"]).toBe(7);
    const newVm = one(real.affected.filter((a) => a.__CLASS === "Msvm_ComputerSystem"));
    expect(newVm["ElementName"]).toBe("web01-restore");
    expect(newVm["Name"]).not.toBe(readLabState(lab.dir).vms[0]!.id);
    expect(newVm["EnabledState"]).toBe(3);
    expect(lab.session.querySync("SELECT * FROM Msvm_PlannedComputerSystem")).toHaveLength(0);
    const realized = one(lab.session.associatorsSync(newVm.__PATH, { assocClass: "Msvm_SettingsDefineState" }));
    const files = diskFilesOf(lab, realized.__PATH);
    expect(files).toEqual([exportedDisk]);
  });

  it("plain export needs the VM off or saved (32775); DestroySystem needs it off (5) and removes it", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const vmms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const dest = path.join(lab.dir, "exp");
    const esd = exportSettings(lab, "a", { CopySnapshotConfiguration: 1, CopyVmStorage: false });
    expect((await call(lab, vmms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "a"), ExportDirectory: dest, ExportSettingData: esd })).result.ReturnValue).toBe(32775);
    expect((await call(lab, vmms, "DestroySystem", { AffectedSystem: vmPath(lab, "a") })).result.ReturnValue).toBe(5);
    mutateLab(lab.dir, (s) => setVmState(vmByName(s, "a"), 3, Date.now()));
    const ex = await call(lab, vmms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "a"), ExportDirectory: dest, ExportSettingData: esd });
    expect(ex.job?.["JobState"]).toBe(7);
    expect(fs.existsSync(path.join(dest, "a", "Virtual Machines"))).toBe(true);
    const file = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    const d = await call(lab, vmms, "DestroySystem", { AffectedSystem: vmPath(lab, "a") });
    expect(d.job?.["JobState"]).toBe(7);
    expect(lab.session.querySync("SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'")).toHaveLength(0);
    expect(fs.existsSync(file)).toBe(true); // disk files stay, as on Hyper-V
  });

  it("ModifyResourceSettings repoints a planned VM's disk (HostResource) and rejects unknown InstanceIDs (4)", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    write(lab, "a", 0, 4096, "x");
    mutateLab(lab.dir, (s) => setVmState(vmByName(s, "a"), 3, Date.now()));
    const vmms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const dest = path.join(lab.dir, "exp");
    await call(lab, vmms, "ExportSystemDefinition", {
      ComputerSystem: vmPath(lab, "a"),
      ExportDirectory: dest,
      ExportSettingData: exportSettings(lab, "a", { CopySnapshotConfiguration: 1, CopyVmStorage: true }),
    });
    const defFile = path.join(dest, "a", "Virtual Machines", fs.readdirSync(path.join(dest, "a", "Virtual Machines"))[0]!);
    const restored = path.join(lab.dir, "restored.vhdx");
    fs.copyFileSync(path.join(dest, "a", "Virtual Hard Disks", "a.vhdx"), restored);
    const imp = await call(lab, vmms, "ImportSystemDefinition", { SystemDefinitionFile: defFile, GenerateNewSystemIdentifier: true });
    const planned = one(imp.affected);
    const vssd = one(lab.session.associatorsSync(planned.__PATH, { assocClass: "Msvm_SettingsDefineState" }));
    const sasd = one(lab.session.associatorsSync(vssd.__PATH, { resultClass: "Msvm_StorageAllocationSettingData" }));
    const { __PATH: _p, ...body } = sasd;
    void _p;
    const m = await call(lab, vmms, "ModifyResourceSettings", { ResourceSettings: [{ ...body, HostResource: [restored] }] });
    expect(m.result.ReturnValue).toBe(0);
    expect(m.result["ResultingResourceSettings"]).toEqual([sasd.__PATH]);
    expect(diskFilesOf(lab, vssd.__PATH)).toEqual([restored]);
    const bad = await call(lab, vmms, "ModifyResourceSettings", { ResourceSettings: [{ ...body, InstanceID: "Microsoft:nope" }] });
    expect(bad.result.ReturnValue).toBe(4);
    const missing = await call(lab, vmms, "ModifyResourceSettings", { ResourceSettings: [{ ...body, HostResource: ["/nonexistent.vhdx"] }] });
    expect(missing.result.ReturnValue).toBe(4);
  });
});

describe("image management", () => {
  it("GetVirtualHardDiskSettingData and GetVirtualHardDiskState describe a checkpoint's differencing file", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    await recoveryCheckpoint(lab, "a");
    const top = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    const ims = servicePath(lab, "Msvm_ImageManagementService");
    const sd = lab.session.invokeMethodSync(ims, "GetVirtualHardDiskSettingData", { Path: top });
    expect(sd.ReturnValue).toBe(0);
    const s = embeddedInstance(sd["SettingData"], "SettingData");
    expect(s).toMatchObject({ __CLASS: "Msvm_VirtualHardDiskSettingData", Type: 4, Format: 3, MaxInternalSize: 16 * MiB, LogicalSectorSize: 512 });
    expect(String(s["ParentPath"])).toMatch(/a\.vhdx$/);
    const st = lab.session.invokeMethodSync(ims, "GetVirtualHardDiskState", { Path: top });
    expect(embeddedInstance(st["State"], "State")["InUse"]).toBe(true);
    expect(lab.session.invokeMethodSync(ims, "GetVirtualHardDiskSettingData", { Path: `${top}.nope` }).ReturnValue).toBe(32779);
  });

  it("MergeVirtualHardDisk merges an offline child into its parent and refuses files in use (32774)", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    write(lab, "a", 0, 4096, "p");
    await recoveryCheckpoint(lab, "a");
    write(lab, "a", 8192, 4096, "c");
    const st = readLabState(lab.dir);
    const child = st.vms[0]!.disks[0]!.path;
    const parent = st.snapshots[0]!.disks[0]!.path;
    const ims = servicePath(lab, "Msvm_ImageManagementService");
    expect((await call(lab, ims, "MergeVirtualHardDisk", { SourcePath: child, DestinationPath: parent })).result.ReturnValue).toBe(32774);
    // Offline copies of the chain can be merged.
    const dir = path.join(lab.dir, "offline");
    fs.mkdirSync(dir);
    fs.copyFileSync(parent, path.join(dir, path.basename(parent)));
    fs.copyFileSync(child, path.join(dir, path.basename(child)));
    const w = await call(lab, ims, "MergeVirtualHardDisk", { SourcePath: path.join(dir, path.basename(child)), DestinationPath: path.join(dir, path.basename(parent)) });
    expect(w.job?.["JobState"]).toBe(7);
    expect(fs.existsSync(path.join(dir, path.basename(child)))).toBe(false);
    expect(readBytes(path.join(dir, path.basename(parent)), 8192, 4096)).toEqual(guestData("c", 4096));
  });
});

describe("export options and in-place restore", () => {
  it("leaves out disks named in ExcludedVirtualHardDisks and rejects ids that name no disk (32773)", async () => {
    const lab = newLab({ hostVersion: "2022" }); // ExcludedVirtualHardDisks is 1709+
    addVm(lab, { name: "a", diskSizes: [16 * MiB, 16 * MiB] });
    const snap = await recoveryCheckpoint(lab, "a");
    const vmms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const live = one(lab.session.associatorsSync(vmPath(lab, "a"), { assocClass: "Msvm_SettingsDefineState" }));
    // Answers come in no set order: the second disk is the one at LUN 1.
    const sasds = lab.session
      .associatorsSync(live.__PATH, { resultClass: "Msvm_StorageAllocationSettingData" })
      .sort((a, b) => String(a["InstanceID"]).localeCompare(String(b["InstanceID"])));
    const base = { CopySnapshotConfiguration: 3, CopyVmStorage: true, CreateVmExportSubdirectory: false, SnapshotVirtualSystem: snap.__PATH };
    const bad = await call(lab, vmms, "ExportSystemDefinition", {
      ComputerSystem: vmPath(lab, "a"),
      ExportDirectory: path.join(lab.dir, "x1"),
      ExportSettingData: exportSettings(lab, "a", { ...base, ExcludedVirtualHardDisks: ["Microsoft:nope\\L"] }),
    });
    expect(bad.result.ReturnValue).toBe(32773);
    const dest = path.join(lab.dir, "x2");
    const ok = await call(lab, vmms, "ExportSystemDefinition", {
      ComputerSystem: vmPath(lab, "a"),
      ExportDirectory: dest,
      ExportSettingData: exportSettings(lab, "a", { ...base, ExcludedVirtualHardDisks: [sasds[1]!["InstanceID"]] }),
    });
    expect(ok.job?.["JobState"]).toBe(7);
    expect(fs.readdirSync(path.join(dest, "Virtual Hard Disks"))).toEqual(["a_0.vhdx"]);
  });

  it("restores in place: DestroySystem the original, import keeping the id, realize", async () => {
    const lab = newLab();
    const id = addVm(lab, { name: "a" });
    write(lab, "a", 0, 4096, "orig");
    const snap = await recoveryCheckpoint(lab, "a");
    const vmms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const dest = path.join(lab.dir, "bk");
    await call(lab, vmms, "ExportSystemDefinition", {
      ComputerSystem: vmPath(lab, "a"),
      ExportDirectory: dest,
      ExportSettingData: exportSettings(lab, "a", { CopySnapshotConfiguration: 3, CopyVmStorage: true, CreateVmExportSubdirectory: false, SnapshotVirtualSystem: snap.__PATH }),
    });
    mutateLab(lab.dir, (s) => setVmState(vmByName(s, "a"), 3, Date.now()));
    expect((await call(lab, vmms, "DestroySystem", { AffectedSystem: vmPath(lab, "a") })).job?.["JobState"]).toBe(7);
    const defFile = path.join(dest, "Virtual Machines", `${id}.vmcx`);
    const imp = await call(lab, vmms, "ImportSystemDefinition", { SystemDefinitionFile: defFile, SnapshotFolder: "", GenerateNewSystemIdentifier: false });
    expect(imp.job?.["JobState"]).toBe(7);
    const real = await call(lab, vmms, "RealizePlannedSystem", { PlannedSystem: one(imp.affected).__PATH });
    expect(real.job?.["JobState"]).toBe(7);
    expect(one(real.affected)["Name"]).toBe(id);
    // The association instance carries ElementEffects = [5] (Create).
    const assoc = lab.session.querySync("SELECT * FROM Msvm_AffectedJobElement").filter((x) => x["AffectingElement"] === real.job!.__PATH);
    expect(one(assoc)["ElementEffects"]).toEqual([5]);
    const file = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    expect(readBytes(file, 0, 4096)).toEqual(guestData("orig", 4096));
  });
});
