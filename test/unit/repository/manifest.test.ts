import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, readManifest, writeManifest } from "../../../src/repository/mod";
import { tempFolder } from "./_tmp";

const manifest: Manifest = {
  format: MANIFEST_FORMAT,
  version: MANIFEST_VERSION,
  pointId: "20261123T180000.123Z-full",
  vmId: "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41",
  vmName: "v",
  time: "2026-11-23T18:00:00.123Z",
  kind: "full",
  parentId: null,
  disks: [{ index: 0, file: "Virtual Hard Disks/00-a.vhdx", virtualSize: 4096, unitSize: 2097152, units: { "0": "a".repeat(64) } }],
  configuration: [{ file: "Virtual Machines/x.vmcx", size: 1, sha256: "e".repeat(64) }],
};

describe("manifest", () => {
  it("round-trips", () => {
    const f = path.join(tempFolder(), "manifest.json");
    writeManifest(f, manifest);
    expect(readManifest(f)).toEqual(manifest);
  });
  it("refuses a bad unit hash and a newer version", () => {
    const f = path.join(tempFolder(), "manifest.json");
    writeFileSync(f, JSON.stringify({ ...manifest, disks: [{ ...manifest.disks[0], units: { "0": "xyz" } }] }));
    expect(() => readManifest(f)).toThrow(expect.objectContaining({ code: "ManifestInvalid" }));
    writeFileSync(f, JSON.stringify({ ...manifest, version: MANIFEST_VERSION + 1 }));
    expect(() => readManifest(f)).toThrow(expect.objectContaining({ code: "ManifestInvalid" }));
  });
});
