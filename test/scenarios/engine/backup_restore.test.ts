import { afterEach, describe, expect, it } from "vitest";
import { backup, diskHash, guestView, guestWrite, hvb, labVm, labVms, newWorld, ok, restoreSideBySide, rng, userCheckpoint } from "../../support/engine_harness";

const MiB = 1024 * 1024;
let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});
function world(name: string) {
  const w = newWorld(name);
  worlds.push(w);
  return w;
}

describe("backup and restore through the CLI on the lab", () => {
  it("restores every point bit-exact after rounds of writes, a live migration and a host crash", () => {
    const w = world("rounds");
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "web01", "--disk", "32MiB", "--disk", "16MiB", "--guest", "windows"]);
    const rand = rng(42);
    const seen: Array<{ id: string; view: string[]; kind: string }> = [];
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 4; k++) {
        const disk = rand(2);
        const size = disk === 0 ? 32 * MiB : 16 * MiB;
        const length = 512 * (1 + rand(4000));
        const offset = Math.min(512 * rand(size / 512), size - length);
        guestWrite(w.lab, "web01", disk, offset, length, round * 10 + k + 1);
      }
      if (round === 2) ok(["lab", "migrate", "--lab", w.lab, "--vm", "web01"]);
      if (round === 3) {
        // A host crash stops the VM, as on Hyper-V; it is started again afterwards.
        ok(["lab", "crash", "--lab", w.lab]);
        ok(["lab", "state", "--lab", w.lab, "--vm", "web01", "Running"]);
      }
      const view = guestView(w.lab, "web01");
      const p = backup(w, "web01");
      seen.push({ id: p.id, view, kind: p.kind });
      // The backup must leave no checkpoint behind and the guest must see the same data.
      expect(guestView(w.lab, "web01")).toEqual(view);
    }
    expect(seen.map((s) => s.kind)).toEqual(["full", "incremental", "incremental", "incremental", "incremental"]);
    seen.forEach((s, i) => expect(restoreSideBySide(w, "web01", s.id, `r${i}`)).toEqual(s.view));
    expect(hvb(["verify", "--repo", w.repo, "--deep"]).code).toBe(0);
  });

  it("backs up off and saved VMs and a VM with a user checkpoint chain", () => {
    const w = world("states");
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "off1", "--disk", "16MiB"]);
    guestWrite(w.lab, "off1", 0, 4096, 100000, 1);
    ok(["lab", "state", "--lab", w.lab, "--vm", "off1", "Off"]);
    const v1 = guestView(w.lab, "off1");
    const p1 = backup(w, "off1");
    ok(["lab", "state", "--lab", w.lab, "--vm", "off1", "Running"]);
    guestWrite(w.lab, "off1", 0, 8 * MiB, 5000, 2);
    ok(["lab", "state", "--lab", w.lab, "--vm", "off1", "Saved"]);
    const v2 = guestView(w.lab, "off1");
    const p2 = backup(w, "off1");
    expect(restoreSideBySide(w, "off1", p1.id, "a")).toEqual(v1);
    expect(restoreSideBySide(w, "off1", p2.id, "b")).toEqual(v2);

    // A user checkpoint puts the VM on a differencing disk: back up what the VM sees.
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "cp1", "--disk", "16MiB"]);
    guestWrite(w.lab, "cp1", 0, 0, 2 * MiB, 3);
    userCheckpoint(w.lab, "cp1");
    guestWrite(w.lab, "cp1", 0, MiB, 4096, 4);
    expect(labVm(w.lab, "cp1").disks[0]!.path).toMatch(/\.avhdx$/);
    const v3 = guestView(w.lab, "cp1");
    const p3 = backup(w, "cp1");
    userCheckpoint(w.lab, "cp1");
    guestWrite(w.lab, "cp1", 0, 3 * MiB, 8192, 5);
    const v4 = guestView(w.lab, "cp1");
    const p4 = backup(w, "cp1");
    expect(p4.kind).toBe("incremental");
    expect(restoreSideBySide(w, "cp1", p3.id, "c")).toEqual(v3);
    expect(restoreSideBySide(w, "cp1", p4.id, "d")).toEqual(v4);
  });

  it("restores the newest point at or before a time, and 'latest'", () => {
    const w = world("time");
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "t1", "--disk", "16MiB"]);
    guestWrite(w.lab, "t1", 0, 0, 65536, 1);
    const v1 = guestView(w.lab, "t1");
    const p1 = backup(w, "t1");
    guestWrite(w.lab, "t1", 0, 0, 65536, 2);
    const v2 = guestView(w.lab, "t1");
    backup(w, "t1");
    const list = JSON.parse(ok(["list", "--repo", w.repo, "--vm", "t1", "--json"]).stdout) as Array<{ id: string; time: string }>;
    expect(list).toHaveLength(2);
    const between = new Date(Date.parse(list[0]!.time) + 1).toISOString();
    expect(list[0]!.id).toBe(p1.id);
    expect(restoreSideBySide(w, "t1", between, "at")).toEqual(v1);
    expect(restoreSideBySide(w, "t1", "latest", "latest")).toEqual(v2);
  });

  it("takes fulls with a warning for configuration version 5.0 and VHD disks, or with --hash-changes stores only changed blocks", () => {
    const w = world("norct");
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "old", "--disk", "16MiB", "--config-version", "5.0"]);
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "vhd", "--disk", "16MiB", "--vhd"]);
    for (const vm of ["old", "vhd"]) {
      guestWrite(w.lab, vm, 0, 0, 3 * MiB, 1);
      const v1 = guestView(w.lab, vm);
      const p1 = backup(w, vm);
      expect(p1.kind).toBe("full");
      guestWrite(w.lab, vm, 0, 10 * MiB, 4096, 2);
      const v2 = guestView(w.lab, vm);
      const p2 = backup(w, vm);
      expect(p2.kind).toBe("full");
      expect(p2.warnings.join("\n")).toMatch(vm === "old" ? /configuration version 5\.0 has no RCT.*taking a full copy/ : /VHD.*taking a full copy/);
      guestWrite(w.lab, vm, 0, 12 * MiB, 4096, 3);
      const v3 = guestView(w.lab, vm);
      const p3 = backup(w, vm, ["--hash-changes"]);
      expect(p3.kind).toBe("incremental");
      expect(p3.disks[0]!.method).toBe("hash");
      expect(p3.warnings.join("\n")).toMatch(/comparing block hashes/);
      expect(restoreSideBySide(w, vm, p1.id, `${vm}1`)).toEqual(v1);
      expect(restoreSideBySide(w, vm, p2.id, `${vm}2`)).toEqual(v2);
      expect(restoreSideBySide(w, vm, p3.id, `${vm}3`)).toEqual(v3);
    }
  });

  it("falls back to crash consistency when the guest's VSS fails, or fails when told not to", () => {
    const w = world("vss");
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "db1", "--disk", "16MiB", "--guest", "windows"]);
    ok(["lab", "guest", "--lab", w.lab, "--vm", "db1", "--integration", "failing"]);
    guestWrite(w.lab, "db1", 0, 0, 8192, 1);
    const strict = hvb(["backup", "--vm", "db1", "--repo", w.repo, "--lab", w.lab, "--no-crash-fallback"]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/CreateSnapshot/);
    expect(JSON.parse(ok(["list", "--repo", w.repo, "--json"]).stdout)).toEqual([]);
    const p = backup(w, "db1");
    expect(p.consistency).toBe("crash");
    expect(p.warnings.join("\n")).toMatch(/crash-consistent/);
  });

  it("restores under a new id with the same name, as Hyper-V allows, and refuses to replace the original without --force", () => {
    const w = world("sameName");
    ok(["lab", "vm", "new", "--lab", w.lab, "--name", "app", "--disk", "16MiB"]);
    guestWrite(w.lab, "app", 0, 0, 100000, 7);
    const view = guestView(w.lab, "app");
    backup(w, "app");
    const refused = hvb(["restore", "--repo", w.repo, "--vm", "app", "--dest", `${w.dir}/keep-id`, "--lab", w.lab]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists on the host: use --force/);
    ok(["restore", "--repo", w.repo, "--vm", "app", "--new-id", "--dest", `${w.dir}/copy`, "--lab", w.lab]);
    const both = labVms(w.lab).filter((v) => v.name === "app");
    expect(both).toHaveLength(2);
    expect(both.map((v) => diskHash(v.disks[0]!.path))).toEqual([view[0], view[0]]);
  });
});
