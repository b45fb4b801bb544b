/**
 * Pairing of a VM's disks with its checkpoint's disks and a reference point's RCT ids (issue 13
 * A1): by location, with the checkpoint's file checked; never by position.
 */
import { describe, expect, it } from "vitest";
import { frozenDiskOf } from "../../../src/engine/backup/plan";
import { recordOf } from "../../../src/engine/backup/reference_points";
import type { HostCheckpoint, HostReferencePoint, HostVm } from "../../../src/engine/host_api";

const disk = (index: number, location: string, file: string): HostVm["disks"][number] => ({
  index,
  location,
  controller: "SCSI",
  controllerNumber: 0,
  address: index,
  sasdPath: `sasd${index}`,
  instanceId: `Microsoft:VM\\${location}\\L`,
  hostResource: file,
  format: "vhdx",
});
const vm = { name: "web01", id: "VM", configVersion: "9.0", disks: [disk(0, "c0\\0\\0", "E:\\VMs\\a.vhdx"), disk(1, "c1\\0\\0", "E:\\VMs\\b.vhdx")] } as unknown as HostVm;
const checkpoint = (disks: Array<[string, string]>): HostCheckpoint =>
  ({ name: "Backup", instanceId: "Microsoft:CP", disks: disks.map(([location, path], index) => ({ index, location, path, instanceId: "", controller: "SCSI", controllerNumber: 0, address: 0, format: "vhdx" })) }) as unknown as HostCheckpoint;

describe("frozenDiskOf", () => {
  it("pairs by location, whatever position the checkpoint lists the disk at", () => {
    const cp = checkpoint([["c1\\0\\0", "e:/vms/B.VHDX"], ["c0\\0\\0", "E:\\VMs\\a.vhdx"]]);
    expect(frozenDiskOf(vm, cp, vm.disks[0]!).path).toBe("E:\\VMs\\a.vhdx");
    expect(frozenDiskOf(vm, cp, vm.disks[1]!).path).toBe("e:/vms/B.VHDX");
  });

  it("stops when the checkpoint's disk at that location is not the file the VM ran on", () => {
    const cp = checkpoint([["c0\\0\\0", "E:\\VMs\\b.vhdx"], ["c1\\0\\0", "E:\\VMs\\a.vhdx"]]);
    expect(() => frozenDiskOf(vm, cp, vm.disks[0]!)).toThrow(expect.objectContaining({ code: "CheckpointDiskMismatch" }));
    expect(() => frozenDiskOf(vm, cp, vm.disks[0]!)).toThrow(/ran on 'E:\\VMs\\a.vhdx' before the checkpoint, but .* refers to 'E:\\VMs\\b.vhdx'/);
  });

  it("stops when the checkpoint has no disk at that location", () => {
    const cp = checkpoint([["c0\\0\\0", "E:\\VMs\\a.vhdx"]]);
    expect(() => frozenDiskOf(vm, cp, vm.disks[1]!)).toThrow(expect.objectContaining({ code: "CheckpointDiskMissing" }));
  });
});

describe("recordOf", () => {
  const rp = (ids: string[], rct: string[]): HostReferencePoint => ({ path: "rp", instanceId: "Microsoft:RP", vmId: "VM", referencePointType: 2, consistencyLevel: 1, virtualDiskIds: ids, rctIds: rct });

  it("gives each disk the RCT id listed at its own location, in whatever order the host lists them", () => {
    const warnings: string[] = [];
    const r = recordOf(rp(["Microsoft:VM\\C1\\0\\0\\L", "Microsoft:VM\\C0\\0\\0\\L"], ["rct-b", "rct-a"]), vm, (m) => warnings.push(m));
    expect(r.rctIds).toEqual({ "0": "rct-a", "1": "rct-b" });
    expect(warnings).toEqual([]);
  });

  it("never guesses by position: a disk the reference point does not list gets no id, and a warning", () => {
    const warnings: string[] = [];
    const r = recordOf(rp(["Microsoft:VM\\c9\\0\\0\\L", "Microsoft:VM\\c0\\0\\0\\L"], ["rct-x", "rct-a"]), vm, (m) => warnings.push(m));
    expect(r.rctIds).toEqual({ "0": "rct-a", "1": "" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no change tracking id for disk 1 .*full/);
  });
});
