import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { publishFile, stagingPathFor, writeFileAtomic } from "../../../src/base/atomic_file";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hvb-atomic-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("stagingPathFor", () => {
  it("is a hidden file in the same folder, unique to this process", () => {
    const staging = stagingPathFor(path.join(dir, "catalog.json"));
    expect(path.dirname(staging)).toBe(dir);
    expect(path.basename(staging)).toBe(`.catalog.json.partial-${process.pid}`);
  });
});

describe("writeFileAtomic", () => {
  it("creates the file and leaves no staging file", () => {
    const file = path.join(dir, "a.json");
    writeFileAtomic(file, "{}");
    expect(readFileSync(file, "utf8")).toBe("{}");
    expect(readdirSync(dir)).toEqual(["a.json"]);
  });

  it("replaces an existing file whole", () => {
    const file = path.join(dir, "a.bin");
    writeFileSync(file, "old contents that are longer");
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(["a.bin"]);
  });

  it("removes the staging file and keeps the old file when it cannot publish", () => {
    const file = path.join(dir, "a.json");
    writeFileSync(file, "old");
    // A non-empty folder in the way makes the rename fail after the staging file was written.
    const target = path.join(dir, "folder");
    mkdirSync(path.join(target, "inner"), { recursive: true });
    expect(() => writeFileAtomic(target, "new")).toThrow();
    expect(readdirSync(dir).sort()).toEqual(["a.json", "folder"]);
    expect(readFileSync(file, "utf8")).toBe("old");
  });
});

describe("publishFile", () => {
  it("moves the staging file over the final name in one step", () => {
    const file = path.join(dir, "data.vhdx");
    writeFileSync(file, "old");
    const staging = stagingPathFor(file);
    writeFileSync(staging, "new");
    publishFile(staging, file);
    expect(readFileSync(file, "utf8")).toBe("new");
    expect(readdirSync(dir)).toEqual(["data.vhdx"]);
  });
});
