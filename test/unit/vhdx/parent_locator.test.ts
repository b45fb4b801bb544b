import { describe, expect, it } from "vitest";
import { StructureError } from "../../../src/vhdx/errors";
import { type ParentLocatorEntries, parseParentLocator, serializeParentLocator } from "../../../src/vhdx/parent_locator";

const LOCATOR: ParentLocatorEntries = {
  parent_linkage: "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}",
  relative_path: "..\\base\\web01.vhdx",
  absolute_win32_path: "\\\\?\\C:\\VMs\\base\\web01.vhdx",
};

function parseError(item: Uint8Array): StructureError {
  try {
    parseParentLocator(item);
  } catch (e) {
    expect(e).toBeInstanceOf(StructureError);
    return e as StructureError;
  }
  throw new Error("parseParentLocator accepted an invalid locator");
}

function mutated(mutate: (b: Buffer) => void, entries = LOCATOR): Buffer {
  const b = Buffer.from(serializeParentLocator(entries));
  mutate(b);
  return b;
}

describe("parseParentLocator / serializeParentLocator", () => {
  it("round-trips keys and UTF-16LE values, including non-ASCII", () => {
    const withUnicode = { ...LOCATOR, volume_path: "\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\Übung\\ディスク.vhdx" };
    expect(parseParentLocator(serializeParentLocator(withUnicode))).toEqual(withUnicode);
  });

  it("writes the VHDX locator type, KeyValueCount and byte lengths", () => {
    const b = Buffer.from(serializeParentLocator(LOCATOR));
    expect(b.subarray(0, 16).toString("hex")).toBe("b7ef4ab09ed1814ab78925b8e9445913");
    expect(b.readUInt16LE(16)).toBe(0);
    expect(b.readUInt16LE(18)).toBe(3);
    const keyOffset = b.readUInt32LE(20);
    const keyLength = b.readUInt16LE(28);
    expect(b.toString("utf16le", keyOffset, keyOffset + keyLength)).toBe("parent_linkage");
    expect(keyLength).toBe(28);
  });

  it("rejects another locator type", () => {
    expect(parseError(mutated((b) => (b[0] = 0))).message).toMatch(/parent locator: LocatorType is .*, expected b04aefb7/);
  });

  it("rejects a KeyValueCount that does not fit the item", () => {
    expect(parseError(mutated((b) => b.writeUInt16LE(5000, 18))).message).toMatch(/KeyValueCount 5000 does not fit/);
  });

  it("rejects a key offset of 0, an odd length and a value past the item", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(0, 20))).message).toMatch(/parent locator entry 0: key at 0/);
    expect(parseError(mutated((b) => b.writeUInt16LE(27, 28))).message).toMatch(/entry 0: key .* odd/);
    expect(parseError(mutated((b) => b.writeUInt32LE(100000, 24))).message).toMatch(/entry 0: value at 100000 .* outside/);
  });

  it("rejects an item too short for its header", () => {
    expect(parseError(new Uint8Array(10)).message).toMatch(/too short/);
  });

  it("rejects a duplicate key", () => {
    // Point entry 1's key at entry 0's key.
    expect(parseError(mutated((b) => { b.writeUInt32LE(b.readUInt32LE(20), 32); b.writeUInt16LE(b.readUInt16LE(28), 40); })).message).toMatch(/key 'parent_linkage' appears twice/);
  });

  it("requires parent_linkage and at least one path", () => {
    expect(parseError(serializeParentLocator({ relative_path: ".\\a.vhdx" })).message).toMatch(/'parent_linkage' is missing/);
    expect(parseError(serializeParentLocator({ parent_linkage: LOCATOR.parent_linkage! })).message).toMatch(/no path key/);
  });
});
