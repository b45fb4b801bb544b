import { describe, expect, it } from "vitest";
import { isDrivePath, isRootedWindowsPath, isUncPath, relativeWindowsPath, stripLongPathPrefix, windowsBaseName, windowsPathParts } from "../../../src/base/mod";

describe("windows_path", () => {
  it("strips the \\\\?\\ and \\\\?\\UNC\\ prefixes", () => {
    expect(stripLongPathPrefix("\\\\?\\UNC\\server\\share\\x.vhdx")).toBe("\\\\server\\share\\x.vhdx");
    expect(stripLongPathPrefix("\\\\?\\C:\\x.vhdx")).toBe("C:\\x.vhdx");
    expect(stripLongPathPrefix(".\\x.vhdx")).toBe(".\\x.vhdx");
  });

  it("splits, names and classifies paths", () => {
    expect(windowsPathParts("\\\\?\\C:\\VMs\\a.vhdx")).toEqual(["C:", "VMs", "a.vhdx"]);
    expect(windowsBaseName("\\\\?\\UNC\\server\\share\\x.vhdx")).toBe("x.vhdx");
    expect(windowsBaseName("C:/VMs/b.vhdx")).toBe("b.vhdx");
    expect(windowsBaseName("")).toBe("");
    expect(isDrivePath("\\\\?\\C:\\x.vhdx")).toBe(true);
    expect(isDrivePath("\\\\?\\UNC\\server\\share\\x.vhdx")).toBe(false);
    expect(isUncPath("\\\\?\\UNC\\server\\share\\x.vhdx")).toBe(true);
    expect(isRootedWindowsPath("\\\\?\\C:\\x.vhdx")).toBe(true);
    expect(isRootedWindowsPath("..\\d\\x.vhdx")).toBe(false);
  });

  it("writes relative paths as Hyper-V does", () => {
    expect(relativeWindowsPath("/d/kids/c.avhdx", "/d/kids/p.vhdx")).toBe(".\\p.vhdx");
    expect(relativeWindowsPath("/d/kids/c.avhdx", "/d/base/p.vhdx")).toBe("..\\base\\p.vhdx");
  });
});
