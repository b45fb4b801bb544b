/**
 * `doctor --deep`: the whole product on a scratch VM, end to end, on the host itself. A new VM
 * with one new 64 MiB VHDX is made through the documented calls (CreateVirtualHardDisk,
 * DefineSystem, AddResourceSettings), backed up full, written to (on a lab host, where a guest
 * write can be made from outside; on a real host the VM has no OS and is backed up twice as it
 * is), backed up incrementally, restored side by side under a new id, and the restored disk is
 * compared with the source disk as it was at the second backup (SHA-256 of the guest-visible
 * bytes). Everything made is removed afterwards, also after a failure: both VMs with their
 * checkpoints and reference points, the scratch folder with every disk, and the scratch VM's
 * folder in the repository. One check per step; a step after a failed one is reported failed
 * with "not run". The backups are crash-consistent: the scratch VM has no guest to ask (the
 * Pester host suite backs up a running VM application-consistent).
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync } from "node:fs";
import * as path from "node:path";
import { backupVm, restoreVm, type EngineEvents, type HostVm } from "../../engine/mod";
import { toHvbError } from "../../base/mod";
import { openDisk } from "../../disks/mod";
import type { HyperVClient } from "../../hyperv/mod";
import { Repository } from "../../repository/mod";
import type { AddCheck } from "./doctor_checks";

const MiB = 1024 * 1024;
/** The scratch disk: small, so that the whole check takes seconds. */
const SCRATCH_DISK_SIZE = 64 * MiB;

/** What a step needs to say what it made, for the clean-up. */
interface Made {
  folder?: string;
  vm?: HostVm;
  restoredId?: string;
  repo?: Repository;
  /** The repository folder did not exist before: removed again when it is left empty. */
  repoIsNew?: boolean;
}

/** SHA-256 of a disk's guest-visible bytes (its whole chain, read through the disk layer). */
function diskHash(file: string): string {
  const disk = openDisk(file);
  try {
    const h = createHash("sha256");
    const buf = Buffer.alloc(4 * MiB);
    for (let o = 0; o < disk.virtualSize; o += buf.length) {
      const part = buf.subarray(0, Math.min(buf.length, disk.virtualSize - o));
      disk.read(part, o);
      h.update(part);
    }
    return h.digest("hex");
  } finally {
    disk.close();
  }
}

/** The host's folder for new VMs' configurations (Msvm_VirtualSystemManagementServiceSettingData). */
async function defaultFolder(host: HyperVClient): Promise<string> {
  const sd = (await host.session.query("SELECT * FROM Msvm_VirtualSystemManagementServiceSettingData"))[0];
  const root = sd?.["DefaultExternalDataRoot"];
  if (typeof root !== "string" || root === "") throw new Error("the host names no default folder for VMs (DefaultExternalDataRoot)");
  return root;
}

/**
 * Runs the deep check. `repoPath` is the repository to use (the scratch VM's points are removed
 * from it afterwards), else a repository in the scratch folder; `guestWrite` writes into the
 * scratch VM's disk between the backups where the host allows it (the lab).
 */
export async function deepCheck(
  host: HyperVClient,
  repoPath: string | undefined,
  guestWrite: ((vmId: string, offset: number, length: number, seed: string) => void) | undefined,
  events: EngineEvents,
  add: AddCheck,
): Promise<void> {
  const stamp = `${new Date().toISOString().replace(/[-:.]/g, "").slice(0, 15)}-${randomBytes(3).toString("hex")}`;
  const name = `hvbackup-doctor-${stamp}`;
  const made: Made = {};
  const steps: Array<[string, string, () => Promise<string>]> = [];
  let sourceHash = "";
  let restoredDisk = "";
  steps.push(["Deep: scratch VM", "Check that this account may create VMs and disks in the host's default folders (Hyper-V Administrators)", async () => {
    made.folder = path.join(await defaultFolder(host), name);
    const disk = path.join(made.folder, "Virtual Hard Disks", "scratch.vhdx");
    mkdirSync(path.dirname(disk), { recursive: true });
    await host.createVirtualHardDisk(disk, SCRATCH_DISK_SIZE);
    const vm = await host.defineSystem(name, made.folder);
    made.vm = vm;
    await host.attachNewDisk(vm, disk);
    if (guestWrite) {
      // A guest writes only while its VM runs (the lab's rule too); a real scratch VM stays off.
      await host.requestStateChange(vm, "Running");
      guestWrite(vm.id, 0, 3 * MiB, `${name}-1`);
    }
    made.vm = await host.refreshVm(vm);
    return `'${name}' (${vm.id}) with a new ${SCRATCH_DISK_SIZE / MiB} MiB VHDX in ${made.folder}`;
  }]);
  steps.push(["Deep: full backup", "See the error: the same backup of a real VM would fail the same way", async () => {
    made.repo = new Repository(repoPath ?? path.join(made.folder!, "repository"));
    made.repoIsNew = !existsSync(made.repo.root);
    const r = await backupVm(host, made.repo, made.vm!.id, { consistency: "crash" }, events);
    if (r.point.kind !== "full") throw new Error(`the first backup was ${r.point.kind}, not full`);
    return `${r.point.id} (${r.point.consistency}-consistent) in ${made.repo.root}`;
  }]);
  steps.push(["Deep: incremental backup", "See the error: incrementals of real VMs would fail the same way", async () => {
    guestWrite?.(made.vm!.id, 17 * MiB, 2 * MiB + 4096, `${name}-2`);
    const r = await backupVm(host, made.repo!, made.vm!.id, { consistency: "crash" }, events);
    if (r.point.kind !== "incremental") throw new Error(`the second backup was ${r.point.kind}, not incremental`);
    // The point's contents: the VM is off and nothing else writes, so its disk is as it was.
    const now = await host.refreshVm(made.vm!);
    sourceHash = diskHash(now.disks[0]!.hostResource);
    return `${r.point.id} (${r.point.disks.map((d) => d.method).join(", ")})${guestWrite ? "" : " (no guest write between: the scratch VM has no OS)"}`;
  }]);
  steps.push(["Deep: restore side by side", "See the error: restores of real VMs would fail the same way", async () => {
    const r = await restoreVm(host, made.repo!, made.vm!.id, { newId: true, name: `${name}-restored`, destination: path.join(made.folder!, "restored") }, events);
    made.restoredId = r.vmId;
    restoredDisk = r.disks[0]!.path;
    return `'${r.vmName}' (${r.vmId}) from ${r.pointId} in ${r.destination}`;
  }]);
  steps.push(["Deep: compare disks", "The restored disk differs from the source: keep the report and tell the developers", async () => {
    const restored = diskHash(restoredDisk);
    if (restored !== sourceHash) throw new Error(`SHA-256 of the restored disk ${restored} differs from the source's ${sourceHash}`);
    return `the restored disk has the source's bytes at the incremental backup (SHA-256 ${sourceHash.slice(0, 16)}…)`;
  }]);

  let failed = false;
  try {
    for (const [check, remedy, run] of steps) {
      if (failed) {
        add(check, false, "not run: an earlier step failed", remedy);
        continue;
      }
      try {
        add(check, true, await run());
      } catch (e) {
        failed = true;
        add(check, false, toHvbError(e).message, remedy);
      }
    }
  } finally {
    await cleanUp(host, made, add);
  }
}

/** Removes what the deep check made, whatever happened before; one check says what is left. */
async function cleanUp(host: HyperVClient, made: Made, add: AddCheck): Promise<void> {
  const left: string[] = [];
  const removed: string[] = [];
  for (const id of [made.restoredId, made.vm?.id]) {
    if (id === undefined) continue;
    try {
      const vm = await host.findVm(id);
      for (const cp of await host.listCheckpoints(vm)) await host.destroyCheckpoint(cp);
      for (const rp of await host.listReferencePoints(vm)) await host.destroyReferencePoint(rp);
      if (vm.state !== "Off") await host.requestStateChange(vm, "Off");
      await host.destroySystem(vm);
      removed.push(`VM ${vm.name}`);
    } catch (e) {
      left.push(`VM ${id}: ${toHvbError(e).message}`);
    }
  }
  if (made.repo && made.vm) {
    try {
      const store = made.repo.listVms().find((s) => s.readCatalog().vmId.toLowerCase() === made.vm!.id.toLowerCase());
      if (store) {
        rmSync(store.dir, { recursive: true, force: true });
        removed.push(`its points in ${made.repo.root}`);
      }
      if (made.repoIsNew && existsSync(made.repo.root) && readdirSync(made.repo.root).length === 0) rmdirSync(made.repo.root);
    } catch (e) {
      left.push(`repository: ${toHvbError(e).message}`);
    }
  }
  if (made.folder !== undefined) {
    try {
      rmSync(made.folder, { recursive: true, force: true });
      if (existsSync(made.folder)) throw new Error("still there");
      removed.push(`${made.folder} with every disk`);
    } catch (e) {
      left.push(`${made.folder}: ${toHvbError(e).message}`);
    }
  }
  add("Deep: clean up", left.length === 0, left.length === 0 ? `removed ${removed.join(", ") || "nothing (nothing was made)"}` : `left behind: ${left.join("; ")}`, "Remove what is listed by hand (Remove-VM, then the files)");
}
