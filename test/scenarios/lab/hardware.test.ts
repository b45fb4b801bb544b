/**
 * The lab's hardware and enumeration order (issue 13 B): several SCSI controllers, IDE, a DVD
 * drive, a pass-through disk, standard checkpoints at creation, and answers in a seeded
 * shuffled order.
 */
import { describe, expect, it } from "vitest";
import type { CimInstance } from "../../../src/cim/mod";
import { MiB, addVm, call, newLab, one, servicePath, snapshotSettings, vmPath } from "../../support/lab";

function vssdOf(lab: ReturnType<typeof newLab>, vm: string): CimInstance {
  return one(lab.session.associatorsSync(vmPath(lab, vm), { assocClass: "Msvm_SettingsDefineState" }));
}

describe("lab hardware", () => {
  it("puts disks on several SCSI controllers, each with its own GUID in the disks' InstanceIDs", () => {
    const lab = newLab();
    addVm(lab, {
      name: "multi",
      diskSizes: [16 * MiB, 16 * MiB, 16 * MiB],
      diskSlots: [{ controller: "scsi", controllerIndex: 1, address: 0 }, undefined, { controller: "scsi", controllerIndex: 2, address: 5 }],
      dvd: true,
      passthrough: true,
    });
    const parts = lab.session.associatorsSync(vssdOf(lab, "multi").__PATH, { assocClass: "Msvm_VirtualSystemSettingDataComponent" });
    const controllers = parts.filter((p) => p["ResourceType"] === 6);
    expect(controllers).toHaveLength(3);
    const guids = controllers.map((c) => String(c["InstanceID"]).split("\\")[1]!);
    expect(new Set(guids).size).toBe(3);
    const disks = parts.filter((p) => p["ResourceSubType"] === "Microsoft:Hyper-V:Virtual Hard Disk");
    const tails = disks.map((d) => String(d["InstanceID"]).split("\\").slice(2).join("\\")).sort();
    expect(tails).toEqual(["0\\0\\L", "0\\0\\L", "0\\5\\L"]);
    // Each disk's controller GUID is one of the controllers', and its drive hangs off that controller.
    for (const d of disks) {
      const guid = String(d["InstanceID"]).split("\\")[1]!;
      const drive = parts.find((p) => p.__PATH === d["Parent"])!;
      expect(String(parts.find((p) => p.__PATH === drive["Parent"])!["InstanceID"]).endsWith(guid)).toBe(true);
    }
    const dvd = parts.filter((p) => p["ResourceSubType"] === "Microsoft:Hyper-V:Virtual CD/DVD Disk");
    expect(dvd).toHaveLength(1);
    expect(String((dvd[0]!["HostResource"] as string[])[0])).toMatch(/\.iso$/);
    const pt = parts.filter((p) => p["ResourceSubType"] === "Microsoft:Hyper-V:Physical Disk Drive");
    expect(pt).toHaveLength(1);
    expect(String((pt[0]!["HostResource"] as string[])[0])).toMatch(/^\\\\LABHOST\\root\\virtualization\\v2:Msvm_DiskDrive\./);
  });

  it("refuses impossible slots", () => {
    const lab = newLab();
    expect(() => addVm(lab, { name: "a", diskSlots: [{ controller: "ide", controllerIndex: 0, address: 0 }] })).toThrow(/generation 2 VM has no IDE/);
    expect(() => addVm(lab, { name: "b", diskSizes: [MiB, MiB], diskSlots: [{ controller: "scsi", controllerIndex: 0, address: 0 }, { controller: "scsi", controllerIndex: 0, address: 0 }] })).toThrow(/share SCSI 0:0/);
    expect(() => addVm(lab, { name: "c", diskSlots: [{ controller: "scsi", controllerIndex: 4, address: 0 }] })).toThrow(/controller 0-3/);
  });

  it("leaves a pass-through disk out of a checkpoint only with IgnoreNonSnapshottableDisks", async () => {
    const lab = newLab();
    addVm(lab, { name: "pt", passthrough: true });
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const strict = await call(lab, svc, "CreateSnapshot", {
      AffectedSystem: vmPath(lab, "pt"),
      SnapshotSettings: { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 2, IgnoreNonSnapshottableDisks: false },
      SnapshotType: 32768,
    });
    expect(strict.job?.["JobState"]).toBe(10);
    expect(String(strict.job?.["ErrorDescription"])).toMatch(/pass-through/);
    const ok = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "pt"), SnapshotSettings: snapshotSettings(2), SnapshotType: 32768 });
    expect(ok.job?.["JobState"]).toBe(7);
    const cp = one(ok.affected.filter((a) => a.__CLASS === "Msvm_VirtualSystemSettingData"));
    const parts = lab.session.associatorsSync(cp.__PATH, { assocClass: "Msvm_VirtualSystemSettingDataComponent" });
    expect(parts.filter((p) => p["ResourceSubType"] === "Microsoft:Hyper-V:Physical Disk Drive")).toHaveLength(0);
    expect(parts.filter((p) => p["ResourceSubType"] === "Microsoft:Hyper-V:Virtual Hard Disk")).toHaveLength(1);
  });

  it("takes standard checkpoints at creation, so the VM runs on differencing disks", () => {
    const lab = newLab();
    addVm(lab, { name: "cp", checkpoints: ["one", "two"] });
    const cps = lab.session.associatorsSync(vmPath(lab, "cp"), { assocClass: "Msvm_SnapshotOfVirtualSystem" });
    expect(cps.map((c) => c["ElementName"]).sort()).toEqual(["one", "two"]);
    expect(cps.every((c) => c["VirtualSystemType"] === "Microsoft:Hyper-V:Snapshot:Realized")).toBe(true);
    const disk = lab.session.associatorsSync(vssdOf(lab, "cp").__PATH, { resultClass: "Msvm_StorageAllocationSettingData" });
    expect(String((disk[0]!["HostResource"] as string[])[0])).toMatch(/\.avhdx$/);
  });
});

describe("lab enumeration order", () => {
  const names = (lab: ReturnType<typeof newLab>) => lab.session.querySync("SELECT * FROM Msvm_ComputerSystem WHERE Caption='Virtual Machine'").map((v) => String(v["ElementName"]));

  it("answers queries and associations in a shuffled order drawn from the lab's seed", () => {
    const lab = newLab({ seed: 7 });
    for (const n of ["a", "b", "c", "d", "e", "f"]) addVm(lab, { name: n });
    const orders = new Set(Array.from({ length: 8 }, () => names(lab).join(",")));
    expect(orders.size).toBeGreaterThan(1);
    for (const o of orders) expect(o.split(",").sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
  });

  it("keeps the state's order when made with --order stable", () => {
    const lab = newLab({ enumerationOrder: "stable" });
    for (const n of ["a", "b", "c", "d"]) addVm(lab, { name: n });
    expect(names(lab)).toEqual(["a", "b", "c", "d"]);
    expect(names(lab)).toEqual(["a", "b", "c", "d"]);
  });
});
