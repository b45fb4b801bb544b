import { afterEach, describe, expect, it } from "vitest";
import { backupAsync, diskHash, guestViewAsync, guestWriteAsync, hvbAsync, labVmAsync, labVmsAsync, newWorldAsync, okAsync, restoreSideBySideAsync, rng, userCheckpointAsync } from "../../support/engine_harness";

const MiB = 1024 * 1024;
let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});
async function world(name: string) {
  const w = await newWorldAsync(name);
  worlds.push(w);
  return w;
}

describe("backup and restore through the CLI on the lab", () => {
  it("restores every point bit-exact after rounds of writes, a live migration and a host crash", async () => {
    const w = await world("rounds");
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "web01", "--disk", "32MiB", "--disk", "16MiB", "--guest", "windows"]);
    const rand = rng(42);
    const seen: Array<{ id: string; view: string[]; kind: string }> = [];
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 4; k++) {
        const disk = rand(2);
        const size = disk === 0 ? 32 * MiB : 16 * MiB;
        const length = 512 * (1 + rand(4000));
        const offset = Math.min(512 * rand(size / 512), size - length);
        await guestWriteAsync(w.lab, "web01", disk, offset, length, round * 10 + k + 1);
      }
      if (round === 2) await okAsync(["lab", "migrate", "--lab", w.lab, "--vm", "web01"]);
      if (round === 3) {
        // A host crash stops the VM, as on Hyper-V; it is started again afterwards.
        await okAsync(["lab", "crash", "--lab", w.lab]);
        await okAsync(["lab", "state", "--lab", w.lab, "--vm", "web01", "Running"]);
      }
      const view = await guestViewAsync(w.lab, "web01");
      const p = await backupAsync(w, "web01");
      seen.push({ id: p.id, view, kind: p.kind });
      // The backup must leave no checkpoint behind and the guest must see the same data.
      expect(await guestViewAsync(w.lab, "web01")).toEqual(view);
    }
    expect(seen.map((s) => s.kind)).toEqual(["full", "incremental", "incremental", "incremental", "incremental"]);
    for (const [i, s] of seen.entries()) expect(await restoreSideBySideAsync(w, "web01", s.id, `r${i}`)).toEqual(s.view);
    expect((await hvbAsync(["verify", "--repo", w.repo, "--deep"])).code).toBe(0);
  });

  it("backs up off and saved VMs and a VM with a user checkpoint chain", async () => {
    const w = await world("states");
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "off1", "--disk", "16MiB"]);
    await guestWriteAsync(w.lab, "off1", 0, 4096, 100000, 1);
    await okAsync(["lab", "state", "--lab", w.lab, "--vm", "off1", "Off"]);
    const v1 = await guestViewAsync(w.lab, "off1");
    const p1 = await backupAsync(w, "off1");
    await okAsync(["lab", "state", "--lab", w.lab, "--vm", "off1", "Running"]);
    await guestWriteAsync(w.lab, "off1", 0, 8 * MiB, 5000, 2);
    await okAsync(["lab", "state", "--lab", w.lab, "--vm", "off1", "Saved"]);
    const v2 = await guestViewAsync(w.lab, "off1");
    const p2 = await backupAsync(w, "off1");
    expect(await restoreSideBySideAsync(w, "off1", p1.id, "a")).toEqual(v1);
    expect(await restoreSideBySideAsync(w, "off1", p2.id, "b")).toEqual(v2);

    // A user checkpoint puts the VM on a differencing disk: back up what the VM sees.
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "cp1", "--disk", "16MiB"]);
    await guestWriteAsync(w.lab, "cp1", 0, 0, 2 * MiB, 3);
    await userCheckpointAsync(w.lab, "cp1");
    await guestWriteAsync(w.lab, "cp1", 0, MiB, 4096, 4);
    expect((await labVmAsync(w.lab, "cp1")).disks[0]!.path).toMatch(/\.avhdx$/);
    const v3 = await guestViewAsync(w.lab, "cp1");
    const p3 = await backupAsync(w, "cp1");
    await userCheckpointAsync(w.lab, "cp1");
    await guestWriteAsync(w.lab, "cp1", 0, 3 * MiB, 8192, 5);
    const v4 = await guestViewAsync(w.lab, "cp1");
    const p4 = await backupAsync(w, "cp1");
    expect(p4.kind).toBe("incremental");
    expect(await restoreSideBySideAsync(w, "cp1", p3.id, "c")).toEqual(v3);
    expect(await restoreSideBySideAsync(w, "cp1", p4.id, "d")).toEqual(v4);
  });

  it("restores the newest point at or before a time, and 'latest'", async () => {
    const w = await world("time");
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "t1", "--disk", "16MiB"]);
    await guestWriteAsync(w.lab, "t1", 0, 0, 65536, 1);
    const v1 = await guestViewAsync(w.lab, "t1");
    const p1 = await backupAsync(w, "t1");
    await guestWriteAsync(w.lab, "t1", 0, 0, 65536, 2);
    const v2 = await guestViewAsync(w.lab, "t1");
    await backupAsync(w, "t1");
    const list = JSON.parse((await okAsync(["list", "--repo", w.repo, "--vm", "t1", "--json"])).stdout) as Array<{ id: string; time: string }>;
    expect(list).toHaveLength(2);
    const between = new Date(Date.parse(list[0]!.time) + 1).toISOString();
    expect(list[0]!.id).toBe(p1.id);
    expect(await restoreSideBySideAsync(w, "t1", between, "at")).toEqual(v1);
    expect(await restoreSideBySideAsync(w, "t1", "latest", "latest")).toEqual(v2);
  });

  it("takes fulls with a warning for configuration version 5.0 and VHD disks, or with --hash-changes stores only changed blocks", async () => {
    const w = await world("norct");
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "old", "--disk", "16MiB", "--config-version", "5.0"]);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "vhd", "--disk", "16MiB", "--vhd"]);
    for (const vm of ["old", "vhd"]) {
      await guestWriteAsync(w.lab, vm, 0, 0, 3 * MiB, 1);
      const v1 = await guestViewAsync(w.lab, vm);
      const p1 = await backupAsync(w, vm);
      expect(p1.kind).toBe("full");
      await guestWriteAsync(w.lab, vm, 0, 10 * MiB, 4096, 2);
      const v2 = await guestViewAsync(w.lab, vm);
      const p2 = await backupAsync(w, vm);
      expect(p2.kind).toBe("full");
      expect(p2.warnings.join("\n")).toMatch(vm === "old" ? /configuration version 5\.0 has no RCT.*taking a full copy/ : /VHD.*taking a full copy/);
      await guestWriteAsync(w.lab, vm, 0, 12 * MiB, 4096, 3);
      const v3 = await guestViewAsync(w.lab, vm);
      const p3 = await backupAsync(w, vm, ["--hash-changes"]);
      expect(p3.kind).toBe("incremental");
      expect(p3.disks[0]!.method).toBe("hash");
      expect(p3.warnings.join("\n")).toMatch(/comparing block hashes/);
      expect(await restoreSideBySideAsync(w, vm, p1.id, `${vm}1`)).toEqual(v1);
      expect(await restoreSideBySideAsync(w, vm, p2.id, `${vm}2`)).toEqual(v2);
      expect(await restoreSideBySideAsync(w, vm, p3.id, `${vm}3`)).toEqual(v3);
    }
  });

  it("falls back to crash consistency when the guest's VSS fails, or fails when told not to", async () => {
    const w = await world("vss");
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "db1", "--disk", "16MiB", "--guest", "windows"]);
    await okAsync(["lab", "guest", "--lab", w.lab, "--vm", "db1", "--integration", "failing"]);
    await guestWriteAsync(w.lab, "db1", 0, 0, 8192, 1);
    const strict = await hvbAsync(["backup", "--vm", "db1", "--repo", w.repo, "--lab", w.lab, "--no-crash-fallback"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/CreateSnapshot/);
    expect(JSON.parse((await okAsync(["list", "--repo", w.repo, "--json"])).stdout)).toEqual([]);
    const p = await backupAsync(w, "db1");
    expect(p.consistency).toBe("crash");
    expect(p.warnings.join("\n")).toMatch(/crash-consistent/);
  });

  it("restores under a new id with the same name, as Hyper-V allows, and refuses to replace the original without --force", async () => {
    const w = await world("sameName");
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "app", "--disk", "16MiB"]);
    await guestWriteAsync(w.lab, "app", 0, 0, 100000, 7);
    const view = await guestViewAsync(w.lab, "app");
    await backupAsync(w, "app");
    const refused = await hvbAsync(["restore", "--repo", w.repo, "--vm", "app", "--dest", `${w.dir}/keep-id`, "--lab", w.lab]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists on the host: use --force/);
    await okAsync(["restore", "--repo", w.repo, "--vm", "app", "--new-id", "--dest", `${w.dir}/copy`, "--lab", w.lab]);
    const both = (await labVmsAsync(w.lab)).filter((v) => v.name === "app");
    expect(both).toHaveLength(2);
    expect(both.map((v) => diskHash(v.disks[0]!.path))).toEqual([view[0], view[0]]);
  });
});
