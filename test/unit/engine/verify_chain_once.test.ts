/**
 * `verify --deep` opens each disk's chain once, from the newest point (src/engine/chain_images.ts),
 * instead of once per point (n(n+1)/2 file opens for n points), and finds exactly what it found
 * before: a damaged middle increment is still named, with the points that depend on it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyRepository } from "../../../src/engine/mod";
import { VhdxImage } from "../../../src/vhdx/mod";
import { buildRepo, quiet } from "./_repo_fixture";


/** The points whose disk file was opened with its chain (as the top of one), by id. */
function countChainOpens(): { opened: string[]; restore: () => void } {
  const opened: string[] = [];
  const original = VhdxImage.open.bind(VhdxImage);
  const spy = vi.spyOn(VhdxImage, "open").mockImplementation((file, options = {}) => {
    if (!options.noParent && !options.chainSeen) opened.push(path.basename(path.dirname(path.dirname(file))));
    return original(file, options);
  });
  return { opened, restore: () => spy.mockRestore() };
}

afterEach(() => vi.restoreAllMocks());

describe("verify --deep reads every point through one chain per disk", () => {
  it("opens the newest point's chain once for 8 points (before: 8 chains for the structure checks and 8 more to read, 72 file opens) and passes", () => {
    const f = buildRepo(8);
    const count = countChainOpens();
    const v = verifyRepository(f.repo, undefined, true, quiet);
    count.restore();
    expect(v).toMatchObject({ ok: true, problems: [], pointsChecked: 8 });
    expect(count.opened).toEqual([f.ids[7]]);
  });

  it("a damaged middle increment is still found, and every point that depends on it is damaged", () => {
    const f = buildRepo(6);
    // Flip a byte of the third point's stored unit: its payload, not its structure.
    const file = path.join(f.store.pointDir(f.ids[2]!), "Virtual Hard Disks", "00-d.avhdx");
    const image = VhdxImage.open(file);
    const run = image.locate(0, image.virtualSize).find((r) => r.path === image.path)!;
    image.close();
    const bytes = readFileSync(file);
    bytes[run.fileOffset + 100] ^= 0xff;
    writeFileSync(file, bytes);
    const v = verifyRepository(f.repo, undefined, true, quiet);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ pointId: f.ids[2], disk: 0, message: expect.stringMatching(/does not match the manifest's SHA-256/) })]);
    expect(v.damagedPoints).toEqual(f.ids.slice(2).map((id) => `v/${id}`));
  });

  it("a newest point whose file does not open is reported; the older points are still read, each opening its own chain as before", () => {
    const f = buildRepo(4);
    const newest = path.join(f.store.pointDir(f.ids[3]!), "Virtual Hard Disks", "00-d.avhdx");
    const bytes = readFileSync(newest);
    bytes.write("notvhdx!", 0); // the file type identifier: it no longer opens as a VHDX file
    writeFileSync(newest, bytes);
    const count = countChainOpens();
    const v = verifyRepository(f.repo, undefined, true, quiet);
    count.restore();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ pointId: f.ids[3], disk: 0, message: expect.stringMatching(/00-d\.avhdx/) })]);
    expect(v.damagedPoints).toEqual([`v/${f.ids[3]}`]);
    // A point found damaged before reading turns the shared chain off (its files may be anything).
    expect(count.opened).toEqual([f.ids[0], f.ids[1], f.ids[2]]);
  });
});
