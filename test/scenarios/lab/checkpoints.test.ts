import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { guestData } from "../../../src/lab/mod";
import { guestWrite } from "../../../src/lab/mod";
import { vmByName } from "../../../src/lab/mod";
import { mutateLab, readLabState } from "../../../src/lab/mod";
import { addVm, call, convert, diskFilesOf, MiB, newLab, one, readBytes, recoveryCheckpoint, servicePath, vmPath, type TestLab } from "../../support/lab";

function write(lab: TestLab, vm: string, disk: number, offset: number, length: number, seed: string): void {
  mutateLab(lab.dir, (s) => guestWrite(s, vmByName(s, vm), disk, offset, length, seed));
}

function vmDiskFiles(lab: TestLab, vm: string): string[] {
  return readLabState(lab.dir).vms.find((v) => v.name === vm)!.disks.map((d) => d.path);
}

describe("CreateSnapshot (recovery, SnapshotType 32768)", () => {
  it("creates a Recovery VSSD reachable from the job and the VM, moves writes onto a new .avhdx and freezes the parent", async () => {
    const lab = newLab();
    addVm(lab, { name: "web01", diskSizes: [16 * MiB, 16 * MiB] });
    write(lab, "web01", 0, 1 * MiB, 64 * 1024, "a");
    const before = vmDiskFiles(lab, "web01");

    const snap = await recoveryCheckpoint(lab, "web01");
    expect(snap["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
    expect(snap["Parent"]).toBeNull();

    const vm = vmPath(lab, "web01");
    const viaVm = lab.session.associatorsSync(vm, { assocClass: "Msvm_SnapshotOfVirtualSystem" });
    expect(viaVm.map((x) => x.__PATH)).toEqual([snap.__PATH]);
    expect(one(lab.session.associatorsSync(vm, { assocClass: "Msvm_MostCurrentSnapshotInBranch" })).__PATH).toBe(snap.__PATH);

    // The checkpoint's disks are the frozen files; the VM now writes to new children.
    expect(diskFilesOf(lab, snap.__PATH)).toEqual(before);
    const after = vmDiskFiles(lab, "web01");
    expect(after.every((f) => f.endsWith(".avhdx"))).toBe(true);
    expect(after.map((f) => fs.existsSync(f))).toEqual([true, true]);

    write(lab, "web01", 0, 1 * MiB, 64 * 1024, "b");
    expect(readBytes(before[0]!, 1 * MiB, 64 * 1024)).toEqual(guestData("a", 64 * 1024));
    expect(readBytes(after[0]!, 1 * MiB, 64 * 1024)).toEqual(guestData("b", 64 * 1024));

    // A second checkpoint's Parent is the first.
    const snap2 = await recoveryCheckpoint(lab, "web01");
    expect(snap2["Parent"]).toBe(snap.__PATH);
    const realized = one(lab.session.associatorsSync(vm, { assocClass: "Msvm_SettingsDefineState" }));
    expect(lab.session.associatorsSync(snap.__PATH, { assocClass: "Msvm_ParentChildSettingData" }).map((x) => x.__PATH)).toEqual([snap2.__PATH]);
    expect(lab.session.associatorsSync(realized.__PATH, { assocClass: "Msvm_ParentChildSettingData" }).map((x) => x.__PATH)).toEqual([snap2.__PATH]);
  });

  it("rejects unknown types, a disk-only snapshot and a path that is not a VM with family A codes", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const vm = vmPath(lab, "a");
    expect((await call(lab, svc, "CreateSnapshot", { AffectedSystem: vm, SnapshotType: 7 })).result.ReturnValue).toBe(4);
    expect((await call(lab, svc, "CreateSnapshot", { AffectedSystem: vm, SnapshotType: 3 })).result.ReturnValue).toBe(1);
    expect((await call(lab, svc, "CreateSnapshot", { AffectedSystem: svc, SnapshotType: 32768 })).result.ReturnValue).toBe(4);
    const bad = { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 9 };
    expect((await call(lab, svc, "CreateSnapshot", { AffectedSystem: vm, SnapshotType: 32768, SnapshotSettings: bad })).result.ReturnValue).toBe(4);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
  });

  it("SnapshotType 2 gives a standard checkpoint (Snapshot:Realized)", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2 });
    expect(w.job?.["JobState"]).toBe(7);
    expect(one(w.affected.filter((x) => x.__CLASS === "Msvm_VirtualSystemSettingData"))["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Realized");
  });
});

describe("DestroySnapshot", () => {
  it("merges the newest checkpoint's child back: the VM is on its base file again with every byte the guest wrote", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const base = vmDiskFiles(lab, "a")[0]!;
    write(lab, "a", 0, 0, 128 * 1024, "1");
    const snap = await recoveryCheckpoint(lab, "a");
    const child = vmDiskFiles(lab, "a")[0]!;
    write(lab, "a", 0, 64 * 1024, 128 * 1024, "2");
    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "DestroySnapshot", { AffectedSnapshot: snap.__PATH });
    expect(w.result.ReturnValue).toBe(4096);
    expect(w.job?.["JobState"]).toBe(7);
    expect(vmDiskFiles(lab, "a")).toEqual([base]);
    expect(fs.existsSync(child)).toBe(false);
    expect(readBytes(base, 0, 64 * 1024)).toEqual(guestData("1", 64 * 1024));
    expect(readBytes(base, 64 * 1024, 128 * 1024)).toEqual(guestData("2", 128 * 1024));
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toHaveLength(0);
    expect(lab.session.associatorsSync(vmPath(lab, "a"), { assocClass: "Msvm_MostCurrentSnapshotInBranch" })).toHaveLength(0);
  });

  it("removes an older checkpoint in the middle of a chain and re-points the files above it", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    write(lab, "a", 0, 0, 64 * 1024, "1");
    const s1 = await recoveryCheckpoint(lab, "a");
    write(lab, "a", 0, 1 * MiB, 64 * 1024, "2");
    const s2 = await recoveryCheckpoint(lab, "a");
    write(lab, "a", 0, 2 * MiB, 64 * 1024, "3");
    const s1Files = diskFilesOf(lab, s1.__PATH);
    await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "DestroySnapshot", { AffectedSnapshot: s1.__PATH });
    // s2 now shows its state from s1's old file, its Parent is gone, the VM still sees all three writes.
    const s2Now = lab.session.getInstanceSync(s2.__PATH);
    expect(s2Now["Parent"]).toBeNull();
    expect(diskFilesOf(lab, s2.__PATH)).toEqual(s1Files);
    expect(readBytes(s1Files[0]!, 1 * MiB, 64 * 1024)).toEqual(guestData("2", 64 * 1024));
    expect(readBytes(s1Files[0]!, 2 * MiB, 64 * 1024)).toEqual(new Uint8Array(64 * 1024));
    const top = vmDiskFiles(lab, "a")[0]!;
    expect(readBytes(top, 0, 64 * 1024)).toEqual(guestData("1", 64 * 1024));
    expect(readBytes(top, 1 * MiB, 64 * 1024)).toEqual(guestData("2", 64 * 1024));
    expect(readBytes(top, 2 * MiB, 64 * 1024)).toEqual(guestData("3", 64 * 1024));
  });

  it("answers 4 Invalid Parameter for a path that is not a checkpoint", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const realized = one(lab.session.associatorsSync(vmPath(lab, "a"), { assocClass: "Msvm_SettingsDefineState" }));
    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "DestroySnapshot", { AffectedSnapshot: realized.__PATH });
    expect(w.result.ReturnValue).toBe(4);
  });
});

describe("ConvertToReferencePoint / DestroyReferencePoint", () => {
  it("turns a recovery checkpoint into an RCT reference point and merges its files", async () => {
    const lab = newLab();
    const id = addVm(lab, { name: "a", diskSizes: [16 * MiB, 16 * MiB] });
    const base = vmDiskFiles(lab, "a");
    const snap = await recoveryCheckpoint(lab, "a");
    write(lab, "a", 1, 0, 4096, "x");
    const rp = await convert(lab, snap);
    expect(rp["ReferencePointType"]).toBe(2);
    expect(rp["ConsistencyLevel"]).toBe(1);
    expect(rp["HasAssociatedData"]).toBe(false);
    expect(rp["VirtualSystemIdentifier"]).toBe(id);
    const diskIds = rp["VirtualDiskIdentifiers"] as string[];
    const rctIds = rp["ResilientChangeTrackingIdentifiers"] as string[];
    expect(diskIds).toHaveLength(2);
    expect(rctIds.every((x) => /^rctX:[0-9a-f-]{36}:\d+$/.test(x))).toBe(true);
    // The disk ids are the InstanceIDs of the VM's storage settings, index-aligned.
    const sasds = lab.session.querySync("SELECT * FROM Msvm_StorageAllocationSettingData").map((s) => s["InstanceID"]);
    expect(sasds).toEqual(expect.arrayContaining(diskIds));
    expect(vmDiskFiles(lab, "a")).toEqual(base);
    expect(readBytes(base[1]!, 0, 4096)).toEqual(guestData("x", 4096));
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toHaveLength(0);
    expect(lab.session.associatorsSync(vmPath(lab, "a"), { resultClass: "Msvm_VirtualSystemReferencePoint" }).map((x) => x.__PATH)).toEqual([rp.__PATH]);
    expect(lab.session.getInstanceSync(vmPath(lab, "a"))["LastSuccessfulBackupTime"]).not.toBeNull();

    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemReferencePointService"), "DestroyReferencePoint", { AffectedReferencePoint: rp.__PATH });
    expect(w.result.ReturnValue).toBe(4096);
    expect(w.job?.["JobState"]).toBe(7);
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemReferencePoint")).toHaveLength(0);
    const again = await call(lab, servicePath(lab, "Msvm_VirtualSystemReferencePointService"), "DestroyReferencePoint", { AffectedReferencePoint: rp.__PATH });
    expect(again.result.ReturnValue).toBe(32773);
  });

  it("refuses standard checkpoints (4) and configuration version 5.0 (1 Not Supported)", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    addVm(lab, { name: "old", configVersion: "5.0" });
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const std = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2 });
    const stdSnap = one(std.affected.filter((x) => x.__CLASS === "Msvm_VirtualSystemSettingData"));
    expect((await call(lab, svc, "ConvertToReferencePoint", { AffectedSnapshot: stdSnap.__PATH })).result.ReturnValue).toBe(4);
    const oldSnap = await recoveryCheckpoint(lab, "old");
    expect((await call(lab, svc, "ConvertToReferencePoint", { AffectedSnapshot: oldSnap.__PATH })).result.ReturnValue).toBe(1);
    // The recovery checkpoint is still there to be destroyed, as a real client would.
    expect(lab.session.getInstanceSync(oldSnap.__PATH)["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
  });
});

describe("guest consistency", () => {
  it("Windows gives application consistency, Linux file-system (reported as 1), none crash (2)", async () => {
    const lab = newLab();
    addVm(lab, { name: "w", guest: "windows" });
    addVm(lab, { name: "l", guest: "linux" });
    addVm(lab, { name: "n", guest: "none" });
    for (const [vm, level] of [["w", 1], ["l", 1], ["n", 2]] as const) {
      const rp = await convert(lab, await recoveryCheckpoint(lab, vm, 1));
      expect(rp["ConsistencyLevel"]).toBe(level);
    }
    expect(readLabState(lab.dir).referencePoints.map((r) => r.consistency)).toEqual(["application", "filesystem", "crash"]);
  });

  it("an application-consistent recovery checkpoint on a guest whose VSS fails ends in a job error and leaves nothing behind", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    mutateLab(lab.dir, (s) => {
      vmByName(s, "a").integration = "failing";
    });
    const files = vmDiskFiles(lab, "a");
    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", {
      AffectedSystem: vmPath(lab, "a"),
      SnapshotType: 32768,
      SnapshotSettings: { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 1 },
    });
    expect(w.result.ReturnValue).toBe(4096);
    expect(w.job?.["JobState"]).toBe(10);
    expect(w.job?.["ErrorCode"]).toBe(32768);
    expect(String(w.job?.["ErrorDescription"])).toMatch(/Could not create backup checkpoint/);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
    expect(vmDiskFiles(lab, "a")).toEqual(files);
    // The crash-consistent retry works.
    const snap = await recoveryCheckpoint(lab, "a", 2);
    expect(snap["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
  });

  it("Msvm_VssComponent reports OK for a healthy guest and No Contact without integration services", () => {
    const lab = newLab();
    addVm(lab, { name: "w" });
    addVm(lab, { name: "n", guest: "none" });
    const w = one(lab.session.associatorsSync(vmPath(lab, "w"), { resultClass: "Msvm_VssComponent" }));
    const n = one(lab.session.associatorsSync(vmPath(lab, "n"), { resultClass: "Msvm_VssComponent" }));
    expect([[2], [3]]).toContainEqual(w["OperationalStatus"]); // both healthy (drawn from the seed)
    expect(w["EnabledState"]).toBe(2);
    expect(n["OperationalStatus"]).toEqual([12]);
  });
});

describe("legacy VHD VMs", () => {
  it("checkpoint onto a .avhd and merge back on DestroySnapshot, with the guest's bytes intact", async () => {
    const lab = newLab();
    addVm(lab, { name: "v", format: "vhd" });
    const base = vmDiskFiles(lab, "v")[0]!;
    expect(base).toMatch(/\.vhd$/);
    write(lab, "v", 0, 0, 8192, "1");
    const snap = await recoveryCheckpoint(lab, "v");
    const child = vmDiskFiles(lab, "v")[0]!;
    expect(child).toMatch(/\.avhd$/);
    write(lab, "v", 0, 4096, 8192, "2");
    expect(readBytes(base, 4096, 4096)).toEqual(guestData("1", 8192).subarray(4096));
    await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "DestroySnapshot", { AffectedSnapshot: snap.__PATH });
    expect(vmDiskFiles(lab, "v")).toEqual([base]);
    expect(fs.existsSync(child)).toBe(false);
    expect(readBytes(base, 0, 4096)).toEqual(guestData("1", 4096));
    expect(readBytes(base, 4096, 8192)).toEqual(guestData("2", 8192));
  });
});
