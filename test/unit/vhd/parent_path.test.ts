import * as nodePath from "node:path";
import { describe, expect, it } from "vitest";
import type { VhdDynamicHeader } from "../../../src/vhd/dynamic_header";
import { EMPTY_LOCATOR, encodeLocatorPath } from "../../../src/vhd/parent_locator";
import { parentCandidates, relativeWindowsPath, windowsPathToLocal } from "../../../src/vhd/parent_path";

describe("windowsPathToLocal", () => {
  it("resolves relative paths against the child's folder", () => {
    expect(windowsPathToLocal(".\\base.vhd", "/vms/a", "linux")).toEqual(["/vms/a/base.vhd"]);
    expect(windowsPathToLocal("..\\b\\base.vhd", "/vms/a", "linux")).toEqual(["/vms/b/base.vhd"]);
    expect(windowsPathToLocal("base.vhd", "/vms/a", "linux")).toEqual(["/vms/a/base.vhd"]);
  });
  it("maps absolute drive paths to the same name next to the child off Windows", () => {
    expect(windowsPathToLocal("C:\\Hyper-V\\Disks\\base.vhd", "/vms/a", "linux")).toEqual(["/vms/a/base.vhd"]);
    expect(windowsPathToLocal("\\\\?\\C:\\x\\base.vhd", "/vms/a", "linux")).toEqual(["/vms/a/base.vhd"]);
  });
  it("keeps absolute paths on Windows, with the name next to the child as a fallback", () => {
    expect(windowsPathToLocal("C:\\x\\base.vhd", "D:\\vms", "win32")[0]).toBe("C:\\x\\base.vhd");
  });
  it("tries a rooted path without drive as a POSIX path first", () => {
    expect(windowsPathToLocal("\\tmp\\x\\base.vhd", "/vms/a", "linux")).toEqual(["/tmp/x/base.vhd", "/vms/a/base.vhd"]);
  });
});

describe("relativeWindowsPath", () => {
  it("writes .\\name for a sibling and ..\\ paths otherwise", () => {
    expect(relativeWindowsPath("/vms/a/child.avhd", "/vms/a/base.vhd")).toBe(".\\base.vhd");
    expect(relativeWindowsPath("/vms/a/child.avhd", "/vms/b/base.vhd")).toBe("..\\b\\base.vhd");
  });
});

describe("parentCandidates", () => {
  it("orders W2ru, then W2ku, then the parent name, without duplicates", () => {
    const data = [encodeLocatorPath("C:\\VMs\\base.vhd"), encodeLocatorPath(".\\sub\\base.vhd")];
    const header: VhdDynamicHeader = {
      tableOffset: 0,
      headerVersion: 0x10000,
      maxTableEntries: 1,
      blockSize: 2097152,
      parentUniqueId: "00000000-0000-0000-0000-000000000000",
      parentTimestamp: 0,
      parentUnicodeName: "base.vhd",
      parentLocators: [
        { platformCode: "W2ku", platformDataSpace: 1, platformDataLength: data[0]!.length, platformDataOffset: 0 },
        { platformCode: "W2ru", platformDataSpace: 1, platformDataLength: data[1]!.length, platformDataOffset: 1 },
        ...Array.from({ length: 6 }, () => ({ ...EMPTY_LOCATOR })),
      ],
    };
    const got = parentCandidates("/vms/child.avhd", header, (e) => data[e.platformDataOffset]!, "linux");
    expect(got.map((c) => c.path)).toEqual([nodePath.resolve("/vms/sub/base.vhd"), "/vms/base.vhd"]);
    expect(got[0]!.source).toBe("W2ru locator '.\\sub\\base.vhd'");
    expect(got[1]!.source).toBe("W2ku locator 'C:\\VMs\\base.vhd'");
  });
});

describe("long-prefixed Windows paths (shared with VHDX via src/base/windows_path)", () => {
  it("maps \\\\?\\UNC\\server\\share\\x.vhdx and \\\\?\\C:\\x.vhdx next to the child off Windows", () => {
    expect(windowsPathToLocal("\\\\?\\UNC\\server\\share\\x.vhdx", "/vms", "linux")).toEqual(["/vms/x.vhdx"]);
    expect(windowsPathToLocal("\\\\?\\C:\\x.vhdx", "/vms", "linux")).toEqual(["/vms/x.vhdx"]);
  });
});
