/**
 * The lab's VM groups (docs/lab-fidelity.md §6): Msvm_VirtualSystemCollection, the collection
 * snapshot and reference point services and their associations, each method acting on every
 * member or on none.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { addFault, createGroup, mutateLab, readLabState, vmByName } from "../../../src/lab/mod";
import { addVm, call, newLab, one, servicePath, snapshotSettings, type TestLab } from "../../support/lab";

const SNAP_SVC = "Msvm_CollectionSnapshotService";

function groupLab(extra: { oldMember?: boolean } = {}): { lab: TestLab; group: string } {
  const lab = newLab();
  for (const n of ["a", "b", "c"]) addVm(lab, { name: n, ...(extra.oldMember && n === "c" ? { configVersion: "5.0" } : {}) });
  mutateLab(lab.dir, (s) => createGroup(s, "g", ["a", "b", "c"], Date.now()));
  return { lab, group: one(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemCollection WHERE ElementName='g'")).__PATH };
}

async function snapshotGroup(lab: TestLab, group: string, level: 1 | 2 = 1): Promise<string> {
  const w = await call(lab, servicePath(lab, SNAP_SVC), "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(level), SnapshotType: 2 });
  expect(w.job?.["JobState"]).toBe(7);
  return String(w.result["ResultingSnapshotCollection"]);
}

describe("VM groups in the lab", () => {
  it("a group's members, and a recovery snapshot of it: one checkpoint per member, reachable through the collection", async () => {
    const { lab, group } = groupLab();
    const members = lab.session.associatorsSync(group, { assocClass: "Msvm_CollectedVirtualSystems" });
    expect(members.map((m) => m["ElementName"]).sort()).toEqual(["a", "b", "c"]);
    // The collection page's SnapshotType values: 32768 (the VM service's recovery type) is not one.
    expect((await call(lab, servicePath(lab, SNAP_SVC), "CreateSnapshot", { Collection: group, SnapshotType: 32768 })).result["ReturnValue"]).toBe(4);
    const sc = await snapshotGroup(lab, group);
    const vssds = lab.session.associatorsSync(sc, { assocClass: "Msvm_CollectedSnapshots" });
    expect(vssds.map((v) => v["VirtualSystemType"])).toEqual(Array(3).fill("Microsoft:Hyper-V:Snapshot:Recovery"));
    expect(lab.session.associatorsSync(group, { assocClass: "Msvm_SnapshotOfVirtualSystemCollection" }).map((x) => x.__PATH)).toEqual([sc]);
    // One cut for the group: no write falls between two members' checkpoints.
    const seqs = readLabState(lab.dir).snapshots.map((s) => s.seq);
    expect(Math.max(...seqs) - Math.min(...seqs)).toBe(2);
    // DestroySnapshot removes every member's checkpoint.
    expect((await call(lab, servicePath(lab, SNAP_SVC), "DestroySnapshot", { AffectedSnapshotCollection: sc })).job?.["JobState"]).toBe(7);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
    expect(lab.session.querySync("SELECT * FROM Msvm_SnapshotCollection")).toHaveLength(0);
  });

  it("one guest that cannot give application consistency fails the whole group's checkpoint; crash consistency goes through", async () => {
    const { lab, group } = groupLab();
    mutateLab(lab.dir, (s) => void (vmByName(s, "b").integration = "failing"));
    const w = await call(lab, servicePath(lab, SNAP_SVC), "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(1), SnapshotType: 2 });
    expect(w.job?.["JobState"]).toBe(10);
    expect(String(w.job?.["ErrorDescription"])).toMatch(/'b'/);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
    await snapshotGroup(lab, group, 2);
    expect(readLabState(lab.dir).snapshots.map((s) => s.consistency)).toEqual(["crash", "crash", "crash"]);
  });

  it("ConvertToReferencePoint makes one reference point per member under one collection; DestroyReferencePoint of the collection removes them all", async () => {
    const { lab, group } = groupLab();
    const sc = await snapshotGroup(lab, group);
    const w = await call(lab, servicePath(lab, SNAP_SVC), "ConvertToReferencePoint", { AffectedSnapshotCollection: sc });
    expect(w.job?.["JobState"]).toBe(7);
    const rpc = String(w.result["ResultingReferencePointCollection"]);
    expect(lab.session.getInstanceSync(rpc)["ConsistencyLevel"]).toBe(2); // application, as the collection page numbers it
    expect(lab.session.associatorsSync(rpc, { assocClass: "Msvm_CollectedReferencePoints" })).toHaveLength(3);
    expect(lab.session.associatorsSync(group, { assocClass: "Msvm_ReferencePointOfVirtualSystemCollection" }).map((x) => x.__PATH)).toEqual([rpc]);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
    const d = await call(lab, servicePath(lab, "Msvm_CollectionReferencePointService"), "DestroyReferencePoint", { AffectedReferencePointCollection: rpc });
    expect(d.job?.["JobState"]).toBe(7);
    expect(readLabState(lab.dir).referencePoints).toHaveLength(0);
    expect(lab.session.querySync("SELECT * FROM Msvm_ReferencePointCollection")).toHaveLength(0);
  });

  it("ConvertToReferencePoint refuses a group with a member without RCT, and changes nothing", async () => {
    const { lab, group } = groupLab({ oldMember: true });
    const sc = await snapshotGroup(lab, group);
    expect((await call(lab, servicePath(lab, SNAP_SVC), "ConvertToReferencePoint", { AffectedSnapshotCollection: sc })).result["ReturnValue"]).toBe(1);
    expect(readLabState(lab.dir).snapshots).toHaveLength(3);
    expect(readLabState(lab.dir).referencePoints).toHaveLength(0);
  });

  it("ExportSnapshot writes every member's checkpoint configuration under <dir>/<VM id>/, never storage, never over an earlier export", async () => {
    const { lab, group } = groupLab();
    const sc = await snapshotGroup(lab, group);
    const dir = mkdtempSync(path.join(tmpdir(), "hvb-group-export-"));
    const esd = { __CLASS: "Msvm_CollectionSnapshotExportSettingData", CopyVmStorage: false, BackupIntent: 1 };
    const svc = servicePath(lab, SNAP_SVC);
    expect((await call(lab, svc, "ExportSnapshot", { SnapshotCollection: sc, ExportDirectory: dir, ExportSettingData: { ...esd, CopyVmStorage: true } })).result["ReturnValue"]).toBe(1);
    expect((await call(lab, svc, "ExportSnapshot", { SnapshotCollection: sc, ExportDirectory: dir, ExportSettingData: { ...esd, __CLASS: "Msvm_VirtualSystemExportSettingData" } })).result["ReturnValue"]).toBe(4);
    expect((await call(lab, svc, "ExportSnapshot", { SnapshotCollection: sc, ExportDirectory: dir, ExportSettingData: esd })).job?.["JobState"]).toBe(7);
    for (const vm of readLabState(lab.dir).vms) expect(existsSync(path.join(dir, vm.id, "Virtual Machines", `${vm.id}.vmcx`))).toBe(true);
    expect((await call(lab, svc, "ExportSnapshot", { SnapshotCollection: sc, ExportDirectory: dir, ExportSettingData: esd })).job?.["JobState"]).toBe(10);
  });

  it("a fault named with its class fails only that class's method", async () => {
    const { lab, group } = groupLab();
    mutateLab(lab.dir, (s) => addFault(s, { method: "Msvm_CollectionSnapshotService.CreateSnapshot", code: 5, times: 1 }));
    // The VM service's CreateSnapshot is not affected...
    const vmSnap = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", {
      AffectedSystem: one(lab.session.querySync("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'")).__PATH,
      SnapshotSettings: snapshotSettings(2),
      SnapshotType: 32768,
    });
    expect(vmSnap.job?.["JobState"]).toBe(7);
    // ...the group's is.
    expect((await call(lab, servicePath(lab, SNAP_SVC), "CreateSnapshot", { Collection: group, SnapshotType: 2 })).result["ReturnValue"]).toBe(5);
  });
});
