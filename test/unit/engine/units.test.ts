import { describe, expect, it } from "vitest";
import { unitSizeFor } from "../../../src/engine/mod";
import { sha256Hex, unitsOf } from "../../../src/engine/units";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("units", () => {
  it("unitSizeFor keeps at most 64 Ki units, between 2 MiB and 256 MiB", () => {
    expect(unitSizeFor(1)).toBe(2 * MiB);
    expect(unitSizeFor(128 * GiB)).toBe(2 * MiB);
    expect(unitSizeFor(128 * GiB + 1)).toBe(4 * MiB);
    expect(unitSizeFor(1024 * GiB)).toBe(16 * MiB);
    expect(unitSizeFor(64 * 1024 * GiB)).toBe(256 * MiB);
  });
  it("unitsOf lists touched units, sorted, unique, inside the disk", () => {
    const u = 2 * MiB;
    expect(unitsOf([], u, 10 * u)).toEqual([]);
    expect(unitsOf([{ offset: 0, length: 1 }], u, 10 * u)).toEqual([0]);
    expect(unitsOf([{ offset: 3 * u - 1, length: 2 }, { offset: 0, length: 0 }], u, 10 * u)).toEqual([2, 3]);
    expect(unitsOf([{ offset: 5 * u, length: u }, { offset: u, length: 5 * u }], u, 10 * u)).toEqual([1, 2, 3, 4, 5]);
    expect(unitsOf([{ offset: 9 * u, length: 10 * u }], u, 10 * u)).toEqual([9]);
  });
  it("sha256Hex", () => {
    expect(sha256Hex(Buffer.from("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
