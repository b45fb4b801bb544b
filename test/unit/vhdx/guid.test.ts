import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { NIL_GUID, isGuid, newGuid, normalizeGuid, readGuid, writeGuid } from "../../../src/vhdx/guid";

describe("guid", () => {
  it("stores Data1-3 little-endian and Data4 as raw bytes (Python uuid bytes_le)", () => {
    const b = new Uint8Array(16);
    writeGuid(b, 0, "00112233-4455-6677-8899-aabbccddeeff");
    expect(Buffer.from(b).toString("hex")).toBe("33221100554477668899aabbccddeeff");
    expect(readGuid(b, 0)).toBe("00112233-4455-6677-8899-aabbccddeeff");
  });

  it("agrees with Python's uuid.UUID(...).bytes_le for random GUIDs", () => {
    const guids = Array.from({ length: 16 }, () => newGuid());
    const script = "import sys,uuid\nfor g in sys.argv[1:]: print(uuid.UUID(g).bytes_le.hex())";
    const lines = execFileSync("/usr/bin/python3", ["-c", script, ...guids], { encoding: "utf8" }).trim().split("\n");
    guids.forEach((g, i) => {
      const b = new Uint8Array(20);
      writeGuid(b, 2, g);
      expect(Buffer.from(b.subarray(2, 18)).toString("hex")).toBe(lines[i]);
      expect(readGuid(Buffer.from(lines[i]!, "hex"), 0)).toBe(g);
    });
  });

  it("accepts braces and upper case, and normalises to lowercase without braces", () => {
    expect(normalizeGuid("{83ED0EC3-24C8-49A6-A959-5E4BF1288BFB}")).toBe("83ed0ec3-24c8-49a6-a959-5e4bf1288bfb");
    expect(isGuid("{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}")).toBe(true);
    const b = new Uint8Array(16);
    writeGuid(b, 0, "{83ED0EC3-24C8-49A6-A959-5E4BF1288BFB}");
    expect(readGuid(b, 0)).toBe("83ed0ec3-24c8-49a6-a959-5e4bf1288bfb");
  });

  it("rejects text that is not a GUID", () => {
    expect(isGuid("83ed0ec3-24c8-49a6-a959")).toBe(false);
    expect(() => normalizeGuid("nope")).toThrow(/not a GUID/);
    expect(() => writeGuid(new Uint8Array(16), 0, "zz")).toThrow(/not a GUID/);
  });

  it("reads the all-zero GUID as NIL_GUID", () => {
    expect(readGuid(new Uint8Array(16), 0)).toBe(NIL_GUID);
  });
});
