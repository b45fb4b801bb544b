/**
 * Oracle: VHDX files we write (`hvbackup vhdx convert in.raw out.vhdx`, block sizes 1 to 256 MiB,
 * 512 and 4096-byte logical sectors) pass `qemu-img check`, compare equal to the source with
 * `qemu-img compare`, and read back identically through libvhdi (python3-libvhdi).
 * qemu 7.2 refuses 4096-byte logical sectors ("Operation not supported"), so those are checked
 * with libvhdi and our own reader only.
 */
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, cli, cliOk, expectCleanFailure, fileSize, firstDifference, MiB, type Piece, pseudoRandom, pyvhdiDump, qemuImg, run, tempDir, writeRaw } from "../../support/vhdx";

const SIZE = 64 * MiB + 3 * MiB + 4096;

/** Content that exercises partial sectors, block and chunk edges, zero runs and the last sector. */
function sourcePieces(size: number): Piece[] {
  const p: Piece[] = [
    { offset: 0, data: pseudoRandom(3 * MiB + 512, 1) },
    { offset: 3 * MiB + 700, data: Buffer.alloc(100, 0x7e) }, // inside one sector
    { offset: 8 * MiB - 4096, data: pseudoRandom(8192, 2) }, // across an 8 MiB block edge
    { offset: 32 * MiB - 512, data: pseudoRandom(1024, 3) }, // across a 32 MiB block edge
    { offset: 17 * MiB, data: Buffer.alloc(2 * MiB) }, // explicit zeros: must read as zeros
    { offset: 40 * MiB + 3, data: pseudoRandom(5 * MiB, 4) },
    { offset: 50 * MiB, data: Buffer.concat([Buffer.alloc(MiB), pseudoRandom(512, 5), Buffer.alloc(MiB)]) },
    { offset: size - 512, data: Buffer.alloc(512, 0xee) },
  ];
  return p;
}

let dir: string;
let src: string;
beforeAll(() => {
  dir = tempDir();
  src = path.join(dir, "source.raw");
  writeRaw(src, SIZE, sourcePieces(SIZE));
});
afterAll(cleanupTempDirs);

const cases = [1, 8, 32, 256].flatMap((mb) => [512, 4096].map((lss) => ({ blockSize: mb * MiB, lss })));

describe("VHDX files we write are accepted by qemu-img and libvhdi", () => {
  it.each(cases)("block size $blockSize, logical sector $lss", ({ blockSize, lss }) => {
    const vhdx = path.join(dir, `w-${blockSize}-${lss}.vhdx`);
    cliOk(["vhdx", "convert", src, vhdx, "--block-size", String(blockSize), "--logical-sector", String(lss)]);

    const info = JSON.parse(cliOk(["vhdx", "info", vhdx, "--json"]).stdout);
    expect(info).toMatchObject({ type: "dynamic", virtualSize: SIZE, blockSize, logicalSectorSize: lss, logReplayed: false });
    expect(cli(["vhdx", "check", vhdx]).code).toBe(0);

    if (lss === 512) {
      expect(qemuImg("check", vhdx)).toMatch(/No errors were found/);
      expect(qemuImg("compare", "-q", "-f", "raw", "-F", "vhdx", src, vhdx)).toBe("");
    }

    const viaLibvhdi = path.join(dir, `w-${blockSize}-${lss}.libvhdi.raw`);
    const summary = pyvhdiDump(viaLibvhdi, [vhdx]);
    expect(summary).toMatchObject({ media_size: SIZE, bytes_per_sector: lss, identifier: info.dataWriteGuid });
    expect(firstDifference(viaLibvhdi, src)).toBeUndefined();
    expect(run("vhdiinfo", [vhdx])).toMatch(new RegExp(`Bytes per sector\\s*: ${lss} bytes`));

    const back = path.join(dir, `w-${blockSize}-${lss}.back.raw`);
    cliOk(["vhdx", "convert", vhdx, back]);
    expect(firstDifference(back, src)).toBeUndefined();
  });

  it("allocates only blocks that hold non-zero data", () => {
    const vhdx = path.join(dir, "sparse-1m.vhdx");
    cliOk(["vhdx", "convert", src, vhdx, "--block-size", String(MiB)]);
    // Non-zero MiB-blocks of the source: 0-3 (4), 3 (shared), 7, 8, 31, 32, 40-45 (6), 51, 67: ~ 15.
    const payload = fileSize(vhdx) - 4 * MiB;
    expect(payload).toBeLessThanOrEqual(16 * MiB);
    expect(payload).toBeGreaterThanOrEqual(12 * MiB);
  });

  it("uses a 32 MiB block size and the source's sectors by default, and converts VHDX to VHDX", () => {
    const a = path.join(dir, "default.vhdx");
    cliOk(["vhdx", "convert", src, a]);
    expect(JSON.parse(cliOk(["vhdx", "info", a, "--json"]).stdout)).toMatchObject({ blockSize: 32 * MiB, logicalSectorSize: 512 });
    const b = path.join(dir, "default-4k.vhdx");
    cliOk(["vhdx", "convert", path.join(dir, "w-1048576-4096.vhdx"), b, "--block-size", String(2 * MiB)]);
    expect(JSON.parse(cliOk(["vhdx", "info", b, "--json"]).stdout)).toMatchObject({ blockSize: 2 * MiB, logicalSectorSize: 4096 });
    const out = path.join(dir, "default-4k.raw");
    pyvhdiDump(out, [b]);
    expect(firstDifference(out, src)).toBeUndefined();
  });

  it("refuses to overwrite without --force, and replaces with it", () => {
    const a = path.join(dir, "exists.vhdx");
    cliOk(["vhdx", "convert", src, a, "--block-size", String(8 * MiB)]);
    const line = expectCleanFailure(cli(["vhdx", "convert", src, a]));
    expect(line).toContain(a);
    expect(line).toMatch(/exists.*--force/);
    cliOk(["vhdx", "convert", src, a, "--force"]);
    expect(JSON.parse(cliOk(["vhdx", "info", a, "--json"]).stdout).blockSize).toBe(32 * MiB);
  });

  it("rejects a raw size that is not a multiple of the logical sector, and bad options", () => {
    const odd = path.join(dir, "odd.raw");
    writeRaw(odd, 4 * MiB + 512, [{ offset: 0, data: Buffer.alloc(512, 1) }]);
    const dst = path.join(dir, "odd4k.vhdx");
    const line = expectCleanFailure(cli(["vhdx", "convert", odd, dst, "--logical-sector", "4096"]));
    expect(line).toMatch(/virtual size must be a multiple of 4096/);
    // The message names the destination, not the hidden staging file it was built under.
    expect(line).toContain(`'${dst}'`);
    expect(line).not.toMatch(/partial/);
    expect(cli(["vhdx", "convert", odd, path.join(dir, "odd.vhdx"), "--logical-sector", "1024"]).code).toBe(2);
    const bs = path.join(dir, "bs.vhdx");
    const bsLine = expectCleanFailure(cli(["vhdx", "convert", odd, bs, "--block-size", String(3 * MiB)]));
    expect(bsLine).toContain(`'${bs}'`);
    expect(bsLine).toMatch(/block size must be a power of two/);
    expect(readdirSync(dir).filter((n) => n.includes(".partial-"))).toEqual([]);
    expect(cli(["vhdx", "convert", odd]).code).toBe(2);
  });
});
