import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Repository, readManifest, treeSize } from "../../../src/repository/mod";
import { tempFolder } from "./_tmp";

const details = { time: new Date("2026-11-23T18:00:00.123Z"), kind: "full" as const, parentId: null, consistency: "application" as const, vmId: "8D94E66B-1D2C-4F1E-9B7A-0C5E2B8F3A41", vmName: "v", warnings: ["w"] };
const id = "20261123T180000.123Z-full";

function staged(): { store: ReturnType<Repository["vmStore"]>; writer: ReturnType<ReturnType<Repository["vmStore"]>["beginPoint"]> } {
  const store = new Repository(tempFolder()).vmStore("v", "8D94E66B-1D2C-4F1E-9B7A-0C5E2B8F3A41");
  const writer = store.beginPoint(id);
  const disk = writer.diskFile("00-a", false);
  writeFileSync(disk.absolute, Buffer.alloc(4096, 1));
  writer.addDisk({ index: 0, file: disk.relative, sourcePath: "a.vhdx", virtualSize: 4096, unitSize: 2097152, storedBytes: 4096, method: "full" }, { "0": "b".repeat(64) });
  mkdirSync(path.join(writer.staging, "Virtual Machines"), { recursive: true });
  writeFileSync(path.join(writer.staging, "Virtual Machines", "x.vmcx"), "config");
  writer.addConfiguration();
  return { store, writer };
}

describe("PointWriter", () => {
  it("stages in <id>.partial, then commits manifest, folder and catalog", () => {
    const { store, writer } = staged();
    expect(writer.staging).toBe(store.pointDir(id) + ".partial");
    const catalog = store.readCatalog();
    const order: string[] = [];
    const record = writer.commit(catalog, details, {
      beforePublish: () => {
        // Manifest written, nothing renamed nor catalogued yet.
        expect(existsSync(path.join(writer.staging, "manifest.json"))).toBe(true);
        expect(existsSync(store.pointDir(id))).toBe(false);
        expect(store.readCatalog().points).toEqual([]);
        order.push("before-publish");
      },
    });
    expect(order).toEqual(["before-publish"]);
    expect(existsSync(writer.staging)).toBe(false);
    expect(store.readCatalog().points).toEqual([record]);
    expect(catalog.points).toContain(record);
    expect(record).toMatchObject({ id, kind: "full", parentId: null, consistency: "application", referencePoint: null, warnings: ["w"], time: details.time.toISOString() });
    expect(record.disks.map((d) => d.file)).toEqual(["Virtual Hard Disks/00-a.vhdx"]);
    expect(record.sizeBytes).toBeGreaterThan(0);
    expect(record.sizeBytes).toBeLessThanOrEqual(treeSize(store.pointDir(id)));
    const m = store.readManifest(id);
    expect(m.disks[0]!.units).toEqual({ "0": "b".repeat(64) });
    expect(m.configuration.map((f) => f.file)).toEqual(["Virtual Machines/x.vmcx"]);
    expect(m.configuration[0]!.size).toBe(6);
    expect(readManifest(path.join(store.pointDir(id), "manifest.json"))).toEqual(m);
  });
  it("a failure before the catalog write leaves the catalog as it was and only an orphan", () => {
    const { store, writer } = staged();
    expect(() => writer.commit(store.readCatalog(), details, { beforePublish: () => { throw new Error("killed"); } })).toThrow("killed");
    expect(store.readCatalog().points).toEqual([]);
    expect(store.removeOrphans()).toEqual([`${id}.partial`]);
    expect(readdirSync(path.join(store.dir, "points"))).toEqual([]);
  });
  it("abort removes the staging folder; begin replaces a left-over one", () => {
    const { store, writer } = staged();
    const again = store.beginPoint(id);
    expect(readdirSync(again.staging)).toEqual(["Virtual Hard Disks"]);
    again.abort();
    writer.abort();
    expect(readdirSync(path.join(store.dir, "points"))).toEqual([]);
  });
});
