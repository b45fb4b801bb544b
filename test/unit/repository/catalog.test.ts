import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOG_VERSION, newCatalog, readCatalog, writeCatalog } from "../../../src/repository/mod";
import { tempFolder } from "./_tmp";

const point = { id: "20261123T180000.123Z-full", seq: 1, time: "2026-11-23T18:00:00.123Z", kind: "full" as const, parentId: null, consistency: "crash" as const, sizeBytes: 1, disks: [{ index: 0, file: "Virtual Hard Disks/00-a.vhdx", sourcePath: "a.vhdx", virtualSize: 4096, unitSize: 2097152, storedBytes: 0, method: "full" as const }], referencePoint: null, warnings: [] };

describe("catalog", () => {
  it("round-trips", () => {
    const f = path.join(tempFolder(), "catalog.json");
    const c = newCatalog("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41");
    c.points.push(point);
    writeCatalog(f, c);
    expect(readCatalog(f)).toEqual(c);
  });
  it("refuses a newer version before reading further", () => {
    const f = path.join(tempFolder(), "catalog.json");
    writeFileSync(f, JSON.stringify({ format: "HyperVBackup.Catalog", version: CATALOG_VERSION + 1 }));
    expect(() => readCatalog(f)).toThrow(expect.objectContaining({ code: "CatalogTooNew" }));
  });
  it("names the damaged field", () => {
    const f = path.join(tempFolder(), "catalog.json");
    const c = newCatalog("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41");
    c.points.push({ ...point, id: "../escape" });
    writeFileSync(f, JSON.stringify(c));
    expect(() => readCatalog(f)).toThrow(expect.objectContaining({ code: "CatalogInvalid" }));
    expect(() => readCatalog(path.join(path.dirname(f), "none.json"))).toThrow(expect.objectContaining({ code: "CatalogMissing" }));
  });
  it("defaults a missing pendingMerge", () => {
    const f = path.join(tempFolder(), "catalog.json");
    const { pendingMerge: _, ...old } = newCatalog("v", "8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41");
    writeFileSync(f, JSON.stringify(old));
    expect(readCatalog(f).pendingMerge).toBeNull();
  });
});
