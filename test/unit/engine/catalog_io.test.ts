import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { mkdtempSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { backupVm } from "../../../src/engine/mod";
import { HyperVClient } from "../../../src/hyperv/mod";
import { type Catalog, Repository, VmStore } from "../../../src/repository/mod";
import { MiB, addVm, newLab } from "../../support/lab";
import { quiet } from "./_repo_fixture";

/** A VM folder that counts catalog reads and writes. */
class CountingStore extends VmStore {
  reads = 0;
  writes = 0;
  override readCatalog(): Catalog {
    this.reads++;
    return super.readCatalog();
  }
  override writeCatalog(c: Catalog): void {
    this.writes++;
    super.writeCatalog(c);
  }
}

class CountingRepository extends Repository {
  stores: CountingStore[] = [];
  override vmStore(vmName: string, vmId: string): VmStore {
    const s = new CountingStore(super.vmStore(vmName, vmId).dir);
    this.stores.push(s);
    return s;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function countedBackups(configVersion: string, runs: number, hashChangeDetection: boolean): Promise<Array<{ reads: number; writes: number; method: string[] }>> {
  const lab = newLab();
  dirs.push(lab.dir);
  addVm(lab, { name: "v", diskSizes: [8 * MiB, 4 * MiB], configVersion });
  const host = new HyperVClient(lab.session, { pollMs: 1 });
  const root = mkdtempSync(path.join(tmpdir(), "hvb-catalog-io-"));
  dirs.push(root);
  const out: Array<{ reads: number; writes: number; method: string[] }> = [];
  for (let i = 0; i < runs; i++) {
    const repo = new CountingRepository(root);
    const r = await backupVm(host, repo, "v", { hashChangeDetection }, quiet);
    const s = repo.stores[0]!;
    out.push({ reads: s.reads, writes: s.writes, method: r.point.disks.map((d) => d.method) });
    // What the backup returned is what the catalog holds.
    expect(new VmStore(s.dir).readCatalog().points.at(-1)).toEqual(r.point);
  }
  return out;
}

describe("catalog I/O of one backup", () => {
  it("RCT: one read; the commit, then one write for the reference points", async () => {
    const runs = await countedBackups("9.0", 3, false);
    expect(runs).toEqual([
      { reads: 1, writes: 2, method: ["full", "full"] },
      { reads: 1, writes: 2, method: ["rct", "rct"] },
      { reads: 1, writes: 2, method: ["rct", "rct"] },
    ]);
  });
  it("hashing (no RCT): one read and the commit write only", async () => {
    const runs = await countedBackups("5.0", 2, true);
    expect(runs).toEqual([
      { reads: 1, writes: 1, method: ["full", "full"] },
      { reads: 1, writes: 1, method: ["hash", "hash"] },
    ]);
  });
});
