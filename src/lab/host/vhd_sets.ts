/**
 * VHD Sets (.vhds) as the lab keeps them. The .vhds format is not public, so the lab does not
 * imitate it: the .vhds file holds only a JSON marker naming the lab's record (and a product
 * that opened it as a VHDX would fail at once), and the set's data lives in VHDX files beside
 * it, reached only through Msvm_ImageManagementService (../services/vhd_set_methods.ts):
 *
 *   <name>.vhds                      the marker
 *   <name>_<set id>.avhdx            the root: a dynamic VHDX (or a child of an unmanaged parent)
 *   <name>_<snapshot id>.avhdx       a child made when a snapshot froze the file below it
 *
 * A snapshot freezes the file writes went to and puts a new child on top, as a VM checkpoint
 * does; its RCT id marks the write sequence of its cut. Deleting a snapshot folds the file
 * above into its frozen file; with PersistReferenceSnapshot the record stays as a reference-only
 * snapshot (no file, RCT id kept), which is what a group's reference point keeps of the set.
 * See docs/lab-fidelity.md "VHD Sets" for what the method pages leave open.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HvbError, crashPoint, writeFileAtomic } from "../../base/mod";
import { createBaseDisk, createChildDisk, diskFacts, mergeChildDisk, setParentFile, writeDisk } from "./disk_files";
import { guestData } from "./guest_data";
import { freeSlot } from "./host_ops";
import { type DeviceSlot, EnabledState, type LabState, newGuid, type SharedDiskSlot, type SnapshotRecord, type VhdSetRecord, type VhdSetSnapshotRecord, type VhdSetSnapshotRef, type VmRecord } from "./model";
import { forgetRctId, issueRctId, newRct, trackWrite } from "./rct";
import { mutateLab, withLabLock } from "./state_store";

/** What the .vhds file of a lab VHD Set holds (never a disk). */
export const VHDS_MARKER = "hvbackup-lab-vhdset";

/**
 * The lab's VHD Sets. A set whose .vhds file was deleted is gone, as on a host (a VHD Set is its
 * files: deleting them is how one is removed, and a restore that fails removes the set it made
 * that way); its record is dropped here so the path can be used again.
 */
export function vhdSetsOf(state: LabState): VhdSetRecord[] {
  state.vhdSets = (state.vhdSets ?? []).filter((s) => fs.existsSync(s.path));
  return state.vhdSets;
}

function same(a: string, b: string): boolean {
  return path.resolve(a).toLowerCase() === path.resolve(b).toLowerCase();
}

/** The VHD Set whose .vhds file is `file`, or undefined. */
export function findVhdSet(state: LabState, file: string): VhdSetRecord | undefined {
  return vhdSetsOf(state).find((s) => same(s.path, file));
}

/** A snapshot of a set by id (any case, braces allowed). */
export function findVhdSetSnapshot(set: VhdSetRecord, id: string): VhdSetSnapshotRecord | undefined {
  const want = id.replace(/^\{|\}$/g, "").toLowerCase();
  return set.snapshots.find((s) => s.id.toLowerCase() === want);
}

function bad(code: "LabBadVhdSet" | "LabVhdSetExists", message: string, target: string): HvbError {
  return new HvbError(code, message, { category: "InvalidArgument", target });
}

/**
 * Creates a VHD Set at `file` (`lab vhdset new`, CreateVirtualHardDisk of type VHD Set): empty
 * of `size` bytes, or over `parent` (a VHDX the set does not manage; its size is the set's).
 */
export function createVhdSet(state: LabState, file: string, size: number, now: number, parent?: string): VhdSetRecord {
  const abs = path.resolve(file);
  if (!/\.vhds$/i.test(abs)) throw bad("LabBadVhdSet", `Cannot create VHD Set '${file}': its name must end in .vhds`, file);
  if (fs.existsSync(abs) || findVhdSet(state, abs)) throw bad("LabVhdSetExists", `Cannot create VHD Set '${file}': the file exists`, file);
  const id = newGuid();
  const root = path.join(path.dirname(abs), `${path.basename(abs, path.extname(abs))}_${id}.avhdx`);
  let virtualSize = size;
  if (parent !== undefined) {
    virtualSize = diskFacts(parent).virtualSize;
    createChildDisk(path.resolve(parent), root, "vhdx");
  } else {
    if (!(size > 0) || size % (1024 * 1024) !== 0) throw bad("LabBadVhdSet", `Cannot create VHD Set '${file}': the size must be whole MiB, got ${size} bytes`, file);
    createBaseDisk(root, "vhdx", size);
  }
  writeFileAtomic(abs, `${JSON.stringify({ format: VHDS_MARKER, version: 1, id, note: "A VHD Set of the HyperVBackup lab: its data is reached only through Msvm_ImageManagementService" })}\n`);
  const set: VhdSetRecord = {
    id,
    path: abs,
    virtualSize,
    current: root,
    ...(parent !== undefined ? { unmanagedParent: path.resolve(parent) } : {}),
    snapshots: [],
    rct: newRct(true),
    createdAt: now,
  };
  vhdSetsOf(state).push(set);
  return set;
}

/** The VMs that attach the shared disk `file`. */
export function vmsAttaching(state: LabState, file: string): VmRecord[] {
  return state.vms.filter((v) => (v.hardware.sharedDisks ?? []).some((d) => same(d.path, file)));
}

/** Why a VM's checkpoint cannot be taken because of a shared VHDX, or undefined. */
export function sharedVhdxRefusal(vm: VmRecord): string | undefined {
  const d = (vm.hardware.sharedDisks ?? []).find((x) => x.kind === "vhdx");
  if (!d) return undefined;
  return `Could not create checkpoint for virtual machine '${vm.name}': the shared virtual hard disk '${d.path}' does not support checkpoints. (Virtual machine ID ${vm.id})`;
}

/**
 * A write to a VHD Set through the guest cluster's owner (the first attached VM that runs):
 * tracking first, bytes after, as a VM disk write (host_ops.ts guestWriteInLab).
 */
export function sharedWriteInLab(dir: string, file: string, offset: number, length: number, seed: string): { owner: string } {
  return withLabLock(dir, () => {
    const { current, owner } = mutateLab(dir, (state) => {
      const set = findVhdSet(state, file);
      if (!set) throw new HvbError("LabVhdSetNotFound", `Cannot write to '${file}': it is not a VHD Set of the lab (make one with 'hvbackup lab vhdset new')`, { category: "ObjectNotFound", target: file });
      const running = vmsAttaching(state, set.path).find((v) => v.state === EnabledState.Running);
      if (!running) throw new HvbError("LabVmNotRunning", `Cannot write to VHD Set '${file}': no VM attaching it is Running (the cluster's owner writes)`, { category: "InvalidOperation", target: file });
      if (offset + length > set.virtualSize) throw new HvbError("LabWriteOutOfRange", `Cannot write ${length} bytes at ${offset} to VHD Set '${file}': it has ${set.virtualSize} bytes`, { category: "InvalidArgument", target: file });
      state.seq++;
      trackWrite(set.rct, state.seq, offset, length, 512);
      return { current: set.current, owner: running.name };
    });
    crashPoint("lab.write-after-track");
    writeDisk(current, offset, guestData(seed, length));
    return { owner };
  });
}

/** Takes a snapshot of the set at the current write sequence: the top file freezes, a child goes on top. */
export function takeVhdSetSnapshot(state: LabState, set: VhdSetRecord, now: number): VhdSetSnapshotRecord {
  const id = newGuid();
  const child = path.join(path.dirname(set.path), `${path.basename(set.path, path.extname(set.path))}_${id}.avhdx`);
  createChildDisk(set.current, child, "vhdx");
  const snapshot: VhdSetSnapshotRecord = { id, createdAt: now, seq: state.seq, path: set.current, rctId: issueRctId(set.rct, state.seq) };
  set.current = child;
  set.snapshots.push(snapshot);
  return snapshot;
}

/**
 * Deletes a snapshot (DeleteVHDSnapshot): its frozen file takes in the file above it (the next
 * snapshot's, or the one writes go to), whose holder then names the merged file. With
 * `persistReference` a reference-only record stays. Returns files to delete after the commit.
 */
export function deleteVhdSetSnapshot(set: VhdSetRecord, snapshot: VhdSetSnapshotRecord, persistReference: boolean): string[] {
  const toDelete: string[] = [];
  if (snapshot.path !== "") {
    const withData = set.snapshots.filter((s) => s.path !== "");
    const i = withData.indexOf(snapshot);
    const next = withData[i + 1];
    const above = next ? next.path : set.current;
    const aboveAbove = next ? (withData[i + 2]?.path ?? set.current) : undefined;
    mergeChildDisk(above, "vhdx");
    if (aboveAbove !== undefined) setParentFile(aboveAbove, snapshot.path, "vhdx");
    if (next) next.path = snapshot.path;
    else set.current = snapshot.path;
    toDelete.push(above);
  }
  if (persistReference) {
    snapshot.path = "";
  } else {
    set.snapshots = set.snapshots.filter((s) => s !== snapshot);
    if (snapshot.rctId) forgetRctId(set.rct, snapshot.rctId);
  }
  return toDelete;
}

/** Every file the set encompasses (Msvm_VHDSetInformation.AllPaths): the .vhds, its managed files top down, then unmanaged parents. */
export function allPathsOf(set: VhdSetRecord): string[] {
  const managed = [set.current, ...set.snapshots.filter((s) => s.path !== "").map((s) => s.path).reverse()];
  return [set.path, ...managed, ...(set.unmanagedParent ? [set.unmanagedParent] : [])];
}

/** The files a snapshot's data depends on, immediate parent first (ParentPathsList). */
export function parentPathsOf(set: VhdSetRecord, snapshot: VhdSetSnapshotRecord): string[] {
  if (snapshot.path === "") return [];
  const withData = set.snapshots.filter((s) => s.path !== "");
  const below = withData.slice(0, withData.indexOf(snapshot)).map((s) => s.path).reverse();
  return [...below, ...(set.unmanagedParent ? [set.unmanagedParent] : [])];
}

/**
 * What a group's collection snapshot does to the VHD Sets its members attach: one snapshot of
 * each set (however many members attach it), taken at the members' cut, and each member
 * checkpoint's shared disk names it (SASD SnapshotId). Returns the snapshots taken.
 */
export function snapshotGroupVhdSets(state: LabState, members: readonly VmRecord[], checkpoints: readonly SnapshotRecord[], now: number): VhdSetSnapshotRef[] {
  const taken: VhdSetSnapshotRef[] = [];
  for (const vm of members) {
    for (const d of vm.hardware.sharedDisks ?? []) {
      if (d.kind !== "vhdset" || taken.some((t) => same(t.path, d.path))) continue;
      const set = findVhdSet(state, d.path);
      if (set) taken.push({ path: set.path, snapshotId: takeVhdSetSnapshot(state, set, now).id });
    }
  }
  for (const cp of checkpoints) {
    const shared = cp.hardware.sharedDisks;
    if (!shared) continue;
    cp.hardware = { ...cp.hardware, sharedDisks: shared.map((d) => ({ ...d, ...stampOf(taken, d.path) })) };
  }
  return taken;
}

function stampOf(taken: readonly VhdSetSnapshotRef[], file: string): { snapshotId?: string } {
  const t = taken.find((x) => same(x.path, file));
  return t ? { snapshotId: t.snapshotId } : {};
}

/** Deletes (or keeps reference-only) the listed VHD Set snapshots that still exist; returns files to delete after the commit. */
export function dropVhdSetSnapshots(state: LabState, refs: readonly VhdSetSnapshotRef[] | undefined, persistReference: boolean): string[] {
  const files: string[] = [];
  for (const r of refs ?? []) {
    const set = findVhdSet(state, r.path);
    const snap = set ? findVhdSetSnapshot(set, r.snapshotId) : undefined;
    if (set && snap) files.push(...deleteVhdSetSnapshot(set, snap, persistReference));
  }
  return files;
}

/**
 * Attaches shared disks to a new VM (`lab vm new --shared-disk FILE`), each in the next free
 * SCSI slot: a .vhds must be a VHD Set of the lab; any other file must be a VHDX that exists
 * (attached as a shared VHDX, the 2012 R2 way, which cannot be checkpointed).
 */
export function attachSharedDisks(state: LabState, vm: VmRecord, files: readonly string[]): void {
  const hw = vm.hardware;
  const used: DeviceSlot[] = [...vm.disks, ...(hw.dvd ? [hw.dvd] : []), ...(hw.passthrough ? [hw.passthrough] : [])];
  const shared: SharedDiskSlot[] = [];
  for (const f of files) {
    const isSet = /\.vhds$/i.test(f);
    if (isSet && !findVhdSet(state, f)) throw new HvbError("LabVhdSetNotFound", `Cannot attach '${f}' to VM '${vm.name}': it is not a VHD Set of the lab (make one with 'hvbackup lab vhdset new')`, { category: "ObjectNotFound", target: f });
    if (!isSet && (!fs.existsSync(f) || !/\.vhdx$/i.test(f))) throw bad("LabBadVhdSet", `Cannot attach '${f}' to VM '${vm.name}' as a shared disk: give a .vhds of the lab or an existing .vhdx`, f);
    if (shared.some((d) => same(d.path, f))) throw bad("LabBadVhdSet", `Cannot attach '${f}' to VM '${vm.name}' twice`, f);
    const slot = freeSlot(hw.generation, hw.scsiControllerId !== undefined, [...used, ...shared], "scsi");
    shared.push({ ...slot, path: path.resolve(f), kind: isSet ? "vhdset" : "vhdx" });
  }
  if (shared.length > 0) hw.sharedDisks = shared;
}
