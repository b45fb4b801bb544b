import { describe, expect, it } from "vitest";
import { readGuid, writeGuid, readU64, writeU64, decodeUtf16be, encodeUtf16be } from "../../../src/vhd/_be";
import { computeGeometry } from "../../../src/vhd/geometry";

describe("computeGeometry (VHD spec appendix)", () => {
  it("uses 17 sectors per track for small disks", () => {
    expect(computeGeometry(131072)).toEqual({ cylinders: 963, heads: 8, sectorsPerTrack: 17 });
  });
  it("moves to 31 and 63 sectors per track as disks grow", () => {
    expect(computeGeometry((200 * 1024 * 1024) / 512)).toEqual({ cylinders: 825, heads: 16, sectorsPerTrack: 31 });
    expect(computeGeometry((1024 * 1024 * 1024) / 512)).toEqual({ cylinders: 2080, heads: 16, sectorsPerTrack: 63 });
    expect(computeGeometry((4 * 1024 * 1024 * 1024) / 512)).toEqual({ cylinders: 8322, heads: 16, sectorsPerTrack: 63 });
  });
  it("caps at 65535 x 16 x 255", () => {
    expect(computeGeometry(1e12)).toEqual({ cylinders: 65535, heads: 16, sectorsPerTrack: 255 });
  });
  it("rounds down: C x H x S never exceeds the disk", () => {
    for (const mib of [1, 3, 64, 100, 127, 500, 2000, 40000]) {
      const total = (mib * 1024 * 1024) / 512;
      const g = computeGeometry(total);
      expect(g.cylinders * g.heads * g.sectorsPerTrack).toBeLessThanOrEqual(total);
    }
  });
});

describe("_be helpers", () => {
  it("keep GUIDs in RFC 4122 byte order", () => {
    const b = new Uint8Array(16);
    writeGuid(b, 0, "{12345678-9ABC-def0-0102-030405060708}");
    expect(Buffer.from(b).toString("hex")).toBe("123456789abcdef00102030405060708");
    expect(readGuid(b, 0)).toBe("12345678-9abc-def0-0102-030405060708");
    expect(() => writeGuid(b, 0, "nope")).toThrow("'nope' is not a GUID");
  });
  it("round-trip u64 and UTF-16BE", () => {
    const b = new Uint8Array(8);
    writeU64(b, 0, 0x123456789abcn);
    expect(readU64(b, 0)).toBe(0x123456789abcn);
    expect(decodeUtf16be(encodeUtf16be("a.vhd"))).toBe("a.vhd");
    expect(Buffer.from(encodeUtf16be("a"))).toEqual(Buffer.from([0, 0x61]));
  });
});
