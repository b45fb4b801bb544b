import { describe, expect, it } from "vitest";
import { batByteSize, checkBat, parseBat, serializeBat, serializeBatEntry } from "../../../src/vhd/bat";

describe("BAT", () => {
  it("parses big-endian sector numbers and 0xFFFFFFFF as unused", () => {
    const bytes = Buffer.from("00000007ffffffff00001008", "hex");
    expect(Array.from(parseBat(bytes, 3))).toEqual([7, 0xffffffff, 0x1008]);
  });

  it("serialises padded to a sector with 0xFF and round-trips", () => {
    const bat = Uint32Array.of(7, 0xffffffff, 0x1008);
    const bytes = serializeBat(bat);
    expect(bytes.length).toBe(512);
    expect(Buffer.from(bytes.subarray(0, 12)).toString("hex")).toBe("00000007ffffffff00001008");
    expect(bytes.subarray(12).every((x) => x === 0xff)).toBe(true);
    expect(parseBat(bytes, 3)).toEqual(bat);
    expect(Buffer.from(serializeBatEntry(0x1008)).toString("hex")).toBe("00001008");
    expect(batByteSize(129)).toBe(1024);
  });

  it("rejects a short buffer", () => {
    expect(() => parseBat(new Uint8Array(8), 3)).toThrow("BAT is 8 bytes, expected 12 for 3 entries");
  });

  const bounds = { blockBytes: 4608, reserved: [{ offset: 0, length: 2048 }], limit: 20000 };
  it("accepts blocks inside the file", () => {
    expect(() => checkBat(Uint32Array.of(4, 0xffffffff, 13), bounds)).not.toThrow();
  });
  it("rejects a block past the end of the file", () => {
    expect(() => checkBat(Uint32Array.of(4, 40), bounds)).toThrow("BAT entry 1 points at sector 0x28 (offset 20480)");
  });
  it("rejects a block over metadata", () => {
    expect(() => checkBat(Uint32Array.of(3), bounds)).toThrow("BAT entry 0 points at offset 1536, inside metadata at [0, 2048)");
  });
  it("rejects overlapping blocks", () => {
    expect(() => checkBat(Uint32Array.of(4, 10), bounds)).toThrow("two entries point at overlapping blocks at offsets 2048 and 5120");
  });
});
