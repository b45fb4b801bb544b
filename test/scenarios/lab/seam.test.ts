/** Object paths and the WQL subset as the lab parses them; the seam's behaviours themselves are asserted once, for every implementation, in test/contracts. */
import { describe, expect, it } from "vitest";
import { buildObjectPath, parseObjectPath, sameObjectPath } from "../../../src/cim/mod";
import { matchesWhere, parseWql } from "../../../src/cim/mod";

describe("object paths", () => {
  it("builds the WMI text form with sorted keys and escaped strings", () => {
    const p = buildObjectPath({
      host: "HOST",
      namespace: "root\\virtualization\\v2",
      className: "Msvm_ComputerSystem",
      keys: { Name: "ABC", CreationClassName: "Msvm_ComputerSystem" },
    });
    expect(p).toBe('\\\\HOST\\root\\virtualization\\v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="ABC"');
  });

  it("round-trips values holding backslashes, quotes, colons and commas", () => {
    const keys = { InstanceID: 'Microsoft:A\\B\\0\\0\\D', Odd: 'say "hi", ok' };
    const text = buildObjectPath({ host: "H", namespace: "root\\virtualization\\v2", className: "X", keys });
    const back = parseObjectPath(text);
    expect(back).toEqual({ host: "H", namespace: "root\\virtualization\\v2", className: "X", keys });
  });

  it("parses relative paths, numbers and booleans", () => {
    expect(parseObjectPath("Msvm_ConcreteJob.InstanceID=\"J\"")).toEqual({ host: undefined, namespace: undefined, className: "Msvm_ConcreteJob", keys: { InstanceID: "J" } });
    expect(parseObjectPath("root\\cimv2:C.A=5,B=TRUE").keys).toEqual({ A: 5, B: true });
  });

  it("compares paths without regard to case or server name", () => {
    expect(sameObjectPath('\\\\A\\root\\virtualization\\v2:Msvm_X.Name="abc"', '\\\\B\\ROOT\\virtualization\\V2:msvm_x.name="ABC"')).toBe(true);
    expect(sameObjectPath('Msvm_X.Name="abc"', 'Msvm_X.Name="abd"')).toBe(false);
  });

  it("rejects malformed paths with a message naming the problem", () => {
    expect(() => parseObjectPath('Msvm_X.Name="abc')).toThrow(/unterminated/);
    expect(() => parseObjectPath("Msvm_X.Name=abc")).toThrow(/neither quoted nor a number/);
    expect(() => parseObjectPath("\\\\HOST")).toThrow(/namespace/);
  });
});

describe("WQL subset", () => {
  it("parses SELECT * with AND-joined conditions", () => {
    const q = parseWql("select * from Msvm_VirtualSystemSettingData where VirtualSystemType = 'Microsoft:Hyper-V:Snapshot:Recovery' AND VirtualSystemIdentifier=\"X\"");
    expect(q.className).toBe("Msvm_VirtualSystemSettingData");
    expect(q.where).toEqual([
      { property: "VirtualSystemType", op: "=", value: "Microsoft:Hyper-V:Snapshot:Recovery" },
      { property: "VirtualSystemIdentifier", op: "=", value: "X" },
    ]);
  });

  it("matches strings without case, numbers numerically and IS NULL", () => {
    const inst = { ElementName: "Web01", EnabledState: 2, Parent: null };
    expect(matchesWhere(inst, parseWql("SELECT * FROM C WHERE elementname='web01'").where)).toBe(true);
    expect(matchesWhere(inst, parseWql("SELECT * FROM C WHERE EnabledState >= 2 AND EnabledState <> 3").where)).toBe(true);
    expect(matchesWhere(inst, parseWql("SELECT * FROM C WHERE EnabledState = 3").where)).toBe(false);
    expect(matchesWhere(inst, parseWql("SELECT * FROM C WHERE Parent IS NULL").where)).toBe(true);
    expect(matchesWhere(inst, parseWql("SELECT * FROM C WHERE Parent IS NOT NULL").where)).toBe(false);
  });

  it("refuses what the subset does not support instead of misreading it", () => {
    expect(() => parseWql("SELECT * FROM C WHERE A=1 OR B=2")).toThrow(/OR is not supported/);
    expect(() => parseWql("SELECT * FROM C WHERE A LIKE 'x%'")).toThrow(/LIKE is not supported/);
    expect(() => parseWql("SELECT * C")).toThrow(/expected FROM/);
    expect(() => parseWql("SELECT * FROM C WHERE A='x")).toThrow(/unterminated/);
  });
});
