/**
 * The catalog and manifest readers (issue 9, "Messages, hangs, memory"): every field typed and
 * bounded, one message naming the file, the field, what it must be and what was found.
 */
import { existsSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MANIFEST_FORMAT, MANIFEST_VERSION, newCatalog, readCatalog, readManifest, readSetRecord, withSelfChecksum, writeSetRecord } from "../../../src/repository/mod";
import { tempFolder } from "./_tmp";

const VM = "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41";
const disk = { index: 0, file: "Virtual Hard Disks/00-a.vhdx", sourcePath: "a.vhdx", virtualSize: 4 * 1048576, unitSize: 1048576, storedBytes: 0, method: "full" };
const point = { id: "20261123T180000.123Z-full", seq: 1, time: "2026-11-23T18:00:00.123Z", kind: "full", parentId: null, consistency: "crash", sizeBytes: 1, disks: [disk], referencePoint: null, warnings: [] };
const incr = { ...point, id: "20261123T190000.123Z-incr", seq: 2, time: "2026-11-23T19:00:00.123Z", kind: "incremental", parentId: point.id, disks: [{ ...disk, file: "Virtual Hard Disks/00-a.avhdx", method: "rct" }] };

function catalogWith(change: (c: Record<string, unknown> & { points: Array<Record<string, unknown>> }) => void): string {
  const c = { ...newCatalog("v", VM), points: [structuredClone(point), structuredClone(incr)] } as unknown as Record<string, unknown> & { points: Array<Record<string, unknown>> };
  change(c);
  const f = path.join(tempFolder(), "catalog.json");
  writeFileSync(f, JSON.stringify(withSelfChecksum(c)));
  return f;
}

function refused(f: string, read: (f: string) => unknown, field: RegExp): void {
  let err: Error | undefined;
  try {
    read(f);
  } catch (e) {
    err = e as Error;
  }
  expect(err?.name).toBe("HvbError");
  expect(err?.message).toContain(f);
  expect(err?.message).toMatch(field);
}

describe("catalog schema", () => {
  it("reads a good catalog", () => {
    expect(readCatalog(catalogWith(() => {})).points).toHaveLength(2);
  });
  it.each([
    ["unitSize 1", (c: { points: Array<Record<string, unknown>> }) => ((c.points[0]!["disks"] as Array<Record<string, unknown>>)[0]!["unitSize"] = 1), /points\[0\]\.disks\[0\]\.unitSize' must be a power of two from 64 KiB to 256 MiB \(found 1\)/],
    ["unitSize not a power of two", (c: { points: Array<Record<string, unknown>> }) => ((c.points[0]!["disks"] as Array<Record<string, unknown>>)[0]!["unitSize"] = 3 * 65536), /unitSize/],
    ["a null disk", (c: { points: Array<Record<string, unknown>> }) => ((c.points[0]!["disks"] as unknown[])[0] = null), /points\[0\]\.disks\[0\]' must be an object \(found null\)/],
    ["no disks", (c: { points: Array<Record<string, unknown>> }) => (c.points[0]!["disks"] = []), /points\[0\]\.disks' must be a list of 1 to 260 disks/],
    ["a string size", (c: { points: Array<Record<string, unknown>> }) => ((c.points[0]!["disks"] as Array<Record<string, unknown>>)[0]!["virtualSize"] = "4096"), /virtualSize/],
    ["an unknown field", (c: Record<string, unknown>) => (c["extra"] = 1), /'extra' must be absent/],
    ["a missing field", (c: Record<string, unknown>) => delete c["vmName"], /'vmName' must be present/],
    ["duplicate ids", (c: { points: Array<Record<string, unknown>> }) => (c.points[1]!["id"] = point.id), /points\[1\]\.id' must be unique/],
    ["an .avhdx with method full", (c: { points: Array<Record<string, unknown>> }) => ((c.points[1]!["disks"] as Array<Record<string, unknown>>)[0]!["method"] = "full"), /points\[1\]\.disks\[0\]\.method/],
    ["a parent that is not earlier", (c: { points: Array<Record<string, unknown>> }) => (c.points[1]!["parentId"] = "20991123T180000.123Z-full"), /points\[1\]\.parentId' must be the id of an earlier point/],
    ["a pending merge that skips a point", (c: Record<string, unknown>) => (c["pendingMerge"] = { fromId: point.id, intoId: point.id }), /pendingMerge\.intoId/],
    ["a disk path leaving the folder", (c: { points: Array<Record<string, unknown>> }) => ((c.points[0]!["disks"] as Array<Record<string, unknown>>)[0]!["file"] = "Virtual Hard Disks/../../x.vhdx"), /disks\[0\]\.file/],
    ["a VM id that is no GUID", (c: Record<string, unknown>) => (c["vmId"] = "../x"), /'vmId' must be a GUID/],
  ])("refuses %s, naming the file and the field", (_name, change, field) => {
    refused(catalogWith(change as (c: Record<string, unknown> & { points: Array<Record<string, unknown>> }) => void), readCatalog, field);
  });
  it("gives commit numbers to a catalog written before them, from its order", () => {
    const f = catalogWith((c) => {
      for (const p of c.points) delete p["seq"];
    });
    expect(readCatalog(f).points.map((p) => p.seq)).toEqual([1, 2]);
  });
});

describe("manifest schema", () => {
  const good = { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, pointId: point.id, vmId: VM, vmName: "v", time: point.time, kind: "full", parentId: null, disks: [{ index: 0, file: disk.file, virtualSize: disk.virtualSize, unitSize: disk.unitSize, units: { "3": "a".repeat(64) } }], configuration: [{ file: `Virtual Machines/${VM}.vmcx`, size: 1, sha256: "b".repeat(64) }] };
  function manifestWith(change: (m: typeof good) => void): string {
    const m = structuredClone(good);
    change(m);
    const f = path.join(tempFolder(), "manifest.json");
    writeFileSync(f, JSON.stringify(withSelfChecksum(m)));
    return f;
  }
  it("reads a good manifest", () => {
    expect(readManifest(manifestWith(() => {})).disks[0]!.units).toEqual({ "3": "a".repeat(64) });
  });
  it.each([
    ["unitSize 1", (m: typeof good) => (m.disks[0]!.unitSize = 1), /disks\[0\]\.unitSize/],
    ["a unit past the end of the disk", (m: typeof good) => (m.disks[0]!.units = { "4": "a".repeat(64) } as unknown as typeof m.disks[0]["units"]), /disks\[0\]\.units\.4' must be under a unit number below 4/],
    ["two VM definitions", (m: typeof good) => m.configuration.push({ file: "Virtual Machines/other.vmcx", size: 1, sha256: "c".repeat(64) }), /'configuration' must be a list with exactly one VM definition/],
    ["a configuration path leaving the folder", (m: typeof good) => (m.configuration[0]!.file = "Virtual Machines/../../x.vmcx"), /configuration\[0\]\.file/],
  ])("refuses %s, naming the file and the field", (_name, change, field) => {
    refused(manifestWith(change), readManifest, field);
  });
});

describe("backup set record schema", () => {
  const id = "20261204T113000.123Z-1a2b3c4d";
  const good = { format: "HyperVBackup.Set", version: 1, id, groupId: "1a2b3c4d-0000-0000-0000-000000000000", groupName: "g", time: "2026-12-04T11:30:00.123Z", state: "committed", members: [{ vmId: VM, vmName: "v", pointId: point.id }], referencePoint: null };
  function setWith(change: (s: Record<string, unknown>) => void): string {
    const s = structuredClone(good) as Record<string, unknown>;
    change(s);
    const f = path.join(tempFolder(), `${id}.json`);
    writeFileSync(f, JSON.stringify(withSelfChecksum(s)));
    return f;
  }
  it("reads a good record", () => {
    expect(readSetRecord(setWith(() => {})).members).toHaveLength(1);
  });
  it.each([
    ["a null member", (s: Record<string, unknown>) => ((s["members"] as unknown[])[0] = null), /members\[0\]' must be an object \(found null\)/],
    ["a point id that is not one", (s: Record<string, unknown>) => ((s["members"] as Array<Record<string, unknown>>)[0]!["pointId"] = "../x"), /members\[0\]\.pointId/],
    ["an unknown state", (s: Record<string, unknown>) => (s["state"] = "done"), /'state' must be 'committing' or 'committed'/],
    ["a group id that is no GUID", (s: Record<string, unknown>) => (s["groupId"] = "../web-farm"), /'groupId' must be a GUID/],
    ["a member's VM id that is no GUID", (s: Record<string, unknown>) => ((s["members"] as Array<Record<string, unknown>>)[0]!["vmId"] = "web01"), /'members\[0\]\.vmId' must be a GUID/],
  ])("refuses %s, naming the file and the field", (_name, change, field) => {
    refused(setWith(change), readSetRecord, field);
  });
  it("never writes a record it would refuse to read (a group id that is no GUID)", () => {
    const root = tempFolder();
    const record = structuredClone(good);
    expect(() => writeSetRecord(root, { ...record, groupId: "web-farm" } as unknown as Parameters<typeof writeSetRecord>[1])).toThrow(/was not written: field 'groupId' must be a GUID/);
    expect(existsSync(path.join(root, "sets", `${id}.json`))).toBe(false);
    writeSetRecord(root, record as unknown as Parameters<typeof writeSetRecord>[1]);
    expect(readSetRecord(path.join(root, "sets", `${id}.json`)).groupId).toBe(good.groupId);
  });

  const shared = {
    sourcePath: "C:\\ClusterStorage\\Volume1\\Quorum.vhds",
    file: `sets/${id}.shared/Quorum.vhdx`,
    kind: "full",
    parentSetId: null,
    virtualSize: 1048576,
    size: 4194304,
    sha256: "0".repeat(64),
    snapshotId: "6c87351a-a39a-4581-b231-6d693b26485d",
    rctId: "rctX:1",
    attachments: [{ vmId: VM, location: "abc\\0\\1" }],
  };
  const withShared = (more: Record<string, unknown>, version = 2) => (s: Record<string, unknown>) => {
    s["version"] = version;
    s["sharedDisks"] = [{ ...shared, ...more }];
  };
  it("reads a record with a shared disk (format version 2)", () => {
    expect(readSetRecord(setWith(withShared({}))).sharedDisks?.[0]?.kind).toBe("full");
  });
  it.each([
    ["shared disks in a version 1 record", withShared({}, 1), /'version' must be 2 for a set with sharedDisks/],
    ["a shared disk file outside the set's folder", withShared({ file: "sets/20261204T113000.000Z-00000000.shared/Quorum.vhdx" }), /sharedDisks\[0\]\.file' must be a file under sets\/20261204T113000\.123Z-1a2b3c4d\.shared\//],
    ["a path that climbs out", withShared({ file: "sets/../../x.vhdx" }), /sharedDisks\[0\]\.file/],
    ["an incremental without its parent set", withShared({ kind: "incremental" }), /sharedDisks\[0\]\.parentSetId' must be the parent set's id/],
    ["a parent set that is not earlier", withShared({ kind: "incremental", parentSetId: "20261205T000000.000Z-1a2b3c4d" }), /an earlier set's id/],
    ["an attaching VM id that is no GUID", withShared({ attachments: [{ vmId: "n1", location: "abc\\0\\1" }] }), /sharedDisks\[0\]\.attachments\[0\]\.vmId' must be a GUID/],
  ])("refuses %s", (_name, change, field) => {
    refused(setWith(change), readSetRecord, field);
  });
});
