import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VhdxFormatError } from "../../../src/vhdx/errors";
import { windowsBaseName } from "../../../src/base/mod";
import { relativeLocatorPath, resolveParentPath } from "../../../src/vhdx/parent_path";

const root = mkdtempSync(path.join(tmpdir(), "hvb-pp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, "base"));
mkdirSync(path.join(root, "kids"));
writeFileSync(path.join(root, "base", "web01.vhdx"), "");
writeFileSync(path.join(root, "kids", "web01.vhdx"), "");
writeFileSync(path.join(root, "kids", "other.vhdx"), "");
const child = path.join(root, "kids", "web01_1.avhdx");
const LINK = "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}";

describe("resolveParentPath", () => {
  it("resolves a Windows-style relative_path against the child's folder", () => {
    expect(resolveParentPath(child, { parent_linkage: LINK, relative_path: "..\\base\\web01.vhdx" })).toBe(path.join(root, "base", "web01.vhdx"));
    expect(resolveParentPath(child, { parent_linkage: LINK, relative_path: ".\\other.vhdx" })).toBe(path.join(root, "kids", "other.vhdx"));
  });

  it("prefers relative_path over volume_path and absolute_win32_path", () => {
    const loc = { parent_linkage: LINK, relative_path: ".\\other.vhdx", absolute_win32_path: "\\\\?\\C:\\VMs\\web01.vhdx", volume_path: "\\\\?\\Volume{1}\\web01.vhdx" };
    expect(resolveParentPath(child, loc)).toBe(path.join(root, "kids", "other.vhdx"));
  });

  it("falls back to the file name of an absolute Windows path next to the child", () => {
    expect(resolveParentPath(child, { parent_linkage: LINK, relative_path: ".\\missing.vhdx", absolute_win32_path: "C:\\VMs\\web01.vhdx" })).toBe(path.join(root, "kids", "web01.vhdx"));
    expect(resolveParentPath(child, { parent_linkage: LINK, volume_path: "\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\VMs\\other.vhdx" })).toBe(path.join(root, "kids", "other.vhdx"));
  });

  it("tries volume_path before absolute_win32_path", () => {
    const loc = { parent_linkage: LINK, absolute_win32_path: "\\\\?\\C:\\web01.vhdx", volume_path: "\\\\?\\Volume{1}\\other.vhdx" };
    expect(resolveParentPath(child, loc)).toBe(path.join(root, "kids", "other.vhdx"));
  });

  it("fails naming the child, the structure and every path it tried", () => {
    let err: unknown;
    try {
      resolveParentPath(child, { parent_linkage: LINK, relative_path: "..\\gone\\p.vhdx", absolute_win32_path: "D:\\x\\q.vhdx" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VhdxFormatError);
    const e = err as VhdxFormatError;
    expect(e.code).toBe("VhdxParentNotFound");
    expect(e.structure).toBe("parent locator");
    expect(e.message).toContain(child);
    expect(e.message).toContain(path.join(root, "gone", "p.vhdx"));
    expect(e.message).toContain(path.join(root, "kids", "q.vhdx"));
    expect(e.message).toMatch(/--parent/);
  });
});

describe("path helpers", () => {
  it("converts separators and takes Windows base names", () => {

    expect(windowsBaseName("\\\\?\\C:\\VMs\\a.vhdx")).toBe("a.vhdx");
    expect(windowsBaseName("C:/VMs/b.vhdx")).toBe("b.vhdx");
  });

  it("writes relative_path values as Hyper-V does", () => {
    expect(relativeLocatorPath("/d/kids/c.avhdx", "/d/kids/p.vhdx")).toBe(".\\p.vhdx");
    expect(relativeLocatorPath("/d/kids/c.avhdx", "/d/base/p.vhdx")).toBe("..\\base\\p.vhdx");
  });
});

describe("long-prefixed Windows paths (shared with VHD via src/base/windows_path)", () => {
  it.skipIf(process.platform === "win32")("finds \\\\?\\UNC\\server\\share\\x.vhdx and \\\\?\\C:\\x.vhdx next to the child", () => {
    expect(resolveParentPath(child, { parent_linkage: LINK, absolute_win32_path: "\\\\?\\UNC\\server\\share\\other.vhdx" })).toBe(path.join(root, "kids", "other.vhdx"));
    expect(resolveParentPath(child, { parent_linkage: LINK, absolute_win32_path: "\\\\?\\C:\\other.vhdx" })).toBe(path.join(root, "kids", "other.vhdx"));
  });
});
