/**
 * Cross-checks against independent implementations: qemu-img/qemu-io (format "vpc") for fixed
 * and dynamic disks, libvhdi (pyvhdi, via test/oracles/pyvhdi_read_vhd.py) for all types
 * including differencing chains. qemu is no oracle for chains: it opens a differencing VHD as if
 * it were standalone. Skipped when the tools are missing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readAll, rng, tempDir } from "../support/vhd";
import { createVhd, createVhdDifferencing, mergeVhdIntoParent, VhdImage } from "../../src/vhd/mod";

const MiB = 1024 * 1024;
const PYVHDI_SCRIPT = nodePath.resolve(__dirname, "pyvhdi_read_vhd.py");

function has(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return r.status === 0;
}
const HAVE_QEMU = has("qemu-img", ["--version"]) && has("qemu-io", ["--version"]);
const HAVE_PYVHDI = has("/usr/bin/python3", ["-c", "import pyvhdi"]);

const tmp = tempDir("vhd-oracle");
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = (ext = "vhd"): string => tmp.file(`o${n++}.${ext}`);

function qemuConvertToRaw(vhd: string): Buffer {
  const raw = fresh("raw");
  execFileSync("qemu-img", ["convert", "-f", "vpc", "-O", "raw", vhd, raw]);
  return fs.readFileSync(raw);
}

/** True when qemu-img compare says the raw file and the VHD hold the same guest data. */
function qemuCompare(raw: string, vhd: string): { status: number | null; out: string } {
  const r = spawnSync("qemu-img", ["compare", "-f", "raw", "-F", "vpc", raw, vhd], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Reads a chain (top first) with libvhdi. */
function pyvhdiRead(chain: string[]): { data: Buffer; info: { media_size: number; disk_type: number } } {
  const out = fresh("raw");
  const stdout = execFileSync("/usr/bin/python3", [PYVHDI_SCRIPT, out, ...chain], { encoding: "utf8" });
  return { data: fs.readFileSync(out), info: JSON.parse(stdout) };
}

function randomWrites(disk: VhdImage, model: Buffer, seed: number, count: number, maxLen: number): void {
  const r = rng(seed);
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(r() * maxLen);
    const off = Math.floor(r() * (disk.virtualSize - len));
    const data = Buffer.alloc(len, 1 + Math.floor(r() * 254));
    disk.write(data, off);
    data.copy(model, off);
  }
}

describe.skipIf(!HAVE_QEMU)("qemu-created images read by VhdImage", () => {
  const cases: Array<{ subformat: string; force: boolean; size: string }> = [
    { subformat: "dynamic", force: true, size: "64M" },
    { subformat: "fixed", force: true, size: "16M" },
    { subformat: "dynamic", force: false, size: "10M" },
  ];
  for (const c of cases) {
    it(`equals qemu-img convert for ${c.subformat}${c.force ? ", force_size=on" : " (CHS-rounded size)"}`, () => {
      const p = fresh();
      const opts = `subformat=${c.subformat}${c.force ? ",force_size=on" : ""}`;
      execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", opts, p, c.size]);
      for (const cmd of ["write -P 0xab 1M 64k", "write -P 0xcd 5M 4097", "write -P 0x11 0 512", "write -P 0x22 7340032 2M"]) {
        execFileSync("qemu-io", ["-f", "vpc", "-c", cmd, p], { stdio: "ignore" });
      }
      const expected = qemuConvertToRaw(p);
      const d = VhdImage.open(p);
      expect(d.virtualSize).toBe(expected.length);
      expect(readAll(d).equals(expected)).toBe(true);
      if (c.subformat === "dynamic") {
        // qemu marks whole blocks present; every written byte must be inside the ranges.
        const ranges = d.dataRanges("chain");
        for (const at of [1 * MiB, 5 * MiB, 0, 7340032]) expect(ranges.some((r) => r.offset <= at && at < r.offset + r.length)).toBe(true);
      }
      d.close();
    });
  }
});

describe.skipIf(!HAVE_QEMU || !HAVE_PYVHDI)("VhdImage-written images read by qemu-img and libvhdi", () => {
  for (const type of ["fixed", "dynamic"] as const) {
    it(`${type}: qemu-img compare and pyvhdi agree with the model`, () => {
      const size = 24 * MiB + 512 * 3; // deliberately not a CHS product: Current Size must win
      const p = fresh();
      createVhd(p, { virtualSize: size, type });
      const model = Buffer.alloc(size);
      const d = VhdImage.open(p, { writable: true });
      randomWrites(d, model, 5, 40, 300_000);
      d.write(Buffer.alloc(1000, 0x99), size - 1000);
      model.fill(0x99, size - 1000);
      d.close();
      const raw = fresh("raw");
      fs.writeFileSync(raw, model);
      const cmp = qemuCompare(raw, p);
      expect(cmp.out).toContain("Images are identical");
      expect(cmp.status).toBe(0);
      const py = pyvhdiRead([p]);
      expect(py.info).toEqual({ media_size: size, disk_type: type === "fixed" ? 2 : 3 });
      expect(py.data.equals(model)).toBe(true);
    });
  }

  it("differencing chain of three levels: pyvhdi (set_parent) reads what VhdImage reads", () => {
    const base = fresh();
    createVhd(base, { virtualSize: 16 * MiB, type: "dynamic" });
    const model = Buffer.alloc(16 * MiB);
    const chain = [base];
    let d = VhdImage.open(base, { writable: true });
    randomWrites(d, model, 31, 20, 500_000);
    d.close();
    for (let level = 1; level <= 2; level++) {
      const child = fresh("avhd");
      createVhdDifferencing(child, { parentPath: chain[0]! });
      chain.unshift(child);
      d = VhdImage.open(child, { writable: true });
      randomWrites(d, model, 31 + level, 25, level === 1 ? 300_000 : 3000);
      d.close();
    }
    d = VhdImage.open(chain[0]!);
    expect(readAll(d).equals(model)).toBe(true);
    d.close();
    const py = pyvhdiRead(chain);
    expect(py.info).toEqual({ media_size: 16 * MiB, disk_type: 4 });
    expect(py.data.equals(model)).toBe(true);
    // vhdiinfo sees the parent name and identifier we wrote.
    const info = execFileSync("vhdiinfo", [chain[0]!], { encoding: "utf8" });
    expect(info).toContain(`Parent filename\t\t: ${nodePath.basename(chain[1]!)}`);
  });

  it("merge: the merged parent reads as the chain did, for qemu-img compare and pyvhdi", () => {
    const base = fresh();
    createVhd(base, { virtualSize: 8 * MiB, type: "dynamic", blockSize: 512 * 1024 });
    const model = Buffer.alloc(8 * MiB);
    let d = VhdImage.open(base, { writable: true });
    randomWrites(d, model, 41, 10, 200_000);
    d.close();
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    d = VhdImage.open(child, { writable: true });
    randomWrites(d, model, 42, 30, 50_000);
    d.close();
    mergeVhdIntoParent(child);
    const raw = fresh("raw");
    fs.writeFileSync(raw, model);
    expect(qemuCompare(raw, base).status).toBe(0);
    expect(pyvhdiRead([base]).data.equals(model)).toBe(true);
  });

  it("a qemu-created dynamic parent works under a VhdImage-created child", () => {
    const base = fresh();
    execFileSync("qemu-img", ["create", "-q", "-f", "vpc", "-o", "subformat=dynamic,force_size=on", base, "8M"]);
    execFileSync("qemu-io", ["-f", "vpc", "-c", "write -P 0x5a 0 3M", base], { stdio: "ignore" });
    const child = fresh("avhd");
    createVhdDifferencing(child, { parentPath: base });
    const d = VhdImage.open(child, { writable: true });
    d.write(Buffer.alloc(8192, 0x66), MiB);
    d.close();
    const model = qemuConvertToRaw(base);
    model.fill(0x66, MiB, MiB + 8192);
    const ours = VhdImage.open(child);
    expect(readAll(ours).equals(model)).toBe(true);
    ours.close();
    expect(pyvhdiRead([child, base]).data.equals(model)).toBe(true);
  });
});
