import { describe, expect, it } from "vitest";
import { diskBaseName, isPointId, pointId, resolveInside, vmFolderName } from "../../../src/repository/mod";

describe("layout", () => {
  it("point ids sort by time and round-trip isPointId", () => {
    const a = pointId(new Date("2026-11-23T18:00:00.123Z"), "full");
    const b = pointId(new Date("2026-11-23T18:00:01.000Z"), "incremental");
    expect(a).toBe("20261123T180000.123Z-full");
    expect(b).toBe("20261123T180001.000Z-incr");
    expect(a < b).toBe(true);
    expect(isPointId(a) && isPointId(b)).toBe(true);
    expect(isPointId("../x")).toBe(false);
  });
  it("vm folders and disk names are file-safe", () => {
    expect(vmFolderName("a/b:c", "ABC")).toBe("a_b_c_abc");
    expect(vmFolderName("..x", "1")).toBe("_x_1");
    expect(diskBaseName("C:\\VMs\\web01.vhdx", 0)).toBe("00-web01");
    expect(diskBaseName("/x/web 01_12345678-1234-1234-1234-123456789abc.avhdx", 3)).toBe("03-web_01");
    expect(diskBaseName("", 1)).toBe("01-disk");
  });
  it("resolveInside refuses escapes", () => {
    expect(resolveInside("/r", "a/b", "t")).toBe("/r/a/b");
    for (const bad of ["../x", "/etc", "C:x", "a//b", ""]) {
      expect(() => resolveInside("/r", bad, "t")).toThrow();
    }
  });
});
