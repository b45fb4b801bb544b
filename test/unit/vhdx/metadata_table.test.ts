import { describe, expect, it } from "vitest";
import { StructureError } from "../../../src/vhdx/errors";
import { type MetadataEntry, parseMetadataTable, serializeMetadataTable } from "../../../src/vhdx/metadata_table";
import { META_FILE_PARAMETERS, META_VIRTUAL_DISK_SIZE, METADATA_TABLE_SIZE, MiB } from "../../../src/vhdx/_layout";

const ENTRIES: MetadataEntry[] = [
  { itemId: META_FILE_PARAMETERS, offset: 0x10000, length: 8, isUser: false, isVirtualDisk: false, isRequired: true },
  { itemId: META_VIRTUAL_DISK_SIZE, offset: 0x10008, length: 8, isUser: false, isVirtualDisk: true, isRequired: true },
  { itemId: "01234567-89ab-cdef-0123-456789abcdef", offset: 0, length: 0, isUser: true, isVirtualDisk: false, isRequired: false },
];

function mutated(mutate: (b: Buffer) => void): Buffer {
  const b = Buffer.from(serializeMetadataTable(ENTRIES));
  mutate(b);
  return b;
}

function parseError(block: Uint8Array, regionLength = MiB): StructureError {
  try {
    parseMetadataTable(block, regionLength);
  } catch (e) {
    expect(e).toBeInstanceOf(StructureError);
    return e as StructureError;
  }
  throw new Error("parseMetadataTable accepted an invalid table");
}

describe("parseMetadataTable / serializeMetadataTable", () => {
  it("round-trips entries and their three flags", () => {
    const block = serializeMetadataTable(ENTRIES);
    expect(block.length).toBe(METADATA_TABLE_SIZE);
    expect(parseMetadataTable(block, MiB)).toEqual(ENTRIES);
  });

  it("writes the flags as qemu does (file parameters 0b100, virtual disk items 0b110)", () => {
    const b = Buffer.from(serializeMetadataTable(ENTRIES));
    expect(b.toString("latin1", 0, 8)).toBe("metadata");
    expect(b.readUInt16LE(10)).toBe(3);
    expect(b.readUInt32LE(32 + 24)).toBe(0b100);
    expect(b.readUInt32LE(64 + 24)).toBe(0b110);
    expect(b.readUInt32LE(96 + 24)).toBe(0b001);
  });

  it("rejects a flipped signature", () => {
    expect(parseError(mutated((b) => (b[7] = 0x41))).message).toMatch(/metadata table: signature is 'metadatA'/);
  });

  it("rejects an EntryCount above 2047", () => {
    expect(parseError(mutated((b) => b.writeUInt16LE(2048, 10))).message).toMatch(/EntryCount 2048 exceeds 2047/);
  });

  it("rejects an item longer than 1 MiB", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(MiB + 1, 32 + 20))).message).toMatch(/Length 1048577 exceeds 1 MiB/);
  });

  it("rejects an empty item with a non-zero offset", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(0x10000, 96 + 16))).message).toMatch(/Length is 0 but Offset is 65536/);
  });

  it("rejects an item inside the table or past the end of the region", () => {
    expect(parseError(mutated((b) => b.writeUInt32LE(0x100, 32 + 16))).message).toMatch(/entry 0 .* lies outside the metadata region/);
    expect(parseError(mutated((b) => b.writeUInt32LE(MiB - 4, 64 + 16))).message).toMatch(/entry 1 .* lies outside/);
    expect(parseError(serializeMetadataTable(ENTRIES), 0x10008).message).toMatch(/entry 1 .* outside the metadata region \(64 KiB\.\.65544\)/);
  });

  it("rejects the same (ItemId, IsUser) twice but allows a user item with a system id", () => {
    expect(parseError(mutated((b) => b.copy(b, 64, 32, 48))).message).toMatch(/item appears twice/);
    const same = serializeMetadataTable([ENTRIES[0]!, { ...ENTRIES[0]!, isUser: true, offset: 0x10020 }]);
    expect(parseMetadataTable(same, MiB)).toHaveLength(2);
  });

  it("rejects a short block", () => {
    expect(parseError(new Uint8Array(32)).message).toMatch(/got 32 bytes/);
  });
});
