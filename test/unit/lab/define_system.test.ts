/**
 * The lab's DefineSystem, AddResourceSettings and CreateVirtualHardDisk (what doctor --deep makes
 * its scratch VM with) answer the documented calls and refuse what a host would: a drive at a
 * taken location, a disk in no empty drive, devices added to a running VM, resources passed to
 * DefineSystem, an existing file or a differencing type for a new disk.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { toCimDtd20 } from "../../../src/cim/mod";
import { HyperVClient } from "../../../src/hyperv/mod";
import { readLabState } from "../../../src/lab/mod";
import { newLab } from "../../support/lab";

const MiB = 1024 * 1024;

async function text(session: HyperVClient["session"], instance: { __CLASS: string; [k: string]: unknown }): Promise<string> {
  return toCimDtd20(await session.getClass(instance.__CLASS), instance);
}

describe("lab DefineSystem, AddResourceSettings, CreateVirtualHardDisk", () => {
  it("makes a VM with a new disk through the documented calls, and refuses what a host would", async () => {
    const lab = newLab();
    const hv = new HyperVClient(lab.session, { pollMs: 5 });
    const s = lab.session;
    const folder = path.join(lab.dir, "scratch");
    const disk = path.join(folder, "a.vhdx");
    fs.mkdirSync(folder);
    await hv.createVirtualHardDisk(disk, 8 * MiB);
    await expect(hv.createVirtualHardDisk(disk, 8 * MiB)).rejects.toThrow(/CreateVirtualHardDisk/);
    const vm = await hv.defineSystem("scratch", folder);
    expect(vm.state).toBe("Off");
    await hv.attachNewDisk(vm, disk);
    const now = await hv.refreshVm(vm);
    expect(now.disks.map((d) => path.resolve(d.hostResource))).toEqual([path.resolve(disk)]);
    expect(readLabState(lab.dir).vms[0]!.hardware.emptyDrives).toEqual([]);

    const ims = (await s.query("SELECT * FROM Msvm_ImageManagementService"))[0]!.__PATH;
    const vsms = (await s.query("SELECT * FROM Msvm_VirtualSystemManagementService"))[0]!.__PATH;
    const differencing = await text(s, { __CLASS: "Msvm_VirtualHardDiskSettingData", Type: 4, Format: 3, Path: path.join(folder, "b.avhdx"), ParentPath: disk, MaxInternalSize: 8 * MiB });
    expect((await s.invokeMethod(ims, "CreateVirtualHardDisk", { VirtualDiskSettingData: differencing })).ReturnValue).toBe(32770);

    const controller = (await s.query("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceType = 6")).find((r) => String(r["InstanceID"]).includes(now.id))!.__PATH;
    const drive = (await s.query("SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceType = 17")).find((r) => String(r["InstanceID"]).includes(now.id))!.__PATH;
    const add = async (instance: { __CLASS: string; [k: string]: unknown }) =>
      (await s.invokeMethod(vsms, "AddResourceSettings", { AffectedConfiguration: now.settingsPath, ResourceSettings: [await text(s, instance)] })).ReturnValue;
    // Location 0 is taken; a disk's Parent must be an empty drive (this one has a disk).
    expect(await add({ __CLASS: "Msvm_ResourceAllocationSettingData", ResourceType: 17, ResourceSubType: "Microsoft:Hyper-V:Synthetic Disk Drive", Parent: controller, AddressOnParent: "0" })).toBe(4);
    expect(await add({ __CLASS: "Msvm_StorageAllocationSettingData", ResourceType: 31, ResourceSubType: "Microsoft:Hyper-V:Virtual Hard Disk", Parent: drive, HostResource: [disk] })).toBe(4);
    // A VSSD with resources in DefineSystem is not what the lab emulates.
    const vssd = await text(s, { __CLASS: "Msvm_VirtualSystemSettingData", ElementName: "other", VirtualSystemSubType: "Microsoft:Hyper-V:SubType:2" });
    const rasd = await text(s, { __CLASS: "Msvm_ResourceAllocationSettingData", ResourceType: 6, ResourceSubType: "Microsoft:Hyper-V:Synthetic SCSI Controller" });
    expect((await s.invokeMethod(vsms, "DefineSystem", { SystemSettings: vssd, ResourceSettings: [rasd], ReferenceConfiguration: null })).ReturnValue).toBe(1);
    // Devices go to a VM that is off.
    await hv.requestStateChange(now, "Running");
    expect(await add({ __CLASS: "Msvm_ResourceAllocationSettingData", ResourceType: 17, ResourceSubType: "Microsoft:Hyper-V:Synthetic Disk Drive", Parent: controller, AddressOnParent: "1" })).toBe(5);
  });
});
