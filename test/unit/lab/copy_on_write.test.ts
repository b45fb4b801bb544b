/**
 * The lab's shadow copy keeps a file's bytes by a hard link, and a change in place first gives
 * the file's path its own copy (src/lab/host/copy_on_write.ts): the frozen name, and a reader
 * that opened it before the change, keep the old bytes; the live path gets the change.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { freezeInto, independentCopy, unshareBeforeChange } from "../../../src/lab/host/copy_on_write";

function bytes(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

describe("lab copy-on-write", () => {
  it("keeps the frozen bytes for the frozen name and an open reader; the live file changes, holes stay holes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hvb-cow-"));
    try {
      const live = path.join(dir, "vol", "disk.vhdx");
      const frozen = path.join(dir, "shadow", "disk.vhdx");
      fs.mkdirSync(path.dirname(live));
      // 4 MiB of data, an 8 MiB hole, 1 MiB of data.
      const fd0 = fs.openSync(live, "w");
      fs.writeSync(fd0, bytes(1, 4 << 20), 0, 4 << 20, 0);
      fs.writeSync(fd0, bytes(2, 1 << 20), 0, 1 << 20, 12 << 20);
      fs.closeSync(fd0);
      const before = fs.readFileSync(live);

      freezeInto(live, frozen);
      expect(fs.statSync(live).nlink).toBe(2);
      const reader = fs.openSync(frozen, "r");
      try {
        unshareBeforeChange(live);
        expect(fs.statSync(live).nlink).toBe(1);
        const fd = fs.openSync(live, "r+");
        fs.writeSync(fd, bytes(3, 1 << 20), 0, 1 << 20, 1 << 20);
        fs.closeSync(fd);

        expect(fs.readFileSync(frozen).equals(before)).toBe(true);
        const seen = Buffer.alloc(before.length);
        fs.readSync(reader, seen, 0, seen.length, 0);
        expect(seen.equals(before)).toBe(true);
        const now = fs.readFileSync(live);
        expect(now.subarray(1 << 20, 2 << 20).equals(bytes(3, 1 << 20))).toBe(true);
        expect(now.subarray(2 << 20).equals(before.subarray(2 << 20))).toBe(true);
        // The copy kept the hole: 5 MiB of data in a 13 MiB file (a disk file's holes are never written out).
        expect(fs.statSync(live).blocks * 512).toBeLessThan(8 << 20);
      } finally {
        fs.closeSync(reader);
      }
      // A second change needs no copy: the file has no other name now.
      const ino = fs.statSync(live).ino;
      unshareBeforeChange(live);
      expect(fs.statSync(live).ino).toBe(ino);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an independent copy has the same bytes and shares nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hvb-cow-"));
    try {
      const a = path.join(dir, "a");
      const b = path.join(dir, "b");
      fs.writeFileSync(a, bytes(4, 3 << 20));
      independentCopy(a, b);
      expect(fs.readFileSync(b).equals(fs.readFileSync(a))).toBe(true);
      expect(fs.statSync(b).ino).not.toBe(fs.statSync(a).ino);
      expect(fs.statSync(a).nlink).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
