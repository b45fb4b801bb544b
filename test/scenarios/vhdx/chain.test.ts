/**
 * Differencing chains: made with `hvbackup vhdx convert --parent` (3 and 4 levels, mixed block
 * sizes, 512 and 4096-byte sectors) and by direct library writes (partial sectors, partial
 * blocks, writeZeroes hiding parent data). Every chain must read identically through our reader
 * and through libvhdi with the parents set, and pass `vhdx check`.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, renameSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VhdxImage, createVhdx, mergeVhdxIntoParent } from "../../../src/vhdx/mod";
import { cleanupTempDirs, cli, cliOk, expectCleanFailure, firstDifference, MiB, pseudoRandom, pyvhdiDump, qemuImg, tempDir, writeRaw } from "../../support/vhdx";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(cleanupTempDirs);

/** Applies pieces to a model of the disk and writes the model as a raw file. */
function saveModel(model: Buffer, file: string): string {
  writeRaw(file, model.length, [{ offset: 0, data: model }]);
  return file;
}

describe("chains made with vhdx convert --parent", () => {
  for (const lss of [512, 4096] as const) {
    it(`reads a 4-level chain identically through libvhdi and our reader (${lss}-byte sectors)`, () => {
      const size = 24 * MiB + 4096;
      const d = path.join(dir, `cli-${lss}`);
      mkdirSync(d);
      const model = Buffer.alloc(size);
      const put = (offset: number, data: Buffer): void => void data.copy(model, offset);
      // Level 0: data in several blocks.
      put(0, pseudoRandom(3 * MiB, 10));
      put(10 * MiB + 4096, pseudoRandom(2 * MiB, 11));
      put(size - 4096, Buffer.alloc(4096, 0xab));
      const raws = [saveModel(model, path.join(d, "l0.raw"))];
      // Level 1: a sector in block 0, a run across a block edge, the last sector.
      put(lss, Buffer.alloc(lss, 0x11));
      put(2 * MiB - lss, pseudoRandom(2 * lss, 12));
      put(size - lss, Buffer.alloc(lss, 0x22));
      raws.push(saveModel(model, path.join(d, "l1.raw")));
      // Level 2: zeros over parent data (sector and whole MiB), new data in an empty area.
      put(0, Buffer.alloc(lss));
      put(10 * MiB, Buffer.alloc(2 * MiB));
      put(20 * MiB + 3 * lss, Buffer.alloc(5 * lss, 0x33));
      raws.push(saveModel(model, path.join(d, "l2.raw")));
      // Level 3: rewrite what level 1 wrote, and a whole 8 MiB block.
      put(lss, Buffer.alloc(lss, 0x44));
      put(8 * MiB, pseudoRandom(8 * MiB, 13));
      raws.push(saveModel(model, path.join(d, "l3.raw")));

      const files = [path.join(d, "base.vhdx"), path.join(d, "c1.avhdx"), path.join(d, "c2.avhdx"), path.join(d, "c3.avhdx")];
      cliOk(["vhdx", "convert", raws[0]!, files[0]!, "--block-size", String(MiB), "--logical-sector", String(lss)]);
      cliOk(["vhdx", "convert", raws[1]!, files[1]!, "--parent", files[0]!]);
      cliOk(["vhdx", "convert", raws[2]!, files[2]!, "--parent", files[1]!, "--block-size", String(8 * MiB)]);
      cliOk(["vhdx", "convert", raws[3]!, files[3]!, "--parent", files[2]!, "--block-size", String(32 * MiB)]);

      for (let level = 1; level <= 3; level++) {
        const chain = files.slice(0, level + 1).reverse();
        const viaLibvhdi = path.join(d, `l${level}.libvhdi.raw`);
        const summary = pyvhdiDump(viaLibvhdi, chain);
        expect(summary.disk_type).toBe(4);
        expect(summary.bytes_per_sector).toBe(lss);
        expect(firstDifference(viaLibvhdi, raws[level]!)).toBeUndefined();
        const ours = path.join(d, `l${level}.ours.raw`);
        cliOk(["vhdx", "convert", chain[0]!, ours]);
        expect(firstDifference(ours, raws[level]!)).toBeUndefined();
        expect(cli(["vhdx", "check", chain[0]!]).code).toBe(0);
      }
      const info = JSON.parse(cliOk(["vhdx", "info", files[3]!, "--json"]).stdout);
      expect(info.type).toBe("differencing");
      expect(info.chain.map((c: { type: string }) => c.type)).toEqual(["differencing", "differencing", "differencing", "dynamic"]);
      expect(info.parentLocator.relative_path).toBe(".\\c2.avhdx");
      expect(info.parentLocator.parent_linkage).toBe(`{${info.chain[1].dataWriteGuid}}`);
    });
  }

  it("stores only what differs from the parent", () => {
    const d = path.join(dir, "minimal");
    mkdirSync(d);
    const size = 16 * MiB;
    const base = path.join(d, "base.raw");
    writeRaw(base, size, [{ offset: 0, data: pseudoRandom(size, 20) }]);
    const next = path.join(d, "next.raw");
    copyFileSync(base, next);
    writeRaw(path.join(d, "ignored.raw"), 1, []);
    const model = pseudoRandom(size, 20);
    Buffer.alloc(512, 1).copy(model, 5 * MiB);
    writeRaw(next, size, [{ offset: 0, data: model }]);
    cliOk(["vhdx", "convert", base, path.join(d, "base.vhdx"), "--block-size", String(MiB)]);
    const r = JSON.parse(cliOk(["vhdx", "convert", next, path.join(d, "c.avhdx"), "--parent", path.join(d, "base.vhdx"), "--json"]).stdout);
    expect(r.bytesWritten).toBe(512);
  });

  it("finds a parent that moved together with its child, through relative_path", () => {
    const d = path.join(dir, "moved");
    mkdirSync(d);
    const raw = path.join(d, "a.raw");
    writeRaw(raw, 8 * MiB, [{ offset: 4096, data: pseudoRandom(MiB, 30) }]);
    cliOk(["vhdx", "convert", raw, path.join(d, "p.vhdx")]);
    cliOk(["vhdx", "convert", raw, path.join(d, "c.avhdx"), "--parent", path.join(d, "p.vhdx")]);
    const moved = path.join(dir, "moved-elsewhere");
    renameSync(d, moved);
    const out = path.join(moved, "c.raw");
    cliOk(["vhdx", "convert", path.join(moved, "c.avhdx"), out]);
    expect(firstDifference(out, path.join(moved, "a.raw"))).toBeUndefined();
  });
});

describe("a chain made by direct library writes", () => {
  it("reads identically through the library, the CLI and libvhdi", () => {
    const d = path.join(dir, "lib");
    mkdirSync(d);
    const size = 20 * MiB + 3 * 512;
    const model = Buffer.alloc(size);
    const base = path.join(d, "base.vhdx");
    const c1 = path.join(d, "c1.avhdx");
    const c2 = path.join(d, "c2.avhdx");

    const write = (img: VhdxImage, offset: number, data: Buffer): void => {
      img.write(data, offset);
      data.copy(model, offset);
    };
    const zero = (img: VhdxImage, offset: number, length: number): void => {
      img.writeZeroes(offset, length);
      model.fill(0, offset, offset + length);
    };

    const b = createVhdx(base, { virtualSize: size, blockSize: MiB });
    write(b, 0, pseudoRandom(8 * MiB, 40));
    write(b, 12 * MiB + 17, pseudoRandom(MiB + 1000, 41)); // unaligned start and end
    write(b, size - 700, Buffer.alloc(700, 0x5e)); // partial sectors up to the end
    b.close();

    const one = createVhdx(c1, { parentPath: base, blockSize: 2 * MiB });
    expect(one.type).toBe("differencing");
    write(one, 700, Buffer.alloc(100, 0x11)); // inside one sector: rest of the sector from the parent
    write(one, 2 * MiB - 1500, pseudoRandom(3000, 42)); // across a block edge, partial sectors
    zero(one, 4 * MiB, 2 * MiB); // a whole block of parent data hidden by ZERO
    zero(one, 6 * MiB + 512, 1536); // zero sectors inside a block
    write(one, 15 * MiB, pseudoRandom(MiB, 43)); // into a block the parent never wrote
    one.close();

    const two = createVhdx(c2, { parentPath: c1, blockSize: MiB });
    write(two, 701, Buffer.alloc(10, 0x22)); // over level 1's partial sector
    zero(two, 12 * MiB, MiB); // hides base data through c1
    write(two, 4 * MiB + 4096, Buffer.alloc(4096, 0x33)); // data over c1's ZERO block
    write(two, size - 1, Buffer.alloc(1, 0x44)); // the very last byte
    two.close();

    const reopened = VhdxImage.open(c2);
    try {
      expect(reopened.chain().map((x) => x.type)).toEqual(["differencing", "differencing", "dynamic"]);
      const all = Buffer.alloc(size);
      reopened.read(all, 0);
      expect(all.equals(model)).toBe(true);
      // Unaligned reads through the chain agree too.
      const part = Buffer.alloc(3000);
      reopened.read(part, 2 * MiB - 1777);
      expect(part.equals(model.subarray(2 * MiB - 1777, 2 * MiB - 1777 + 3000))).toBe(true);
      // The zeroed block of c1 is its own (zero data, so every reader agrees), not the parent's.
      const c1Extents = reopened.parent!.extents(4 * MiB, 2 * MiB);
      expect(c1Extents).toEqual([{ offset: 4 * MiB, length: 2 * MiB, kind: "data" }]);
    } finally {
      reopened.close();
    }

    const expected = saveModel(model, path.join(d, "expected.raw"));
    const viaLibvhdi = path.join(d, "libvhdi.raw");
    pyvhdiDump(viaLibvhdi, [c2, c1, base]);
    // libvhdi 20210425 would read a PAYLOAD_BLOCK_ZERO block of a differencing file from the
    // parent (MS-VHDX says zeros); writeZeroes therefore stores zero data in differencing files,
    // and libvhdi reads exactly what the model holds.
    expect(firstDifference(viaLibvhdi, expected)).toBeUndefined();
    const ours = path.join(d, "ours.raw");
    cliOk(["vhdx", "convert", c2, ours]);
    expect(firstDifference(ours, expected)).toBeUndefined();
    for (const f of [base, c1, c2]) expect(cli(["vhdx", "check", f]).stderr).toBe("");
  });

  it("refuses a parent whose DataWriteGuid changed after the child was made, saying so", () => {
    const d = path.join(dir, "linkage");
    mkdirSync(d);
    const base = path.join(d, "base.vhdx");
    const child = path.join(d, "child.avhdx");
    createVhdx(base, { virtualSize: 8 * MiB, blockSize: MiB }).close();
    createVhdx(child, { parentPath: base }).close();
    const p = VhdxImage.open(base, { writable: true });
    p.write(Buffer.alloc(512, 1), 0);
    p.close();
    expect(() => VhdxImage.open(child)).toThrow(/parent_linkage .* does not match the DataWriteGuid/);
    const line = expectCleanFailure(cli(["vhdx", "check", child]));
    expect(line).toContain(child);
    expect(line).toMatch(/parent locator: parent_linkage .* does not match/);
    // libvhdi agrees that this is the wrong parent.
    expect(() => pyvhdiDump(path.join(d, "x.raw"), [child, base])).toThrow();
  });

  it("keeps the parent's DataWriteGuid when the parent is only opened and closed", () => {
    const d = path.join(dir, "readonly-parent");
    mkdirSync(d);
    const base = path.join(d, "base.vhdx");
    createVhdx(base, { virtualSize: 8 * MiB }).close();
    const before = VhdxImage.open(base);
    const guid = before.dataWriteGuid;
    before.close();
    VhdxImage.open(base, { writable: true }).close();
    const child = path.join(d, "c.avhdx");
    createVhdx(child, { parentPath: base }).close();
    const after = VhdxImage.open(child);
    expect(after.parent!.dataWriteGuid).toBe(guid);
    after.close();
  });
});

describe("mergeVhdxIntoParent", () => {
  it("folds a child (partial sectors, ZERO blocks) into its parent, which then reads as the child did", () => {
    const d = path.join(dir, "merge");
    mkdirSync(d);
    const size = 12 * MiB + 512;
    const base = path.join(d, "base.vhdx");
    const child = path.join(d, "child.avhdx");
    const b = createVhdx(base, { virtualSize: size, blockSize: MiB });
    b.write(pseudoRandom(size, 60), 0);
    b.close();
    const c = createVhdx(child, { parentPath: base, blockSize: 2 * MiB });
    c.write(Buffer.alloc(100, 1), 333);
    c.writeZeroes(4 * MiB, 2 * MiB);
    c.write(pseudoRandom(3 * MiB, 61), 7 * MiB + 4096);
    c.close();
    const view = VhdxImage.open(child);
    const expected = Buffer.alloc(size);
    view.read(expected, 0);
    view.close();

    mergeVhdxIntoParent(child);
    const merged = VhdxImage.open(base);
    const got = Buffer.alloc(size);
    merged.read(got, 0);
    merged.close();
    expect(got.equals(expected)).toBe(true);
    expect(qemuImg("check", base)).toMatch(/No errors/);
    const raw = saveModel(expected, path.join(d, "expected.raw"));
    expect(qemuImg("compare", "-q", "-f", "raw", "-F", "vhdx", raw, base)).toBe("");
    // The parent changed, so the child no longer links to it.
    expect(() => VhdxImage.open(child)).toThrow(/parent_linkage/);
  });
});

describe("sector bitmaps across a chunk boundary", () => {
  it("reads a partial write that crosses the 4 GiB chunk edge of a 512-byte-sector child like libvhdi", () => {
    const d = path.join(dir, "chunk-edge");
    mkdirSync(d);
    const GiB = 1024 * MiB;
    const base = path.join(d, "base.vhdx");
    const child = path.join(d, "c.avhdx");
    const b = createVhdx(base, { virtualSize: 5 * GiB, blockSize: 32 * MiB });
    b.write(Buffer.alloc(8 * MiB, 0x61), 4 * GiB - 4 * MiB);
    b.close();
    const c = createVhdx(child, { parentPath: base, blockSize: MiB });
    c.write(Buffer.alloc(3000, 0x62), 4 * GiB - 1500); // sectors in chunk 0 and chunk 1
    c.write(Buffer.alloc(700, 0x63), 4 * GiB + MiB + 100);
    c.close();
    const expected = Buffer.alloc(4 * MiB, 0x61);
    expected.fill(0x62, 2 * MiB - 1500, 2 * MiB + 1500);
    expected.fill(0x63, 3 * MiB + 100, 3 * MiB + 800);
    const r = VhdxImage.open(child);
    const got = Buffer.alloc(4 * MiB);
    r.read(got, 4 * GiB - 2 * MiB);
    r.close();
    expect(got.equals(expected)).toBe(true);
    const script = "import sys,pyvhdi\nc=pyvhdi.file();c.open(sys.argv[1]);p=pyvhdi.file();p.open(sys.argv[2]);c.set_parent(p)\nsys.stdout.buffer.write(c.read_buffer_at_offset(4*1048576,4*1024**3-2*1048576))";
    const lib = execFileSync("/usr/bin/python3", ["-c", script, child, base], { maxBuffer: 8 * MiB });
    expect(Buffer.from(lib).equals(expected)).toBe(true);
    expect(cli(["vhdx", "check", child]).code).toBe(0);
  });
});
