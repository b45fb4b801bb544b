import { describe, expect, it } from "vitest";
import { volumeRootOf } from "../../../src/hyperv/volumes";

describe("volumeRootOf", () => {
  const volumes = [{ name: "C:\\" }, { name: "C:\\ClusterStorage\\Volume1\\" }, { name: "D:\\" }];

  it("takes the longest volume a path lies on, without case", () => {
    expect(volumeRootOf("C:\\ClusterStorage\\Volume1\\vms\\a.vhdx", volumes)).toBe("C:\\ClusterStorage\\Volume1\\");
    expect(volumeRootOf("c:\\clusterstorage\\volume1\\VMs\\a.vhdx", volumes)).toBe("C:\\ClusterStorage\\Volume1\\");
    expect(volumeRootOf("C:\\Hyper-V\\a.vhdx", volumes)).toBe("C:\\");
    expect(volumeRootOf("D:/vms/a.vhdx", volumes)).toBe("D:\\");
  });

  it("does not take a folder whose name merely starts like a volume's", () => {
    expect(volumeRootOf("C:\\ClusterStorage\\Volume10\\a.vhdx", volumes)).toBe("C:\\");
    expect(volumeRootOf("/lab/volumes/V10/a.vhdx", [{ name: "/lab/" }, { name: "/lab/volumes/V1/" }])).toBe("/lab/");
  });

  it("without a listed volume, says what the path itself names", () => {
    expect(volumeRootOf("E:\\ClusterStorage\\Data\\x.vhdx", [])).toBe("E:\\ClusterStorage\\Data\\");
    expect(volumeRootOf("\\\\?\\Volume{1234}\\vms\\x.vhdx", [])).toBe("\\\\?\\Volume{1234}\\");
    expect(volumeRootOf("\\\\filer\\vmstore\\x.vhdx", [])).toBe("\\\\filer\\vmstore\\");
    expect(volumeRootOf("F:\\x.vhdx", [])).toBe("F:\\");
    expect(volumeRootOf("/tmp/x.vhdx", [])).toBe("/");
  });
});

describe("shadowPathOf", () => {
  it("puts a file below its volume root under the shadow copy's device object", async () => {
    const { shadowPathOf } = await import("../../../src/hyperv/shadow_copies");
    const dev = "\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy7";
    expect(shadowPathOf("C:\\ClusterStorage\\Volume1\\vms\\a.avhdx", { volume: "C:\\ClusterStorage\\Volume1\\", deviceObject: dev })).toBe(`${dev}\\vms\\a.avhdx`);
    expect(shadowPathOf("c:\\VMs\\b.vhdx", { volume: "C:\\", deviceObject: dev })).toBe(`${dev}\\VMs\\b.vhdx`);
    expect(shadowPathOf("/lab/volumes/V1/vms/x/d.vhdx", { volume: "/lab/volumes/V1/", deviceObject: "/lab/shadows/S" })).toBe("/lab/shadows/S/vms/x/d.vhdx");
    expect(() => shadowPathOf("D:\\x.vhdx", { volume: "C:\\", deviceObject: dev })).toThrow(/not on volume/);
  });
});
