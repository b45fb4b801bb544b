import { describe, expect, it } from "vitest";
import { vhdChecksum } from "../../../src/vhd/checksum";
import { DYNAMIC_HEADER_CHECKSUM_OFFSET, type VhdDynamicHeader, parseDynamicHeader, serializeDynamicHeader } from "../../../src/vhd/dynamic_header";
import { EMPTY_LOCATOR } from "../../../src/vhd/parent_locator";

/** Dynamic header of `qemu-img create -f vpc -o subformat=dynamic,force_size=on qd.vhd 5M` (its first 40 bytes; the rest is zero). */
const QEMU_HEADER_HEX = "6378737061727365ffffffffffffffff0000000000000600000100000000000300200000fffff474";

function fixture(): Uint8Array {
  const b = new Uint8Array(1024);
  b.set(Buffer.from(QEMU_HEADER_HEX, "hex"));
  return b;
}

function fixChecksum(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(DYNAMIC_HEADER_CHECKSUM_OFFSET, vhdChecksum(b, DYNAMIC_HEADER_CHECKSUM_OFFSET));
  return b;
}

const EMPTY8 = Array.from({ length: 8 }, () => ({ ...EMPTY_LOCATOR }));

describe("parseDynamicHeader", () => {
  it("decodes a qemu dynamic header", () => {
    expect(parseDynamicHeader(fixture())).toEqual({
      tableOffset: 0x600,
      headerVersion: 0x00010000,
      maxTableEntries: 3,
      blockSize: 2 * 1024 * 1024,
      parentUniqueId: "00000000-0000-0000-0000-000000000000",
      parentTimestamp: 0,
      parentUnicodeName: "",
      parentLocators: EMPTY8,
    });
  });

  it("round-trips the fixture byte for byte", () => {
    expect(Buffer.from(serializeDynamicHeader(parseDynamicHeader(fixture())))).toEqual(Buffer.from(fixture()));
  });

  it("round-trips a differencing header with parent name and locators", () => {
    const h: VhdDynamicHeader = {
      tableOffset: 2560,
      headerVersion: 0x00010000,
      maxTableEntries: 32,
      blockSize: 512 * 1024,
      parentUniqueId: "01234567-89ab-cdef-0011-223344556677",
      parentTimestamp: 12345678,
      parentUnicodeName: "base disk é.vhd",
      parentLocators: [
        { platformCode: "W2ru", platformDataSpace: 1, platformDataLength: 24, platformDataOffset: 1536 },
        { platformCode: "W2ku", platformDataSpace: 1, platformDataLength: 40, platformDataOffset: 2048 },
        ...EMPTY8.slice(2),
      ],
    };
    const bytes = serializeDynamicHeader(h);
    expect(parseDynamicHeader(bytes)).toEqual(h);
    // The name is UTF-16 big-endian at offset 64.
    expect(Buffer.from(bytes.subarray(64, 68))).toEqual(Buffer.from([0, 0x62, 0, 0x61]));
  });

  it("rejects a bad cookie", () => {
    const b = fixture();
    b[1] = 0;
    expect(() => parseDynamicHeader(b)).toThrow("dynamic header cookie is 'c?sparse', expected 'cxsparse'");
  });

  it("rejects a bad checksum", () => {
    const b = fixture();
    b[900] = 3;
    expect(() => parseDynamicHeader(b)).toThrow("dynamic header checksum is 0xfffff474, expected 0xfffff471");
  });

  it("rejects a short buffer", () => {
    expect(() => parseDynamicHeader(new Uint8Array(100))).toThrow("dynamic header is 100 bytes, expected 1024");
  });

  it("rejects a block size that is not a power of two", () => {
    const b = fixture();
    b.set([0, 0x20, 0, 1], 32);
    expect(() => parseDynamicHeader(fixChecksum(b))).toThrow("dynamic header Block Size is 2097153");
  });

  it("rejects a block size above 256 MiB", () => {
    const b = fixture();
    b.set([0x20, 0, 0, 0], 32);
    expect(() => parseDynamicHeader(fixChecksum(b))).toThrow("dynamic header Block Size is 536870912");
  });

  it("rejects an absurd number of BAT entries", () => {
    const b = fixture();
    b.set([0xff, 0xff, 0xff, 0xff], 28);
    expect(() => parseDynamicHeader(fixChecksum(b))).toThrow("dynamic header Max Table Entries is 4294967295");
  });

  it("rejects another header version", () => {
    const b = fixture();
    b[25] = 2;
    expect(() => parseDynamicHeader(fixChecksum(b))).toThrow("dynamic header Header Version is 0x20000");
  });

  it("rejects a table offset beyond 2^53", () => {
    const b = fixture();
    b[16] = 0x40;
    expect(() => parseDynamicHeader(fixChecksum(b))).toThrow("dynamic header Table Offset 0x4000000000000600 is out of range");
  });
});
