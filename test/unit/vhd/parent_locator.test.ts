import { describe, expect, it } from "vitest";
import { decodeLocatorPath, encodeLocatorPath, parseParentLocatorEntry, serializeParentLocatorEntry } from "../../../src/vhd/parent_locator";

/** W2ru entry: 1 sector reserved, 22 bytes of data at offset 0x600. */
const ENTRY_HEX = "57327275" + "00000001" + "00000016" + "00000000" + "0000000000000600";

describe("parent locator entry", () => {
  it("decodes a literal entry", () => {
    expect(parseParentLocatorEntry(Buffer.from(ENTRY_HEX, "hex"))).toEqual({
      platformCode: "W2ru",
      platformDataSpace: 1,
      platformDataLength: 22,
      platformDataOffset: 0x600,
    });
  });

  it("round-trips byte for byte", () => {
    const bytes = Buffer.from(ENTRY_HEX, "hex");
    expect(Buffer.from(serializeParentLocatorEntry(parseParentLocatorEntry(bytes)))).toEqual(bytes);
  });

  it("decodes code 0 as an empty entry", () => {
    expect(parseParentLocatorEntry(new Uint8Array(24)).platformCode).toBe("");
    expect(Buffer.from(serializeParentLocatorEntry(parseParentLocatorEntry(new Uint8Array(24))))).toEqual(Buffer.alloc(24));
  });

  it("rejects a short buffer and an offset beyond 2^53", () => {
    expect(() => parseParentLocatorEntry(new Uint8Array(23), 2)).toThrow("parent locator 3 is 23 bytes, expected 24");
    const b = Buffer.from(ENTRY_HEX, "hex");
    b[16] = 0xff;
    expect(() => parseParentLocatorEntry(b)).toThrow("parent locator 1 Platform Data Offset 0xff00000000000600 is out of range");
  });
});

describe("locator data", () => {
  it("decodes UTF-16LE W2ru/W2ku paths (as Windows writes them)", () => {
    expect(decodeLocatorPath("W2ru", encodeLocatorPath(".\\base.vhd"))).toBe(".\\base.vhd");
    expect(decodeLocatorPath("W2ku", Buffer.from("C:\\VMs\\base.vhd\0", "utf16le"))).toBe("C:\\VMs\\base.vhd");
  });

  it("also accepts UTF-16BE paths", () => {
    const be = Buffer.from("C:\\b.vhd", "utf16le").swap16();
    expect(decodeLocatorPath("W2ku", be)).toBe("C:\\b.vhd");
  });

  it("decodes MacX file URLs and ignores unknown codes", () => {
    expect(decodeLocatorPath("MacX", Buffer.from("file:///Users/a/b%20c.vhd"))).toBe("/Users/a/b c.vhd");
    expect(decodeLocatorPath("Mac ", Buffer.from("alias"))).toBeUndefined();
  });
});
