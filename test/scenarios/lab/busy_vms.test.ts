/**
 * A VM a merge or export job still works on (docs/lab-fidelity.md §8 A6 "long merges"): the
 * lab refuses every call on its checkpoints, reference points and disks with the family's
 * Invalid State code while the job runs, stalls or shuts down, and allows reads and other VMs.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type CimInstance } from "../../../src/cim/mod";
import { embeddedInstance } from "../../../src/cim/mod";
import { EnabledState, createGroup, mutateLab, readLabState, vmByName } from "../../../src/lab/mod";
import { MiB, addVm, call, clusterLab, invoke, jobState, untilEnded, convert, newLab, one, recoveryCheckpoint, servicePath, snapshotSettings, vmPath, type TestLab } from "../../support/lab";

const SNAP_SVC = "Msvm_VirtualSystemSnapshotService";

function stall(lab: TestLab, method: string | undefined): void {
  mutateLab(lab.dir, (s) => void (s.config.stallMethods = method ? [method] : []));
}

function exportOf(lab: TestLab, vm: string, snapshot: CimInstance): Record<string, unknown> {
  const esd = one(lab.session.associatorsSync(vmPath(lab, vm), { assocClass: "Msvm_SystemExportSettingData" }));
  const { __PATH: _p, ...rest } = esd;
  void _p;
  return {
    ComputerSystem: vmPath(lab, vm),
    ExportDirectory: path.join(lab.dir, `export-${vm}-${Date.now()}`),
    ExportSettingData: { ...rest, CopySnapshotConfiguration: 2, CopyVmStorage: false, CreateVmExportSubdirectory: false, SnapshotVirtualSystem: snapshot.__PATH },
  };
}

describe("calls on a VM a merge job works on", () => {
  it("a stalled ConvertToReferencePoint: every call on the VM's checkpoints, reference points and disks is refused until the job is terminated, which leaves the checkpoint; reads and other VMs go on", async () => {
    const lab = newLab({ jobDurationMs: 50, jobTerminateMs: 300 });
    addVm(lab, { name: "a" });
    addVm(lab, { name: "b" });
    const svc = servicePath(lab, SNAP_SVC);
    const rp = await convert(lab, await recoveryCheckpoint(lab, "a"));
    const older = await recoveryCheckpoint(lab, "a");
    const newest = await recoveryCheckpoint(lab, "a");

    stall(lab, "ConvertToReferencePoint");
    const merge = invoke(lab, svc, "ConvertToReferencePoint", { AffectedSnapshot: newest.__PATH });
    expect(merge["ReturnValue"]).toBe(4096);
    expect(jobState(lab, merge["Job"])).toBe(4);
    stall(lab, undefined);
    const disk = readLabState(lab.dir).vms.find((v) => v.name === "a")!.disks[0]!.path;

    const refusals = () => ({
      CreateSnapshot: invoke(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768, SnapshotSettings: snapshotSettings(1) })["ReturnValue"],
      DestroySnapshot: invoke(lab, svc, "DestroySnapshot", { AffectedSnapshot: older.__PATH })["ReturnValue"],
      ConvertToReferencePoint: invoke(lab, svc, "ConvertToReferencePoint", { AffectedSnapshot: older.__PATH })["ReturnValue"],
      ExportSystemDefinition: invoke(lab, servicePath(lab, "Msvm_VirtualSystemManagementService"), "ExportSystemDefinition", exportOf(lab, "a", older))["ReturnValue"],
      GetVirtualDiskChanges: invoke(lab, servicePath(lab, "Msvm_ImageManagementService"), "GetVirtualDiskChanges", {
        Path: disk,
        LimitId: (rp["ResilientChangeTrackingIdentifiers"] as string[])[0],
        ByteOffset: 0,
        ByteLength: 1024 * 1024,
      })["ReturnValue"],
      DestroyReferencePoint: invoke(lab, servicePath(lab, "Msvm_VirtualSystemReferencePointService"), "DestroyReferencePoint", { AffectedReferencePoint: rp.__PATH })["ReturnValue"],
    });
    const refused = { CreateSnapshot: 5, DestroySnapshot: 5, ConvertToReferencePoint: 5, ExportSystemDefinition: 32775, GetVirtualDiskChanges: 32775, DestroyReferencePoint: 32775 };
    expect(refusals()).toEqual(refused);
    // Nothing was done by the refused calls, and the stalled merge has not happened.
    expect(readLabState(lab.dir).snapshots.map((s) => `Microsoft:${s.id}`).sort()).toEqual([older["InstanceID"], newest["InstanceID"]].sort());
    expect(readLabState(lab.dir).referencePoints.map((r) => `Microsoft:${r.id}`)).toContain(rp["InstanceID"]);

    // Reads stay allowed, and so do calls on another VM.
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toHaveLength(2);
    expect(lab.session.getInstanceSync(vmPath(lab, "a"))["ElementName"]).toBe("a");
    expect((await recoveryCheckpoint(lab, "b"))["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");

    // Asked to terminate, the job shuts down (JobState 6) and still holds the VM; terminated, it does not.
    expect(invoke(lab, String(merge["Job"]), "RequestStateChange", { RequestedState: 4 })["ReturnValue"]).toBe(0);
    expect(jobState(lab, merge["Job"])).toBe(6);
    expect(refusals().CreateSnapshot).toBe(5);
    expect(await untilEnded(lab, merge["Job"])).toBe(8);
    // A terminated merge leaves its checkpoint as it was (lab assumption, pending_merges.ts).
    expect(readLabState(lab.dir).snapshots.map((s) => `Microsoft:${s.id}`)).toContain(newest["InstanceID"]);
    const after = await call(lab, svc, "DestroySnapshot", { AffectedSnapshot: older.__PATH });
    expect(after.job?.["JobState"]).toBe(7);
  });

  it("a DestroySnapshot that runs holds its VM until it completes, then the VM is free again", async () => {
    const lab = newLab({ jobDurationMs: 400 });
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, SNAP_SVC);
    const cp = await recoveryCheckpoint(lab, "a");
    const destroy = invoke(lab, svc, "DestroySnapshot", { AffectedSnapshot: cp.__PATH });
    expect(destroy["ReturnValue"]).toBe(4096);
    expect(invoke(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768, SnapshotSettings: snapshotSettings(2) })["ReturnValue"]).toBe(5);
    expect(await untilEnded(lab, destroy["Job"])).toBe(7);
    expect((await recoveryCheckpoint(lab, "a", 2))["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
  });

  it("a group's stalled DestroySnapshot holds every member: the group's and each member's calls are refused, a VM outside the group is not", async () => {
    const lab = newLab({ jobDurationMs: 50 });
    for (const n of ["a", "b", "c"]) addVm(lab, { name: n });
    mutateLab(lab.dir, (s) => createGroup(s, "g", ["a", "b"], Date.now()));
    const group = one(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemCollection WHERE ElementName='g'")).__PATH;
    const collSvc = servicePath(lab, "Msvm_CollectionSnapshotService");
    const takeGroup = () => invoke(lab, collSvc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(2), SnapshotType: 2 });
    const first = await call(lab, collSvc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(2), SnapshotType: 2 });
    expect(first.job?.["JobState"]).toBe(7);

    stall(lab, "DestroySnapshot");
    const destroy = invoke(lab, collSvc, "DestroySnapshot", { AffectedSnapshotCollection: first.result["ResultingSnapshotCollection"] });
    expect(destroy["ReturnValue"]).toBe(4096);
    stall(lab, undefined);
    expect(takeGroup()["ReturnValue"]).toBe(5);
    const svc = servicePath(lab, SNAP_SVC);
    expect(invoke(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "b"), SnapshotType: 32768, SnapshotSettings: snapshotSettings(2) })["ReturnValue"]).toBe(5);
    expect((await recoveryCheckpoint(lab, "c", 2))["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");

    expect(invoke(lab, String(destroy["Job"]), "RequestStateChange", { RequestedState: 4 })["ReturnValue"]).toBe(0);
    expect(await untilEnded(lab, destroy["Job"])).toBe(8);
    const again = takeGroup();
    expect(again["ReturnValue"]).toBe(4096);
    expect(await untilEnded(lab, again["Job"])).toBe(7);
  });

  it("a group's stalled merge holds the VHD Set its members share: GetVirtualDiskChanges on the .vhds is refused, in whatever case its path is given", async () => {
    const { lab, vhds, group } = clusterLab({ jobDurationMs: 50 });
    const collSvc = servicePath(lab, "Msvm_CollectionSnapshotService");
    const ims = servicePath(lab, "Msvm_ImageManagementService");
    const take = async () => String((await call(lab, collSvc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(2), SnapshotType: 2 })).result["ResultingSnapshotCollection"]);
    await call(lab, collSvc, "ConvertToReferencePoint", { AffectedSnapshotCollection: await take() });
    const info = await call(lab, ims, "GetVHDSnapshotInformation", { VHDSetPath: vhds, SnapshotIds: null, AdditionalInformation: null });
    const limit = String(embeddedInstance((info.result["SnapshotInformation"] as unknown[])[0], "SnapshotInformation")["ResilientChangeTrackingId"]);
    const changes = (file: string) => invoke(lab, ims, "GetVirtualDiskChanges", { Path: file, LimitId: limit, ByteOffset: 0, ByteLength: MiB })["ReturnValue"];
    const second = await take();
    expect([changes(vhds), changes(vhds.toUpperCase())]).toEqual([0, 0]);

    stall(lab, "ConvertToReferencePoint");
    const merge = invoke(lab, collSvc, "ConvertToReferencePoint", { AffectedSnapshotCollection: second });
    expect(merge["ReturnValue"]).toBe(4096);
    stall(lab, undefined);
    expect([changes(vhds), changes(vhds.toUpperCase())]).toEqual([32775, 32775]);

    expect(invoke(lab, String(merge["Job"]), "RequestStateChange", { RequestedState: 4 })["ReturnValue"]).toBe(0);
    expect(await untilEnded(lab, merge["Job"])).toBe(8);
    expect(changes(vhds)).toBe(0);
  });

  it("an export that runs holds its VM: AddResourceSettings on the VM is refused until the export ends", async () => {
    const lab = newLab({ jobDurationMs: 50, jobTerminateMs: 0 });
    addVm(lab, { name: "a" });
    // Devices are added to a VM that is off; a plain export takes one that is off too.
    mutateLab(lab.dir, (s) => void (vmByName(s, "a").state = EnabledState.Off));
    const vsms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const id = String(lab.session.getInstanceSync(vmPath(lab, "a"))["Name"]);
    const settings = one(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemSettingData").filter((s) => s["InstanceID"] === `Microsoft:${id}`)).__PATH;
    const controller = one(lab.session.querySync("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceType = 6").filter((r) => String(r["InstanceID"]).includes(id))).__PATH;
    const addDrive = (address: number) =>
      invoke(lab, vsms, "AddResourceSettings", {
        AffectedConfiguration: settings,
        ResourceSettings: [{ __CLASS: "Msvm_ResourceAllocationSettingData", ResourceType: 17, ResourceSubType: "Microsoft:Hyper-V:Synthetic Disk Drive", Parent: controller, AddressOnParent: String(address) }],
      })["ReturnValue"];
    const { __PATH: _p, ...esd } = one(lab.session.associatorsSync(vmPath(lab, "a"), { assocClass: "Msvm_SystemExportSettingData" }));
    void _p;

    stall(lab, "ExportSystemDefinition");
    const exported = invoke(lab, vsms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "a"), ExportDirectory: path.join(lab.dir, "export"), ExportSettingData: { ...esd, CopySnapshotConfiguration: 0, CopyVmStorage: false, CreateVmExportSubdirectory: false } });
    expect(exported["ReturnValue"]).toBe(4096);
    stall(lab, undefined);
    expect(addDrive(1)).toBe(5);
    expect(readLabState(lab.dir).vms[0]!.hardware.emptyDrives ?? []).toEqual([]);

    expect(invoke(lab, String(exported["Job"]), "RequestStateChange", { RequestedState: 4 })["ReturnValue"]).toBe(0);
    expect(await untilEnded(lab, exported["Job"])).toBe(8);
    expect([0, 4096]).toContain(addDrive(1));
  });
});
