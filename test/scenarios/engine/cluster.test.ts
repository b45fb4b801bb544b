/**
 * A two-node lab cluster (issue 12): each VM is found on and backed up by the node owning its
 * cluster role (root\MSCluster), with 1 VM at a time per node and per cluster shared volume by
 * default; a VM that live-migrates between its checkpoint and its copy is followed and RCT goes
 * on after the move; a restored VM gets its cluster role back unless --no-cluster-role.
 */
import { describe, expect, it } from "vitest";
import { events, guestViewAsync, guestWriteAsync, hvbAsync, labVmsAsync, newWorldAsync, okAsync, recoveryCheckpoints, restoreSideBySideAsync } from "../../support/engine_harness";

interface SetEntry {
  vm: string;
  ok: boolean;
  node: string;
  point: { id: string; kind: string; disks: Array<{ method: string }> };
}
interface SetResult {
  results: SetEntry[];
  summary: { succeeded: number; limits: { parallel: number; perVolume: number | null; perHost: number | null } };
}
interface Listing {
  vms: Array<{ name: string; id: string; node: string }>;
  volumes: Array<{ name: string; csv: boolean; peakCheckpoints: number }>;
  nodes: Array<{ name: string; peakCheckpoints: number }>;
}

function resultOf<T>(stdout: string): T {
  return events(stdout).find((e) => e.type === "result")!.data as T;
}

async function listing(lab: string): Promise<Listing> {
  return JSON.parse((await okAsync(["lab", "ls", "--lab", lab, "--json"])).stdout) as Listing;
}

async function clusterRoles(lab: string): Promise<string[]> {
  const out = await okAsync(["lab", "cim", "query", "--lab", lab, "--namespace", "root\\MSCluster", "SELECT * FROM MSCluster_Resource WHERE Type='Virtual Machine'"]);
  const rows = JSON.parse(out.stdout) as Array<Record<string, unknown>>;
  return rows.map((r) => String((r["PrivateProperties"] as { VmID: string }).VmID).toUpperCase());
}

describe("a two-node lab cluster", () => {
  it("backs up each VM on its owner within the cluster limits, follows a live migration, and restores as a cluster role", async () => {
    const w = await newWorldAsync("cluster", ["--job-ms", "0", "--nodes", "2"]);
    try {
      for (const n of ["vm1", "vm2", "vm3", "vm4"]) await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", n, "--disk", "4MiB"]);
      const l0 = await listing(w.lab);
      expect(l0.vms.map((v) => v.node)).toEqual(["NODE1", "NODE2", "NODE1", "NODE2"]);
      expect(l0.volumes.find((v) => v.csv)?.name).toBe("Volume1");

      // Node 1 alone does not see vm2: the client asks the cluster and goes to node 2.
      const onNode1 = JSON.parse((await okAsync(["lab", "cim", "query", "--lab", w.lab, "--node", "NODE1", "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='vm2'"])).stdout) as unknown[];
      expect(onNode1).toHaveLength(0);
      const one = await hvbAsync(["backup", "--vm", "vm2", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(one.code, one.stderr).toBe(0);
      // The one-VM commands find it there too.
      expect((await hvbAsync(["readiness", "--vm", "vm2", "--repo", w.repo, "--lab", w.lab])).code).toBe(0);
      expect((await hvbAsync(["cleanup", "--vm", "vm2", "--repo", w.repo, "--lab", w.lab])).code).toBe(0);

      const all = await hvbAsync(["backup", "--all", "--repo", w.repo, "--lab", w.lab, "--parallel", "4", "--json"]);
      expect(all.code, all.stderr).toBe(0);
      const set = resultOf<SetResult>(all.stdout);
      expect(set.summary.succeeded).toBe(4);
      expect(set.summary.limits).toEqual({ parallel: 4, perVolume: 1, perHost: 1 });
      expect(Object.fromEntries(set.results.map((r) => [r.vm, r.node]))).toEqual({ vm1: "NODE1", vm2: "NODE2", vm3: "NODE1", vm4: "NODE2" });
      // Measured by the host: never two recovery checkpoints at once on the shared volume.
      const l1 = await listing(w.lab);
      expect(l1.volumes.find((v) => v.csv)!.peakCheckpoints).toBe(1);
      for (const n of l1.nodes) expect(n.peakCheckpoints).toBe(1);

      // vm1 moves to node 2 between its checkpoint and its copy (right after RCT was asked).
      await guestWriteAsync(w.lab, "vm1", 0, 0, 128 * 1024, 7);
      await okAsync(["lab", "migrate", "--lab", w.lab, "--vm", "vm1", "--to", "NODE2", "--after", "GetVirtualDiskChanges"]);
      const moved = await hvbAsync(["backup", "--vm", "vm1*", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(moved.code, moved.stderr).toBe(0);
      const m = resultOf<SetResult>(moved.stdout).results[0]!;
      expect(m).toMatchObject({ vm: "vm1", ok: true, node: "NODE2" });
      expect(m.point.kind).toBe("incremental");
      expect(events(moved.stdout).some((e) => e.code === "VmMigrated")).toBe(true);
      expect(await recoveryCheckpoints(w.lab)).toHaveLength(0);
      expect((await labVmsAsync(w.lab)).find((v) => v.name === "vm1")).toMatchObject({ node: "NODE2" });

      // RCT goes on after the move: the next backup on node 2 is incremental from RCT.
      await guestWriteAsync(w.lab, "vm1", 0, MiB2, 64 * 1024, 8);
      const want = await guestViewAsync(w.lab, "vm1");
      const after = await hvbAsync(["backup", "--vm", "vm1*", "--repo", w.repo, "--lab", w.lab, "--json"]);
      expect(after.code, after.stderr).toBe(0);
      const a = resultOf<SetResult>(after.stdout).results[0]!;
      expect(a.node).toBe("NODE2");
      expect(a.point.disks.map((d) => d.method)).toEqual(["rct"]);

      // A restore becomes highly available again; with --no-cluster-role it does not.
      const rolesBefore = await clusterRoles(w.lab);
      expect(await restoreSideBySideAsync(w, "vm1", a.point.id, "ha")).toEqual(want);
      const restored = (await labVmsAsync(w.lab)).find((v) => v.name === "vm1-ha")!;
      // The host lists roles in no set order (the lab shuffles its answers).
      expect((await clusterRoles(w.lab)).sort()).toEqual([...rolesBefore, restored.id.toUpperCase()].sort());
      await restoreSideBySideAsync(w, "vm1", a.point.id, "plain", ["--no-cluster-role"]);
      const plain = (await labVmsAsync(w.lab)).find((v) => v.name === "vm1-plain")!;
      expect(await clusterRoles(w.lab)).not.toContain(plain.id.toUpperCase());
    } finally {
      w.cleanup();
    }
  });
});

const MiB2 = 2 * 1024 * 1024;
