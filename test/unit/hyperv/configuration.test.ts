import { describe, expect, it } from "vitest";
import type { CimInstance } from "../../../src/cim/mod";
import { configurationFromParts, formatOfFile } from "../../../src/hyperv/configuration";
import { backupIntegrationFrom, vmStateOf } from "../../../src/hyperv/vm_queries";

function rasd(id: string, props: Record<string, unknown>): CimInstance {
  return { __CLASS: "Msvm_ResourceAllocationSettingData", __PATH: `Msvm_ResourceAllocationSettingData.InstanceID="${id}"`, InstanceID: id, ...props };
}
function sasd(id: string, props: Record<string, unknown>): CimInstance {
  return { __CLASS: "Msvm_StorageAllocationSettingData", __PATH: `Msvm_StorageAllocationSettingData.InstanceID="${id}"`, InstanceID: id, ...props };
}

describe("configurationFromParts", () => {
  const scsi0 = rasd("scsi0", { ResourceType: 6, ResourceSubType: "Microsoft:Hyper-V:Synthetic SCSI Controller" });
  const scsi1 = rasd("scsi1", { ResourceType: 6, ResourceSubType: "Microsoft:Hyper-V:Synthetic SCSI Controller" });
  const drive = (id: string, ctrl: CimInstance, address: number) => rasd(id, { ResourceType: 17, Parent: ctrl.__PATH, AddressOnParent: String(address) });
  const vhd = (id: string, d: CimInstance, file: string | null, subType = "Microsoft:Hyper-V:Virtual Hard Disk") =>
    sasd(id, { ResourceType: 31, ResourceSubType: subType, Parent: d.__PATH, HostResource: file === null ? [] : [file] });

  it("numbers disks by controller then address and keeps only virtual hard disks with a file", () => {
    const d10 = drive("d10", scsi1, 0);
    const d01 = drive("d01", scsi0, 1);
    const d00 = drive("d00", scsi0, 0);
    const dvd = rasd("dvd", { ResourceType: 16, Parent: scsi0.__PATH, AddressOnParent: "2" });
    const empty = drive("d02", scsi0, 3);
    const parts = [
      vhd("v10", d10, "E:\\b.VHDX"),
      vhd("iso", dvd, "E:\\setup.iso", "Microsoft:Hyper-V:Virtual CD/DVD Disk"),
      vhd("v01", d01, "E:\\a_1234.avhdx"),
      vhd("none", empty, null),
      vhd("v00", d00, "E:\\c.vhd"),
      scsi0,
      scsi1,
      d10,
      d01,
      d00,
      dvd,
      empty,
    ];
    const c = configurationFromParts(parts);
    expect(c.hasScsiController).toBe(true);
    expect(c.disks.map((d) => [d.index, d.controllerNumber, d.address, d.instanceId, d.format])).toEqual([
      [0, 0, 0, "v00", "vhd"],
      [1, 0, 1, "v01", "vhdx"],
      [2, 1, 0, "v10", "vhdx"],
    ]);
  });

  it("reports no SCSI controller when there is none", () => {
    expect(configurationFromParts([]).hasScsiController).toBe(false);
  });

  it("reads the disk format from the file name", () => {
    expect(["a.vhdx", "a.AVHDX", "a.vhd", "a.avhd", "a.iso"].map(formatOfFile)).toEqual(["vhdx", "vhdx", "vhd", "vhd", undefined]);
  });
});

describe("VM state and backup integration", () => {
  it("folds EnabledState into the states a backup distinguishes", () => {
    expect([2, 3, 6, 9, 32768, 4, 32773].map(vmStateOf)).toEqual(["Running", "Off", "Saved", "Paused", "Paused", "Other", "Other"]);
  });

  it("reads Msvm_VssComponent", () => {
    const vss = (props: Record<string, unknown>): CimInstance => ({ __CLASS: "Msvm_VssComponent", __PATH: "x", EnabledState: 2, ...props });
    expect(backupIntegrationFrom(undefined)).toBe("missing");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [2] }))).toBe("ok");
    expect(backupIntegrationFrom(vss({ OperationalStatus: ["2"] }))).toBe("ok");
    expect(backupIntegrationFrom(vss({ EnabledState: 3, OperationalStatus: [2] }))).toBe("missing");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [12] }))).toBe("missing");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [12] }), false)).toBe("unknown");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [3] }))).toBe("degraded");
    expect(backupIntegrationFrom(vss({ OperationalStatus: "garbage" }))).toBe("unknown");
  });
});
