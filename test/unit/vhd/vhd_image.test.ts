import * as fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { HvbError } from "../../../src/base/mod";
import { patchFile, patchStructure, readAll, readFileAt, rng, tempDir } from "../../support/vhd";
import { parseFooter } from "../../../src/vhd/footer";
import { createVhd, createVhdDifferencing, isVhdFile, mergeVhdIntoParent, VhdImage } from "../../../src/vhd/mod";

const MiB = 1024 * 1024;
const tmp = tempDir("vhd-image");
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = (ext = "vhd"): string => tmp.file(`d${n++}.${ext}`);

function catchErr(fn: () => unknown): HvbError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HvbError) return e;
    throw e;
  }
  throw new Error("expected an HvbError");
}

/** Random writes applied to the disk and to a model buffer; returns the model. */
function randomWrites(disk: VhdImage, model: Buffer, seed: number, count: number, maxLen = 200_000): void {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(r() * maxLen);
    const off = Math.floor(r() * (disk.virtualSize - len));
    const data = Buffer.alloc(len, 1 + Math.floor(r() * 254));
    data[0] = i & 0xff;
    disk.write(data, off);
    data.copy(model, off);
  }
}

describe("createVhd", () => {
  it("creates a dynamic disk that reads as zeros and has no data ranges", () => {
    const p = fresh();
    createVhd(p, { virtualSize: 5 * MiB, type: "dynamic" });
    // footer copy + header + BAT (3 entries, one sector) + footer
    expect(fs.statSync(p).size).toBe(512 + 1024 + 512 + 512);
    const d = VhdImage.open(p);
    expect([d.type, d.virtualSize, d.logicalSectorSize, d.parent]).toEqual(["dynamic", 5 * MiB, 512, undefined]);
    expect(readAll(d).every((x) => x === 0)).toBe(true);
    expect(d.dataRanges("chain")).toEqual([]);
    expect(d.footer.creatorApplication).toBe("win ");
    d.close();
  });

  it("creates a fixed disk of exactly size + 512 bytes with the exact Current Size", () => {
    const p = fresh();
    createVhd(p, { virtualSize: 3 * MiB + 512, type: "fixed" });
    expect(fs.statSync(p).size).toBe(3 * MiB + 1024);
    const d = VhdImage.open(p);
    expect([d.type, d.virtualSize]).toEqual(["fixed", 3 * MiB + 512]);
    expect(d.dataRanges("file")).toEqual([{ offset: 0, length: 3 * MiB + 512 }]);
    d.close();
  });

  it("refuses bad sizes, block sizes and existing files", () => {
    expect(catchErr(() => createVhd(fresh(), { virtualSize: 1000, type: "fixed" })).code).toBe("InvalidArgument");
    expect(catchErr(() => createVhd(fresh(), { virtualSize: 3000 * 1024 * MiB, type: "dynamic" })).code).toBe("InvalidArgument");
    expect(catchErr(() => createVhd(fresh(), { virtualSize: MiB, type: "dynamic", blockSize: 3000 })).message).toContain("block size 3000");
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "fixed" });
    expect(catchErr(() => createVhd(p, { virtualSize: MiB, type: "fixed" })).code).toBe("AlreadyExists");
  });
});

describe("VhdImage read/write", () => {
  for (const type of ["fixed", "dynamic"] as const) {
    it(`matches a model after random unaligned writes (${type}), also after reopening`, () => {
      const p = fresh();
      createVhd(p, { virtualSize: 4 * MiB, type, blockSize: 256 * 1024 });
      const model = Buffer.alloc(4 * MiB);
      const d = VhdImage.open(p, { writable: true });
      randomWrites(d, model, 42, 60);
      expect(readAll(d).equals(model)).toBe(true);
      d.close();
      const again = VhdImage.open(p);
      expect(readAll(again).equals(model)).toBe(true);
      // Unaligned reads across block boundaries.
      const r = rng(7);
      for (let i = 0; i < 50; i++) {
        const len = 1 + Math.floor(r() * 600_000);
        const off = Math.floor(r() * (4 * MiB - len));
        const b = Buffer.alloc(len);
        again.read(b, off);
        expect(b.equals(model.subarray(off, off + len))).toBe(true);
      }
      again.close();
    });
  }

  it("keeps a valid footer at the end after every allocating write", () => {
    const p = fresh();
    createVhd(p, { virtualSize: 2 * MiB, type: "dynamic", blockSize: 64 * 1024 });
    const d = VhdImage.open(p, { writable: true });
    const copy = readFileAt(p, 0, 512);
    for (let i = 0; i < 8; i++) {
      d.write(Buffer.alloc(100, i + 1), (7 - i) * 200_000 + 33);
      const size = fs.statSync(p).size;
      expect(readFileAt(p, size - 512, 512).equals(copy)).toBe(true);
      expect(parseFooter(readFileAt(p, size - 512, 512)).diskType).toBe(3);
    }
    d.close();
  });

  it("reports allocated 4 KiB units as data ranges", () => {
    const p = fresh();
    createVhd(p, { virtualSize: 8 * MiB, type: "dynamic" });
    const d = VhdImage.open(p, { writable: true });
    d.write(Buffer.alloc(10, 1), 5000);
    d.write(Buffer.alloc(8192, 1), 3 * MiB);
    expect(d.dataRanges("file")).toEqual([
      { offset: 4096, length: 4096 },
      { offset: 3 * MiB, length: 8192 },
    ]);
    expect(d.dataRanges("file", 6000, 3 * MiB)).toEqual([
      { offset: 6000, length: 2192 },
      { offset: 3 * MiB, length: 6000 + 3 * MiB - 3 * MiB },
    ]);
    d.close();
  });

  it("refuses writes to a read-only disk, out-of-range access and use after close", () => {
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "dynamic" });
    const d = VhdImage.open(p);
    expect(catchErr(() => d.write(Buffer.alloc(1), 0)).code).toBe("VhdReadOnly");
    const e = catchErr(() => d.read(Buffer.alloc(2), MiB - 1));
    expect([e.code, e.category]).toEqual(["VhdRange", "InvalidArgument"]);
    expect(e.message).toBe(`Cannot read '${p}': range [1048575, 1048577) is outside the virtual disk of 1048576 bytes`);
    d.close();
    expect(catchErr(() => d.read(Buffer.alloc(1), 0)).code).toBe("VhdClosed");
    d.close();
  });

  it("reads a sector bitmap per sector, as the spec says (a clear bit after a set bit reads the parent)", () => {
    const base = fresh();
    createVhd(base, { virtualSize: MiB, type: "dynamic" });
    const b = VhdImage.open(base, { writable: true });
    b.write(Buffer.alloc(8 * 512, 0x11), 0);
    b.close();
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    const c = VhdImage.open(child, { writable: true });
    c.write(Buffer.alloc(4096, 0x22), 0);
    const batSector = readFileAt(child, c.header!.tableOffset, 4).readUInt32BE(0);
    c.close();
    patchFile(child, batSector * 512, Uint8Array.of(0b00100000)); // only sector 2 in the child
    const again = VhdImage.open(child);
    const out = Buffer.alloc(8 * 512);
    again.read(out, 0);
    expect([...Array(8).keys()].map((i) => out[i * 512])).toEqual([0x11, 0x11, 0x22, 0x11, 0x11, 0x11, 0x11, 0x11]);
    expect(again.dataRanges("file")).toEqual([{ offset: 1024, length: 512 }]);
    again.close();
  });
});

describe("differencing chains", () => {
  it("reads through three levels and writes only into the top file", () => {
    const base = fresh();
    createVhd(base, { virtualSize: 4 * MiB, type: "dynamic", blockSize: 512 * 1024 });
    const model = Buffer.alloc(4 * MiB);
    let d = VhdImage.open(base, { writable: true });
    randomWrites(d, model, 1, 20);
    d.close();
    const mid = fresh("avhd");
    createVhdDifferencing(mid, { parentPath: base });
    d = VhdImage.open(mid, { writable: true });
    randomWrites(d, model, 2, 20);
    d.close();
    const top = fresh("avhd");
    createVhdDifferencing(top, { parentPath: mid });
    d = VhdImage.open(top, { writable: true });
    randomWrites(d, model, 3, 20, 5000);
    expect(d.type).toBe("differencing");
    expect(d.parent?.type).toBe("differencing");
    expect(d.parent?.parent?.type).toBe("dynamic");
    expect(readAll(d).equals(model)).toBe(true);
    const file = d.dataRanges("file");
    const chain = d.dataRanges("chain");
    expect(file.reduce((s, r) => s + r.length, 0)).toBeLessThan(chain.reduce((s, r) => s + r.length, 0));
    d.close();
    const ro = VhdImage.open(top);
    expect(readAll(ro).equals(model)).toBe(true);
    ro.close();
  });

  it("finds a moved chain through the relative locator", () => {
    const base = fresh();
    createVhd(base, { virtualSize: MiB, type: "dynamic" });
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base, parentWindowsPath: "C:\\Nowhere\\gone.vhd" });
    const moved = tmp.file("moved");
    fs.mkdirSync(moved);
    const base2 = `${moved}/${base.split("/").pop()}`;
    const child2 = `${moved}/${child.split("/").pop()}`;
    fs.renameSync(base, base2);
    fs.renameSync(child, child2);
    const d = VhdImage.open(child2);
    expect(d.parent?.path).toBe(base2);
    d.close();
  });

  it("names the tried paths when the parent is missing", () => {
    const base = fresh();
    createVhd(base, { virtualSize: MiB, type: "dynamic" });
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    fs.rmSync(base);
    const e = catchErr(() => VhdImage.open(child));
    expect([e.code, e.category, e.target]).toEqual(["VhdParentNotFound", "ObjectNotFound", child]);
    expect(e.message).toContain(`Cannot open '${child}': parent disk not found; tried '${base}' (W2ru locator '.\\`);
  });

  it("checks the parent's Unique Id against the child's Parent Unique Id", () => {
    const p1 = fresh();
    const p2 = fresh();
    createVhd(p1, { virtualSize: MiB, type: "dynamic" });
    createVhd(p2, { virtualSize: MiB, type: "dynamic" });
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: p1 });
    const id1 = parseFooter(readFileAt(p1, 0, 512)).uniqueId;
    const id2 = parseFooter(readFileAt(p2, 0, 512)).uniqueId;
    const e = catchErr(() => VhdImage.open(child, { parentPath: p2 }));
    expect([e.code, e.category]).toEqual(["VhdParentMismatch", "InvalidData"]);
    expect(e.message).toBe(
      `Cannot open '${child}': parent '${p2}' has footer Unique Id ${id2}, but the child's dynamic header Parent Unique Id is ${id1}`,
    );
  });

  it("refuses a chain that loops", () => {
    const base = fresh();
    createVhd(base, { virtualSize: MiB, type: "dynamic" });
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    expect(catchErr(() => VhdImage.open(child, { parentPath: child })).message).toContain("differencing chain loops");
    // x's locators name base; replace base by another child whose locators name base too.
    const other = fresh("avhd");
    createVhdDifferencing(other, { parentPath: base });
    fs.renameSync(other, base);
    const e = catchErr(() => VhdImage.open(child));
    expect(e.code).toBe("VhdFormat");
    expect(e.message).toContain("differencing chain loops");
  });
});

describe("mergeVhdIntoParent", () => {
  it("copies the child's sectors into a dynamic parent; the parent then reads as the chain did", () => {
    const base = fresh();
    createVhd(base, { virtualSize: 4 * MiB, type: "dynamic", blockSize: 256 * 1024 });
    const model = Buffer.alloc(4 * MiB);
    let d = VhdImage.open(base, { writable: true });
    randomWrites(d, model, 11, 10);
    d.close();
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    d = VhdImage.open(child, { writable: true });
    randomWrites(d, model, 12, 30, 30_000);
    const fileBytes = d.dataRanges("file").reduce((s, r) => s + r.length, 0);
    d.close();
    const result = mergeVhdIntoParent(child);
    expect(result).toEqual({ parentPath: base, bytesMerged: fileBytes });
    const merged = VhdImage.open(base);
    expect(readAll(merged).equals(model)).toBe(true);
    merged.close();
  });

  it("merges the top of a three-level chain into a differencing parent", () => {
    const base = fresh();
    createVhd(base, { virtualSize: 2 * MiB, type: "fixed" });
    const model = Buffer.alloc(2 * MiB);
    let d = VhdImage.open(base, { writable: true });
    randomWrites(d, model, 21, 5);
    d.close();
    const mid = fresh("avhd");
    createVhdDifferencing(mid, { parentPath: base });
    d = VhdImage.open(mid, { writable: true });
    randomWrites(d, model, 22, 5);
    d.close();
    const top = fresh("avhd");
    createVhdDifferencing(top, { parentPath: mid });
    d = VhdImage.open(top, { writable: true });
    randomWrites(d, model, 23, 5);
    d.close();
    mergeVhdIntoParent(top);
    const m = VhdImage.open(mid);
    expect(readAll(m).equals(model)).toBe(true);
    m.close();
  });

  it("refuses a disk that is not differencing", () => {
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "dynamic" });
    expect(catchErr(() => mergeVhdIntoParent(p)).message).toBe(`Cannot merge '${p}': it is a dynamic disk, not a differencing disk`);
  });
});

describe("damaged and hostile files", () => {
  function dynamicWithData(): string {
    const p = fresh();
    createVhd(p, { virtualSize: 4 * MiB, type: "dynamic", blockSize: 512 * 1024 });
    const d = VhdImage.open(p, { writable: true });
    d.write(Buffer.alloc(MiB, 0x5a), 100_000);
    d.close();
    return p;
  }

  it("reports a bad footer cookie with the file, structure and field", () => {
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "fixed" });
    patchFile(p, MiB, Buffer.from("cOnectix"));
    const e = catchErr(() => VhdImage.open(p));
    expect([e.code, e.category, e.target]).toEqual(["VhdFormat", "InvalidData", p]);
    expect(e.message).toBe(`Cannot open '${p}': footer cookie is 'cOnectix', expected 'conectix'`);
  });

  it("reports a bad footer checksum", () => {
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "fixed" });
    patchFile(p, MiB + 100, Uint8Array.of(1));
    expect(catchErr(() => VhdImage.open(p)).message).toMatch(/^Cannot open '.*': footer checksum is 0x[0-9a-f]+, expected 0x[0-9a-f]+$/);
  });

  it("reports a file too short to be a VHD and a non-existent file", () => {
    const p = fresh();
    fs.writeFileSync(p, Buffer.alloc(100));
    expect(catchErr(() => VhdImage.open(p)).message).toBe(`Cannot open '${p}': file is 100 bytes, too short for a VHD footer (512 bytes)`);
    expect(catchErr(() => VhdImage.open(fresh())).code).toBe("NotFound");
  });

  it("reports a fixed disk shorter than its Current Size", () => {
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "fixed" });
    patchStructure(p, MiB, 512, 64, (b) => b.writeBigUInt64BE(2n * BigInt(MiB), 48));
    expect(catchErr(() => VhdImage.open(p)).message).toContain("fixed disk is truncated: footer Current Size is 2097152 bytes, but the file holds 1048576 bytes");
  });

  it("reports a truncated dynamic disk (BAT entry past the end of the file)", () => {
    const p = dynamicWithData();
    fs.truncateSync(p, fs.statSync(p).size - 100_000);
    const e = catchErr(() => VhdImage.open(p));
    expect(e.code).toBe("VhdFormat");
    expect(e.message).toMatch(/BAT entry \d+ points at sector 0x[0-9a-f]+ .*past the end of data/);
  });

  it("reports absurd header fields", () => {
    const p = dynamicWithData();
    patchStructure(p, 512, 1024, 36, (b) => b.writeUInt32BE(1, 28));
    expect(catchErr(() => VhdImage.open(p)).message).toContain("dynamic header Max Table Entries is 1, but Current Size 4194304 needs 8 blocks");
    patchStructure(p, 512, 1024, 36, (b) => {
      b.writeUInt32BE(8, 28);
      b.writeBigUInt64BE(1n << 40n, 16);
    });
    expect(catchErr(() => VhdImage.open(p)).message).toContain("dynamic header Table Offset 1099511627776: the BAT of 32 bytes ends past the end of the file");
    patchStructure(p, 0, 512, 64, (b) => b.writeBigUInt64BE(1n << 40n, 16));
    patchFile(p, fs.statSync(p).size - 512, readFileAt(p, 0, 512));
    expect(catchErr(() => VhdImage.open(p)).message).toContain("footer Data Offset 1099511627776 points past the end of the file");
  });

  it("reports a BAT entry pointing into the metadata", () => {
    const p = dynamicWithData();
    patchFile(p, 1536, Buffer.from("00000001", "hex"));
    expect(catchErr(() => VhdImage.open(p)).message).toContain("BAT entry 0 points at offset 512, inside metadata");
  });

  it("reports parent locator data outside the file", () => {
    const base = fresh();
    createVhd(base, { virtualSize: MiB, type: "dynamic" });
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    patchStructure(child, 512, 1024, 36, (b) => b.writeBigUInt64BE(1n << 30n, 576 + 16));
    expect(catchErr(() => VhdImage.open(child)).message).toContain("parent locator 1 ('W2ru'): data of");
  });

  it("survives a crash during block allocation: reads with the footer copy, repairs when writable", () => {
    const p = dynamicWithData();
    const before = VhdImage.open(p);
    const content = readAll(before);
    before.close();
    const size = fs.statSync(p).size;
    // The bitmap and data of a new block were written over the footer; then the power failed.
    patchFile(p, size - 512, Buffer.alloc(4096, 0x77));
    expect(isVhdFile(p)).toBe(true);
    const ro = VhdImage.open(p);
    expect(readAll(ro).equals(content)).toBe(true);
    ro.close();
    const rw = VhdImage.open(p, { writable: true });
    expect(fs.statSync(p).size).toBe(size);
    rw.write(Buffer.alloc(512, 1), 3 * MiB);
    content.fill(1, 3 * MiB, 3 * MiB + 512);
    rw.close();
    const again = VhdImage.open(p);
    expect(readAll(again).equals(content)).toBe(true);
    expect(parseFooter(readFileAt(p, fs.statSync(p).size - 512, 512)).diskType).toBe(3);
    again.close();
  });

  it("never fails with anything but HvbError on random corruption of the metadata", () => {
    const base = dynamicWithData();
    const original = fs.readFileSync(base);
    const r = rng(99);
    const p = fresh();
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(original);
      const hits = 1 + Math.floor(r() * 4);
      for (let h = 0; h < hits; h++) {
        // Corrupt the metadata (first 2 KiB) or the footer, where parsing decisions are made.
        const at = r() < 0.7 ? Math.floor(r() * 2048) : b.length - 512 + Math.floor(r() * 512);
        b[at] = Math.floor(r() * 256);
      }
      fs.writeFileSync(p, b);
      try {
        const d = VhdImage.open(p);
        readAll(d);
        d.dataRanges("chain");
        d.close();
      } catch (e) {
        expect(e).toBeInstanceOf(HvbError);
      }
    }
  });
});

describe("isVhdFile", () => {
  it("recognises VHD files and rejects others without throwing", () => {
    const p = fresh();
    createVhd(p, { virtualSize: MiB, type: "dynamic" });
    expect(isVhdFile(p)).toBe(true);
    const other = fresh("txt");
    fs.writeFileSync(other, "hello");
    expect(isVhdFile(other)).toBe(false);
    expect(isVhdFile(fresh())).toBe(false);
  });
});
