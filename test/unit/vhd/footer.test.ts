import { describe, expect, it } from "vitest";
import { VhdStructureError } from "../../../src/vhd/_errors";
import { vhdChecksum } from "../../../src/vhd/checksum";
import { FOOTER_CHECKSUM_OFFSET, parseFooter, serializeFooter } from "../../../src/vhd/footer";

/** Footer of `qemu-img create -f vpc -o subformat=fixed,force_size=on qf.vhd 1M` (qemu 7.2). */
const QEMU_FIXED_FOOTER_HEX =
  "636f6e65637469780000000200010000ffffffffffffffff32973adf71656d32000500035769326b" +
  "00000000001000000000000000100000ffff10ff00000002ffffe4f992ca83ae8cfa4a0f9313c010cb45824f";

function fixture(): Uint8Array {
  const b = new Uint8Array(512);
  b.set(Buffer.from(QEMU_FIXED_FOOTER_HEX, "hex"));
  return b;
}

/** Rewrites the checksum so a mutation reaches the field check rather than the checksum check. */
function fixChecksum(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(FOOTER_CHECKSUM_OFFSET, vhdChecksum(b, FOOTER_CHECKSUM_OFFSET));
  return b;
}

describe("parseFooter", () => {
  it("decodes every field of a qemu fixed-disk footer", () => {
    expect(parseFooter(fixture())).toEqual({
      features: 2,
      formatVersion: 0x00010000,
      dataOffset: null,
      timestamp: 0x32973adf,
      creatorApplication: "qem2",
      creatorVersion: 0x00050003,
      creatorHostOs: "Wi2k",
      originalSize: 1048576,
      currentSize: 1048576,
      geometry: { cylinders: 65535, heads: 16, sectorsPerTrack: 255 },
      diskType: 2,
      uniqueId: "92ca83ae-8cfa-4a0f-9313-c010cb45824f",
      savedState: 0,
    });
  });

  it("round-trips the fixture byte for byte", () => {
    expect(Buffer.from(serializeFooter(parseFooter(fixture())))).toEqual(Buffer.from(fixture()));
  });

  it("round-trips a dynamic footer with a data offset", () => {
    const f = { ...parseFooter(fixture()), dataOffset: 512, diskType: 3, savedState: 1, features: 3 };
    expect(parseFooter(serializeFooter(f))).toEqual(f);
  });

  it("rejects a short buffer", () => {
    expect(() => parseFooter(new Uint8Array(511))).toThrow("footer is 511 bytes, expected 512");
  });

  it("rejects a bad cookie", () => {
    const b = fixture();
    b[0] = 0x43;
    expect(() => parseFooter(b)).toThrow("footer cookie is 'Conectix', expected 'conectix'");
  });

  it("rejects a bad checksum and names both values", () => {
    const b = fixture();
    b[100] = 1;
    expect(() => parseFooter(b)).toThrow("footer checksum is 0xffffe4f9, expected 0xffffe4f8");
  });

  it("rejects an unknown disk type", () => {
    const b = fixture();
    b[63] = 5;
    expect(() => parseFooter(fixChecksum(b))).toThrow("footer Disk Type is 5");
  });

  it("rejects a format version other than 1.x", () => {
    const b = fixture();
    b[13] = 2;
    expect(() => parseFooter(fixChecksum(b))).toThrow("footer File Format Version is 0x20000");
  });

  it("rejects an absurd current size", () => {
    const b = fixture();
    b.fill(0x7f, 48, 56);
    expect(() => parseFooter(fixChecksum(b))).toThrow(/footer Current Size is \d+ bytes, more than the VHD maximum/);
  });

  it("rejects a current size that is not whole sectors", () => {
    const b = fixture();
    b[55] = 1;
    expect(() => parseFooter(fixChecksum(b))).toThrow("footer Current Size 1048577 is not a multiple of 512");
  });

  it("rejects a dynamic disk without a data offset", () => {
    const b = fixture();
    b[63] = 3;
    expect(() => parseFooter(fixChecksum(b))).toThrow("footer Data Offset is 0xffffffffffffffff, but a dynamic disk needs a dynamic header");
  });

  it("rejects a data offset beyond 2^53", () => {
    const b = fixture();
    b[63] = 3;
    b.set([0x7f, 0, 0, 0, 0, 0, 0, 0], 16);
    expect(() => parseFooter(fixChecksum(b))).toThrow("footer Data Offset 0x7f00000000000000 is out of range");
  });

  it("throws VhdStructureError, which image code turns into a file-named HvbError", () => {
    expect(() => parseFooter(new Uint8Array(512))).toThrow(VhdStructureError);
  });
});

describe("vhdChecksum", () => {
  it("is the one's complement of the byte sum without the checksum field", () => {
    const b = new Uint8Array(512);
    b[0] = 1;
    b[64] = 0xff; // inside the field: ignored
    expect(vhdChecksum(b, 64)).toBe(0xfffffffe);
  });
});
