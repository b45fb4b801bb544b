import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { guestData } from "../../../src/lab/mod";
import { LOCK_FILE, readLabState, withLabLock } from "../../../src/lab/mod";
import { cli, cliAsync, cliOk, MiB, readBytes } from "../../support/lab";

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "hvb-labcli-"));
}

function newCliLab(): string {
  const dir = path.join(tmpDir(), "lab");
  cliOk(["lab", "init", dir, "--job-ms", "50", "--host-version", "2022"]);
  return dir;
}

describe("lab command line", () => {
  it("creates VMs, writes as the guest and lists them with the pinned JSON shape", () => {
    const lab = newCliLab();
    const created = JSON.parse(cliOk(["lab", "vm", "new", "--lab", lab, "--name", "web01", "--disk", "16MiB", "--disk", "32MiB"]));
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "old", "--disk", "16MiB", "--config-version", "5.0", "--generation", "1", "--guest", "linux", "--no-scsi", "--vhd"]);
    cliOk(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "1", "--offset", "1MiB", "--length", "8192", "--seed", "42"]);
    const ls = JSON.parse(cliOk(["lab", "ls", "--lab", lab, "--json"]));
    // Issue 12 added each VM's node, and the volumes, nodes and checkpoint peaks the lab measured.
    expect(Object.keys(ls)).toEqual(["vms", "volumes", "nodes", "peakCheckpoints"]);
    expect(ls.vms).toHaveLength(2);
    for (const v of ls.vms) expect(Object.keys(v)).toEqual(["name", "id", "state", "configVersion", "generation", "disks", "node"]);
    expect(ls.vms[0].node).toBe("LABHOST");
    expect(ls.vms[0]).toEqual(created);
    expect(ls.vms[0]).toMatchObject({ name: "web01", state: "Running", configVersion: "9.0", generation: 2 });
    expect(ls.vms[0].id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(ls.vms[1]).toMatchObject({ name: "old", configVersion: "5.0", generation: 1 });
    expect(ls.vms[1].disks[0].path).toMatch(/\.vhd$/);
    // Persistence across processes: the bytes are in the file the VM writes to.
    expect(readBytes(ls.vms[0].disks[1].path, 1 * MiB, 8192)).toEqual(guestData("42", 8192));
    // A gen 1 VM without SCSI has only IDE controllers.
    const ctrls = JSON.parse(cliOk(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceType=6"]));
    expect(ctrls).toHaveLength(1); // only web01's SCSI controller
  });

  it("drives a recovery checkpoint through cim invoke --wait and navigates with associators", () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    const vm = JSON.parse(cliOk(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'"]))[0];
    expect(vm.__CLASS).toBe("Msvm_ComputerSystem");
    const svc = JSON.parse(cliOk(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_VirtualSystemSnapshotService"]))[0].__PATH;
    const args = JSON.stringify({ AffectedSystem: vm.__PATH, SnapshotType: 32768, SnapshotSettings: { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 1 } });
    const out = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", lab, "--path", svc, "--method", "CreateSnapshot", "--args", args, "--wait"]));
    expect(out.ReturnValue).toBe(4096);
    expect(out.Job.__CLASS).toBe("Msvm_ConcreteJob");
    expect(out.Job.JobState).toBe(7);
    const vssd = out.AffectedElements.find((p: string) => p.includes("Msvm_VirtualSystemSettingData"));
    expect(vssd).toBeDefined();
    const snaps = JSON.parse(cliOk(["lab", "cim", "associators", "--lab", lab, "--path", vm.__PATH, "--result-class", "Msvm_VirtualSystemSettingData", "--assoc-class", "Msvm_SnapshotOfVirtualSystem"]));
    expect(snaps.map((s: { __PATH: string }) => s.__PATH)).toEqual([vssd]);
    expect(snaps[0].VirtualSystemType).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
    const parts = JSON.parse(cliOk(["lab", "cim", "associators", "--lab", lab, "--path", vssd, "--result-class", "Msvm_StorageAllocationSettingData"]));
    expect(parts[0].HostResource[0]).toMatch(/a\.vhdx$/);
    // Without --wait: only ReturnValue and the Job path.
    const noWait = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", lab, "--path", svc, "--method", "DestroySnapshot", "--args", JSON.stringify({ AffectedSnapshot: vssd })]));
    expect(Object.keys(noWait).sort()).toEqual(["Job", "ReturnValue"]);
    expect(noWait.Job).toMatch(/Msvm_ConcreteJob\.InstanceID="/);
  });

  it("fails with one line on stderr: exit 1 for bad input, 2 for usage errors", () => {
    const lab = newCliLab();
    const missing = cli(["lab", "write", "--lab", lab, "--vm", "nope", "--disk", "0", "--offset", "0", "--length", "512", "--seed", "1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/Cannot find VM 'nope'/);
    expect(cli(["lab", "ls", "--lab", path.join(lab, "nolab")]).code).toBe(1);
    expect(cli(["lab", "vm", "new", "--lab", lab, "--name", "x", "--disk", "16MiB", "--generation", "3"]).code).toBe(2);
    expect(cli(["lab", "vm", "new", "--lab", lab, "--name", "x"]).code).toBe(2);
    expect(cli(["lab", "frobnicate"]).code).toBe(2);
    expect(cli(["lab", "cim", "invoke", "--lab", lab, "--path", "Msvm_X.A=\"b\"", "--method", "M", "--args", "{nope"]).code).toBe(2);
    const badQuery = cli(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_Nothing"]);
    expect(badQuery.code).toBe(1);
    expect(badQuery.stderr).toMatch(/not served by the lab/);
    const fail = cli(["lab", "fail", "--lab", lab, "--method", "CreateSnapshot", "--code", "32775", "--times", "2"]);
    expect(fail.code).toBe(0);
    expect(readLabState(lab).faults).toEqual([{ method: "CreateSnapshot", code: 32775, remaining: 2 }]);
  });

  it("lab init --rct-page sets how much one GetVirtualDiskChanges call processes; a page under a sector is refused", () => {
    const dir = path.join(tmpDir(), "lab");
    cliOk(["lab", "init", dir, "--rct-page", String(64 * MiB)]);
    expect(readLabState(dir).config.rctMaxProcessed).toBe(64 * MiB);
    expect(readLabState(newCliLab()).config.rctMaxProcessed).toBe(8 * MiB);
    const tiny = cli(["lab", "init", path.join(tmpDir(), "lab"), "--rct-page", "100"]);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/--rct-page must be at least 512 bytes/);
  });

  it("serializes two processes writing at once: no update is lost", async () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    const loop = async (k: number) => {
      for (let i = 0; i < 6; i++) {
        const r = await cliAsync(["lab", "write", "--lab", lab, "--vm", "a", "--disk", "0", "--offset", String((k * 6 + i) * 65536), "--length", "4096", "--seed", `${k}-${i}`]);
        expect(r.code, r.stderr).toBe(0);
      }
    };
    // A reader running meanwhile never sees a half-written state.
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        readLabState(lab);
        reads++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await Promise.all([loop(0), loop(1)]);
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    const st = readLabState(lab);
    expect(st.seq).toBe(12);
    expect(st.vms[0]!.disks[0]!.rct.writes).toHaveLength(12);
    const file = st.vms[0]!.disks[0]!.path;
    for (const k of [0, 1]) for (let i = 0; i < 6; i++) expect(readBytes(file, (k * 6 + i) * 65536, 4096)).toEqual(guestData(`${k}-${i}`, 4096));
  });

  it("waits for a lock held by a live process and breaks a lock whose process died", async () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    let pending: Promise<{ code: number }> | undefined;
    const startedAt = Date.now();
    await new Promise<void>((resolve) => {
      withLabLock(lab, () => {
        pending = cliAsync(["lab", "state", "--lab", lab, "--vm", "a", "Paused"]);
        // Hold the lock for a while: the other process must not get in.
        const until = Date.now() + 700;
        while (Date.now() < until) { /* busy hold */ }
        expect(readLabState(lab).vms[0]!.state).toBe(2);
      });
      resolve();
    });
    expect((await pending!).code).toBe(0);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(700);
    expect(readLabState(lab).vms[0]!.state).toBe(9);
    // A lock left by a process that died is stale and broken.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.on("close", r));
    fs.writeFileSync(path.join(lab, LOCK_FILE), `${dead.pid}\n${os.hostname()}\nold\n`);
    const r = cli(["lab", "state", "--lab", lab, "--vm", "a", "Running"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readLabState(lab).vms[0]!.state).toBe(2);
  });

  it("a process killed while it takes the lock leaves no lock behind: the next call gets in at once", async () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    const killed = await cliAsync(["lab", "state", "--lab", lab, "--vm", "a", "Paused"], { ...process.env, HVBACKUP_CRASH_AT: "lab.lock-taking" });
    expect(killed.code).toBe(128);
    // Before, the lock was created empty and filled after: a kill in between left a lock naming
    // no owner, which no later call could find stale (each waited 60 s, then failed LabLocked).
    expect(fs.existsSync(path.join(lab, LOCK_FILE))).toBe(false);
    // What it did leave: the lock's owner file of its own, under its PID.
    const ownerFiles = () => fs.readdirSync(lab).filter((n) => /^lab\.lock\.\d+$/.test(n));
    expect(ownerFiles()).toHaveLength(1);
    const r = cli(["lab", "state", "--lab", lab, "--vm", "a", "Paused"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readLabState(lab).vms[0]!.state).toBe(9);
    // The next lock taken removed it: its process is gone.
    expect(ownerFiles()).toEqual([]);
  });

  it("temp files and owner files of dead processes go with the next lock; a live process's stay", () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const left = [`.lab.json.partial-${dead}`, `lab.lock.${dead}`];
    const live = [`.lab.json.partial-${process.pid}`, `lab.lock.${process.pid}`, `notes.partial-${dead}`];
    for (const n of [...left, ...live]) fs.writeFileSync(path.join(lab, n), "x");
    cliOk(["lab", "state", "--lab", lab, "--vm", "a", "Paused"]);
    for (const n of left) expect(fs.existsSync(path.join(lab, n)), n).toBe(false);
    for (const n of live) expect(fs.existsSync(path.join(lab, n)), n).toBe(true);
  });

  it("a client killed mid-call leaves the host as it was (the state write is the commit point)", async () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    const before = readLabState(lab);
    const vm = JSON.parse(cliOk(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'"]))[0].__PATH;
    const svc = JSON.parse(cliOk(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_VirtualSystemSnapshotService"]))[0].__PATH;
    const args = JSON.stringify({ AffectedSystem: vm, SnapshotType: 32768 });
    for (const point of ["lab.before-commit", "lab.before-rename"]) {
      const r = await cliAsync(["lab", "cim", "invoke", "--lab", lab, "--path", svc, "--method", "CreateSnapshot", "--args", args], { ...process.env, HVBACKUP_CRASH_AT: point });
      expect(r.code).not.toBe(0);
      const after = readLabState(lab);
      expect(after.snapshots).toHaveLength(0);
      expect(after.vms[0]!.disks[0]!.path).toBe(before.vms[0]!.disks[0]!.path);
    }
    // The next call breaks the dead process's lock and works.
    const ok = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", lab, "--path", svc, "--method", "CreateSnapshot", "--args", args, "--wait"]));
    expect(ok.Job.JobState).toBe(7);
    expect(readLabState(lab).snapshots).toHaveLength(1);
  });
});

describe("guest writes and crashes", () => {
  it("a write killed after its tracking was committed is still reported as changed (superset)", async () => {
    const lab = newCliLab();
    cliOk(["lab", "vm", "new", "--lab", lab, "--name", "a", "--disk", "16MiB"]);
    const r = await cliAsync(["lab", "write", "--lab", lab, "--vm", "a", "--disk", "0", "--offset", "1MiB", "--length", "4096", "--seed", "k"], {
      ...process.env,
      HVBACKUP_CRASH_AT: "lab.write-after-track",
    });
    expect(r.code).not.toBe(0);
    const st = readLabState(lab);
    expect(st.vms[0]!.disks[0]!.rct.writes).toEqual([{ seq: 1, offset: 1 * MiB, length: 4096, grain: 1 }]);
    expect(readBytes(st.vms[0]!.disks[0]!.path, 1 * MiB, 4096)).toEqual(new Uint8Array(4096)); // the bytes never landed
    // The lab is usable again (stale lock broken) and the write can be redone.
    cliOk(["lab", "write", "--lab", lab, "--vm", "a", "--disk", "0", "--offset", "1MiB", "--length", "4096", "--seed", "k"]);
    expect(readBytes(st.vms[0]!.disks[0]!.path, 1 * MiB, 4096)).toEqual(guestData("k", 4096));
    expect(cli(["lab", "write", "--lab", lab, "--vm", "a", "--disk", "0", "--offset", "16MiB", "--length", "512", "--seed", "k"]).code).toBe(1);
    expect(readLabState(lab).seq).toBe(2);
  });
});
