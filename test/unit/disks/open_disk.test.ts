import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { detectDiskFormat, openDisk } from "../../../src/disks/open_disk";
import { createVhd } from "../../../src/vhd/mod";
import { createVhdx } from "../../../src/vhdx/mod";

const MiB = 1024 * 1024;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hvb-open-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("detectDiskFormat", () => {
  it("knows VHDX by its signature at offset 0, whatever the name", () => {
    const file = path.join(dir, "disk.bin");
    createVhdx(file, { virtualSize: 4 * MiB }).close();
    expect(detectDiskFormat(file)).toBe("vhdx");
  });

  it("knows a dynamic VHD by the footer copy at offset 0 and a fixed VHD by its trailing footer", () => {
    const dynamic = path.join(dir, "dynamic.vhd");
    const fixed = path.join(dir, "fixed.vhd");
    createVhd(dynamic, { virtualSize: 4 * MiB, type: "dynamic" });
    createVhd(fixed, { virtualSize: 4 * MiB, type: "fixed" });
    expect(detectDiskFormat(dynamic)).toBe("vhd");
    expect(detectDiskFormat(fixed)).toBe("vhd");
  });

  it("refuses anything else with DiskFormatUnknown, also files shorter than a footer", () => {
    const junk = path.join(dir, "junk.vhdx");
    const tiny = path.join(dir, "tiny.vhd");
    writeFileSync(junk, Buffer.alloc(64 * 1024, 0x5a));
    writeFileSync(tiny, "conec");
    for (const file of [junk, tiny]) {
      expect(() => detectDiskFormat(file)).toThrow(expect.objectContaining({ code: "DiskFormatUnknown", category: "InvalidData", target: file }));
    }
  });
});

describe("openDisk", () => {
  it("opens either format with the size it was created with", () => {
    const vhdx = path.join(dir, "a.vhdx");
    const vhd = path.join(dir, "a.vhd");
    createVhdx(vhdx, { virtualSize: 4 * MiB }).close();
    createVhd(vhd, { virtualSize: 2 * MiB, type: "dynamic" });
    for (const [file, size] of [[vhdx, 4 * MiB], [vhd, 2 * MiB]] as const) {
      const disk = openDisk(file);
      try {
        expect(disk.virtualSize).toBe(size);
      } finally {
        disk.close();
      }
    }
  });
});
