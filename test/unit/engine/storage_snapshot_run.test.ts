/**
 * StorageSnapshotRun (issue 12, `--storage-snapshot`): one shadow copy per volume, each taken
 * after the checkpoints of every VM of the set on that volume, and that volume's VMs converted
 * before the VMs of the next volume take their checkpoints. Driven by simulated VMs over a
 * stand-in root\cimv2; the order of what happened is asserted, never a time.
 */
import { describe, expect, it } from "vitest";
import type { CimInstance, CimMethodResult, CimSession } from "../../../src/cim/mod";
import type { HostCheckpoint } from "../../../src/engine/host_api";
import { StorageSnapshotRun } from "../../../src/engine/backup/storage_snapshot";
import { quiet } from "./_repo_fixture";

const VOLUMES = [
  { name: "/v1/", deviceId: "\\\\?\\Volume{1}\\", fileSystem: "ext4" },
  { name: "/v2/", deviceId: "\\\\?\\Volume{2}\\", fileSystem: "ext4" },
];

/** root\cimv2 with Win32_ShadowCopy only: Create, the instance, DeleteInstance; each call logged. */
function shadowHost(log: string[]): CimSession {
  let n = 0;
  const fail = (): never => {
    throw new Error("not served");
  };
  return {
    query: async () => fail(),
    associators: async () => fail(),
    getInstance: async (path: string): Promise<CimInstance> => ({ __CLASS: "Win32_ShadowCopy", __PATH: path, DeviceObject: `\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy${path.slice(-3, -1)}` }),
    invokeMethod: async (_path: string, method: string, args: Record<string, unknown> = {}): Promise<CimMethodResult> => {
      if (method !== "Create") fail();
      await new Promise((r) => setImmediate(r));
      log.push(`shadow ${String(args["Volume"])}`);
      return { ReturnValue: 0, ShadowID: `{S${++n}}` };
    },
    deleteInstance: async (path: string) => {
      log.push(`delete ${path}`);
    },
  } as unknown as CimSession;
}


function checkpointOf(key: string, roots: string[]): HostCheckpoint {
  return { path: `cp:${key}`, instanceId: key, name: key, vmId: key, vmName: key, disks: roots.map((r, i) => ({ index: i, path: `${r}${key}-${i}.vhdx` })) } as unknown as HostCheckpoint;
}

interface SimVm {
  key: string;
  /** The volumes the set knows the VM's disks are on. */
  declared: string[];
  /** Where its checkpoint's frozen files are (default: declared). */
  frozenOn?: string[];
  /** Fails before it is ready, or in its checkpoint call. */
  fails?: "before-ready" | "checkpoint";
}

/** Runs every VM through the set-wide phase as the backup set does; returns the log and each VM's shadow copies. */
async function runSet(vms: SimVm[], parallel = 2): Promise<{ log: string[]; shadows: Map<string, Map<string, unknown>> }> {
  const log: string[] = [];
  const run = new StorageSnapshotRun(shadowHost(log), VOLUMES, vms.length, quiet, parallel);
  for (const v of vms) run.declare(v.key, v.declared);
  const shadows = new Map<string, Map<string, unknown>>();
  const one = async (v: SimVm): Promise<void> => {
    let ready = false;
    let arrived = false;
    try {
      // Each VM prepares for a different number of turns, as VMs do.
      for (let i = 0; i < (v.key.charCodeAt(v.key.length - 1) % 4); i++) await new Promise((r) => setImmediate(r));
      if (v.fails === "before-ready") throw new Error("prepare failed");
      ready = true;
      await run.ready();
      const cp = await run.checkpointStep(v.key, async () => {
        log.push(`checkpoint ${v.key}`);
        await new Promise((r) => setImmediate(r));
        if (v.fails === "checkpoint") throw new Error("checkpoint failed");
        return checkpointOf(v.key, v.frozenOn ?? v.declared);
      });
      arrived = true;
      const got = await run.arrive(v.key, cp);
      shadows.set(v.key, got);
      await run.conversionStep(async () => {
        await new Promise((r) => setImmediate(r));
        log.push(`convert ${v.key}`);
      });
      await run.settle();
      log.push(`copy ${v.key}`);
    } catch {
      if (!arrived) run.depart(v.key, ready);
    }
  };
  await Promise.all(vms.map(one));
  await run.finish();
  return { log, shadows };
}

const at = (log: string[], entry: string): number => {
  const i = log.indexOf(entry);
  expect(i, `${entry} in ${log.join(", ")}`).toBeGreaterThanOrEqual(0);
  return i;
};

describe("StorageSnapshotRun", () => {
  it("takes each volume's shadow copy once its VMs have their checkpoints, and converts them before the next volume's checkpoints", async () => {
    const v1 = ["a1", "a2", "a3", "a4"].map((key) => ({ key, declared: ["/v1/"] }));
    const v2 = ["b1", "b2", "b3"].map((key) => ({ key, declared: ["/v2/"] }));
    const both = { key: "m1", declared: ["/v1/", "/v2/"] };
    // Declared interleaved, as `--all` lists them.
    const { log } = await runSet([v2[0]!, v1[0]!, both, v2[1]!, v1[1]!, v1[2]!, v2[2]!, v1[3]!]);

    expect(log.filter((e) => e.startsWith("shadow"))).toEqual(["shadow /v1/", "shadow /v2/"]);
    // Every VM with disks on a volume has its checkpoint before that volume's shadow copy.
    for (const v of [...v1, both]) expect(at(log, `checkpoint ${v.key}`)).toBeLessThan(at(log, "shadow /v1/"));
    for (const v of [...v2, both]) expect(at(log, `checkpoint ${v.key}`)).toBeLessThan(at(log, "shadow /v2/"));
    // The first volume's VMs are converted before any VM of the second volume checkpoints.
    for (const a of v1) for (const b of v2) expect(at(log, `convert ${a.key}`)).toBeLessThan(at(log, `checkpoint ${b.key}`));
    // A VM on both volumes is converted after both shadow copies.
    expect(at(log, "convert m1")).toBeGreaterThan(at(log, "shadow /v2/"));
    // The copies start once every VM is converted; the shadow copies go at the end.
    const lastConvert = Math.max(...log.flatMap((e, i) => (e.startsWith("convert") ? [i] : [])));
    const firstCopy = Math.min(...log.flatMap((e, i) => (e.startsWith("copy") ? [i] : [])));
    expect(lastConvert).toBeLessThan(firstCopy);
    expect(log.filter((e) => e.startsWith("copy"))).toHaveLength(8);
    expect(log.filter((e) => e.startsWith("delete"))).toHaveLength(2);
  });

  it("goes on without the VMs that fail, and never puts a checkpoint taken after a volume's shadow copy in it", async () => {
    const { log, shadows } = await runSet([
      { key: "a1", declared: ["/v1/"] },
      { key: "a2", declared: ["/v1/"], fails: "checkpoint" },
      { key: "a3", declared: ["/v1/"], fails: "before-ready" },
      { key: "b1", declared: ["/v2/"] },
      // The set was told /v2/ only, but its checkpoint has a disk on /v1/ too, whose shadow
      // copy was taken before: that disk is not frozen in it.
      { key: "b2", declared: ["/v2/"], frozenOn: ["/v1/", "/v2/"] },
    ]);
    expect(log.filter((e) => e.startsWith("shadow"))).toEqual(["shadow /v1/", "shadow /v2/"]);
    expect(at(log, "checkpoint b2")).toBeGreaterThan(at(log, "shadow /v1/"));
    expect(shadows.get("b2")!.get("/v1/")).toBeNull();
    expect(shadows.get("b2")!.get("/v2/")).not.toBeNull();
    expect(shadows.get("a1")!.get("/v1/")).not.toBeNull();
    expect(log.filter((e) => e.startsWith("copy")).sort()).toEqual(["copy a1", "copy b1", "copy b2"]);
  });

  it("takes no shadow copy of a volume whose VMs all failed before their checkpoint", async () => {
    const { log } = await runSet([
      { key: "a1", declared: ["/v1/"], fails: "before-ready" },
      { key: "b1", declared: ["/v2/"] },
    ]);
    expect(log.filter((e) => e.startsWith("shadow"))).toEqual(["shadow /v2/"]);
    expect(log.filter((e) => e.startsWith("copy"))).toEqual(["copy b1"]);
  });
});
