import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chainOf, selectPoint, unitStateAt } from "../../../src/engine/mod";
import { type Catalog, MANIFEST_FORMAT, MANIFEST_VERSION, type PointRecord, Repository, newCatalog, writeManifest } from "../../../src/repository/mod";

function rec(id: string, parentId: string | null): PointRecord {
  const t = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}${id.slice(15, 20)}`;
  return { id, time: t, kind: parentId ? "incremental" : "full", parentId, consistency: "crash", sizeBytes: 0, disks: [], referencePoint: null, warnings: [] };
}
const F = "20261123T180000.000Z-full";
const I1 = "20261123T190000.000Z-incr";
const I2 = "20261123T200000.000Z-incr";
function catalog(): Catalog {
  const c = newCatalog("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41");
  c.points.push(rec(F, null), rec(I1, F), rec(I2, I1));
  return c;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("point chain", () => {
  it("chainOf runs from the full to the point", () => {
    expect(chainOf(catalog(), I2).map((p) => p.id)).toEqual([F, I1, I2]);
    expect(chainOf(catalog(), F).map((p) => p.id)).toEqual([F]);
    expect(() => chainOf(catalog(), "nope")).toThrow(expect.objectContaining({ code: "PointNotFound" }));
  });
  it("chainOf refuses broken and looping chains", () => {
    const broken = catalog();
    broken.points.splice(1, 1);
    expect(() => chainOf(broken, I2)).toThrow(expect.objectContaining({ code: "ChainBroken" }));
    const loop = newCatalog("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41");
    loop.points.push(rec(I1, I2), rec(I2, I1));
    expect(() => chainOf(loop, I2)).toThrow(expect.objectContaining({ code: "CatalogInvalid" }));
  });
  it("selectPoint: latest, id, or the newest at or before a time", () => {
    expect(selectPoint(catalog(), undefined).id).toBe(I2);
    expect(selectPoint(catalog(), "latest").id).toBe(I2);
    expect(selectPoint(catalog(), I1).id).toBe(I1);
    expect(selectPoint(catalog(), "2026-11-23T19:30:00Z").id).toBe(I1);
    expect(() => selectPoint(catalog(), "2026-11-23T17:00:00Z")).toThrow(expect.objectContaining({ code: "PointNotFound" }));
    expect(() => selectPoint(catalog(), "garbage")).toThrow(expect.objectContaining({ code: "PointNotFound" }));
    expect(() => selectPoint(newCatalog("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41"), "latest")).toThrow(expect.objectContaining({ code: "NoRestorePoints" }));
  });
  it("unitStateAt takes each unit from the newest manifest that lists it", () => {
    const root = mkdtempSync(path.join(tmpdir(), "hvb-chain-"));
    dirs.push(root);
    const store = new Repository(root).vmStore("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41");
    const units: Record<string, Record<string, string>> = { [F]: { "0": "a".repeat(64), "1": "b".repeat(64) }, [I1]: { "1": "c".repeat(64) }, [I2]: { "2": "d".repeat(64) } };
    for (const p of catalog().points) {
      const dir = store.pointDir(p.id);
      mkdirSync(dir, { recursive: true });
      writeManifest(path.join(dir, "manifest.json"), { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, pointId: p.id, vmId: "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41", vmName: "v", time: p.time, kind: p.kind, parentId: p.parentId, disks: [{ index: 0, file: "Virtual Hard Disks/d.vhdx", virtualSize: 3 * 2097152, unitSize: 2097152, units: units[p.id]! }], configuration: [{ file: "Virtual Machines/x.vmcx", size: 1, sha256: "e".repeat(64) }] });
    }
    expect([...unitStateAt(store, catalog(), I1, 0)].sort()).toEqual([[0, "a".repeat(64)], [1, "c".repeat(64)]]);
    expect(unitStateAt(store, catalog(), I2, 0).get(2)).toBe("d".repeat(64));
    expect(unitStateAt(store, catalog(), I2, 1).size).toBe(0);
  });
});
