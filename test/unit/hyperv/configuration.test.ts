import { describe, expect, it } from "vitest";
import type { CimInstance } from "../../../src/cim/mod";
import { configurationFromParts, formatOfFile, locationOfInstanceId } from "../../../src/hyperv/configuration";
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

  it("keeps shared disks apart: a .vhds is a VHD Set whatever its SASD says, a VHDX with PersistentReservationsSupported a shared VHDX; neither is ever a disk", () => {
    const d0 = drive("d0", scsi0, 0);
    const d1 = drive("d1", scsi0, 1);
    const d2 = drive("d2", scsi0, 2);
    const parts = [
      scsi0,
      d0,
      d1,
      d2,
      vhd("own", d0, "E:\\own.vhdx"),
      { ...vhd("set", d1, "C:\\ClusterStorage\\Volume1\\Quorum.VHDS"), SnapshotId: "{6C87351A-A39A-4581-B231-6D693B26485D}" },
      { ...vhd("old", d2, "E:\\shared.vhdx"), PersistentReservationsSupported: true },
    ];
    const c = configurationFromParts(parts);
    expect(c.disks.map((d) => d.instanceId)).toEqual(["own"]);
    expect(c.sharedDisks.map((d) => [d.instanceId, d.kind, d.address, d.snapshotId])).toEqual([
      ["set", "vhdset", 1, "{6C87351A-A39A-4581-B231-6D693B26485D}"],
      ["old", "shared-vhdx", 2, undefined],
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
    // Issue 13 A11: 3 is healthy (negotiated compatible protocol), 13 is lost communication.
    expect(backupIntegrationFrom(vss({ OperationalStatus: [3] }))).toBe("ok");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [13] }))).toBe("missing");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [13] }), false)).toBe("unknown");
    expect(backupIntegrationFrom(vss({ OperationalStatus: [6] }))).toBe("degraded");
    expect(backupIntegrationFrom(vss({ OperationalStatus: "garbage" }))).toBe("unknown");
  });
});

describe("disk identity by location (issue 13 A1)", () => {
  // Real-host InstanceID shapes: `Microsoft:<config>\<controller GUID>\0\<lun>\L` for SCSI.
  const parts = (config: string): CimInstance[] => {
    const ctl = (guid: string) => rasd(`Microsoft:${config}\\${guid}`, { ResourceType: 6, ResourceSubType: "Microsoft:Hyper-V:Synthetic SCSI Controller", Address: "" });
    const c0 = ctl("AAAA0000-0000-0000-0000-000000000001");
    const c1 = ctl("BBBB0000-0000-0000-0000-000000000002");
    const out: CimInstance[] = [c0, c1];
    for (const [c, guid, lun, file] of [[c0, "AAAA0000-0000-0000-0000-000000000001", 0, "a"], [c1, "BBBB0000-0000-0000-0000-000000000002", 0, "b"], [c1, "BBBB0000-0000-0000-0000-000000000002", 1, "c"]] as const) {
      const d = rasd(`Microsoft:${config}\\${guid}\\0\\${lun}\\D`, { ResourceType: 17, Parent: c.__PATH, AddressOnParent: String(lun) });
      out.push(d, sasd(`Microsoft:${config}\\${guid}\\0\\${lun}\\L`, { ResourceType: 31, ResourceSubType: "Microsoft:Hyper-V:Virtual Hard Disk", Parent: d.__PATH, HostResource: [`E:\\${file}.vhdx`] }));
    }
    return out;
  };
  const permutations = <T>(xs: T[], seed: number): T[] => {
    const out = [...xs];
    let s = seed;
    for (let i = out.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };

  it("reads the location from an InstanceID, case-insensitively, for the disk and its drive alike", () => {
    expect(locationOfInstanceId("Microsoft:1C2B\\83F8638B-8DCA-4152-9EDA-2CA8B33039B4\\1\\0\\L")).toBe("83f8638b-8dca-4152-9eda-2ca8b33039b4\\1\\0");
    expect(locationOfInstanceId("microsoft:9F\\83F8638B-8DCA-4152-9EDA-2CA8B33039B4\\1\\0\\D")).toBe("83f8638b-8dca-4152-9eda-2ca8b33039b4\\1\\0");
    expect(locationOfInstanceId("v00")).toBeUndefined();
    expect(locationOfInstanceId("Microsoft:ABC")).toBeUndefined();
  });

  it("numbers and locates disks the same whatever order the host lists the parts in", () => {
    const want = configurationFromParts(parts("VM")).disks.map((d) => [d.index, d.location, d.hostResource, d.controllerNumber]);
    expect(want.map((w) => w[2])).toEqual(["E:\\a.vhdx", "E:\\b.vhdx", "E:\\c.vhdx"]);
    for (let seed = 1; seed < 40; seed++) {
      expect(configurationFromParts(permutations(parts("VM"), seed)).disks.map((d) => [d.index, d.location, d.hostResource, d.controllerNumber])).toEqual(want);
    }
    // A checkpoint's configuration has other InstanceID prefixes but the same locations.
    const cp = configurationFromParts(permutations(parts("CHECKPOINT"), 3)).disks;
    expect(cp.map((d) => d.location)).toEqual(want.map((w) => w[1]));
  });
});
