import { describe, expect, it } from "vitest";
import { METHODS } from "../../../src/lab/services/methods";
import { checkArguments, hasParameterList } from "../../../src/lab/services/method_parameters";

describe("method parameter lists", () => {
  it("declares the in-parameters of every emulated method (so unknown ones fail with Not found)", () => {
    const missing = Object.entries(METHODS).flatMap(([cls, methods]) => Object.keys(methods).filter((m) => !hasParameterList(cls, m)).map((m) => `${cls}.${m}`));
    expect(missing).toEqual([]);
  });

  it("matches parameter names without case, as WMI does", () => {
    expect(checkArguments("2022", "Msvm_VirtualSystemSnapshotService", "DestroySnapshot", { affectedsnapshot: "x" })).toEqual({ affectedsnapshot: "x" });
    expect(() => checkArguments("2022", "Msvm_VirtualSystemSnapshotService", "DestroySnapshot", { Snapshot: "x" })).toThrow(/Not found/);
  });
});
