/**
 * Disk identity (issue 13 A1): a VM's disks, its checkpoint's disks and a reference point's
 * RCT ids are paired by where each disk is attached, never by the order the host lists them.
 * The lab shuffles every answer (seeded), so pairing by position puts one disk's changes
 * into another disk's chain; these VMs spread equal-sized disks over two SCSI controllers
 * (which WMI does not number), IDE, a DVD drive and a pass-through disk.
 */
import { afterEach, describe, expect, it } from "vitest";
import { backupAsync, guestViewAsync, guestWriteAsync, newWorldAsync, okAsync, restoreSideBySideAsync } from "../../support/engine_harness";

const MiB = 1024 * 1024;
let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});

describe("disks are paired by location, whatever order the host answers in", () => {
  it("backs up and restores bit-exact a VM with disks on two SCSI controllers through incrementals", async () => {
    // A fixed seed makes the shuffles of this run repeatable (other labs draw their own).
    const w = await newWorldAsync("identity", ["--seed", "1307", "--job-ms", "0"]);
    worlds.push(w);
    // Lab disk 0 sits on the second controller: equal sizes, so a wrong pairing is not caught by a size check.
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "multi", "--disk", "16MiB@scsi:1:0", "--disk", "16MiB@scsi:0:0", "--disk", "16MiB@scsi:1:1", "--dvd", "--passthrough"]);
    const seen: Array<{ id: string; kind: string; view: string[] }> = [];
    for (let round = 0; round < 3; round++) {
      for (let disk = 0; disk < 3; disk++) await guestWriteAsync(w.lab, "multi", disk, (round * 3 + disk) * 512 * 1024, 64 * 1024, round * 10 + disk + 1);
      const view = await guestViewAsync(w.lab, "multi");
      const p = await backupAsync(w, "multi");
      seen.push({ id: p.id, kind: p.kind, view });
    }
    expect(seen.map((s) => s.kind)).toEqual(["full", "incremental", "incremental"]);
    // The newest point restores through the whole chain: every increment landed on its own disk.
    expect(await restoreSideBySideAsync(w, "multi", seen[2]!.id, "m")).toEqual(seen[2]!.view);
  });

  it("backs up a generation 1 VM on IDE and SCSI that runs on a standard checkpoint", async () => {
    const w = await newWorldAsync("identity-g1", ["--seed", "4242", "--job-ms", "0"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "g1", "--generation", "1", "--disk", "16MiB", "--disk", "16MiB@ide:0:1", "--disk", "16MiB@scsi:0:0", "--dvd", "--checkpoint", "before-patch"]);
    const seen: Array<{ id: string; view: string[] }> = [];
    for (let round = 0; round < 2; round++) {
      for (let disk = 0; disk < 3; disk++) await guestWriteAsync(w.lab, "g1", disk, (round + 1) * MiB + disk * 4096, 8192, round * 10 + disk + 1);
      const view = await guestViewAsync(w.lab, "g1");
      seen.push({ id: (await backupAsync(w, "g1")).id, view });
    }
    expect(await restoreSideBySideAsync(w, "g1", seen[1]!.id, "g")).toEqual(seen[1]!.view);
  });
});
