/**
 * What the host does, independent of how it is asked (WMI method or lab command): create VMs,
 * take and remove checkpoints with their differencing files, apply guest writes with change
 * tracking, migrate, crash. Each function changes the state object and the files; the caller
 * holds the lab lock and commits the state afterwards.
 *
 * File ordering: new files are created before the state that references them is committed;
 * a merge folds the child into its parent before the commit, and the child file is deleted
 * after the state no longer references it (see deleteAfterCommit).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { createBaseDisk, createChildDisk, diskFacts, mergeChildDisk, parentFileOf, setParentFile, writeDisk } from "./disk_files";
import { guestData } from "./guest_data";
import {
  configVersionHasRct,
  type ConsistencyKind,
  type DeviceSlot,
  type DiskFormat,
  type DiskRecord,
  EnabledState,
  type GuestKind,
  type Hardware,
  type LabState,
  newGuid,
  type SnapshotKind,
  type SnapshotRecord,
  type VmRecord,
  vmByName,
} from "./model";
import { diskDeviceKey, scsiControllerGuid } from "./paths";
import { mutateLab, withLabLock } from "./state_store";
import { crashPoint } from "../../base/mod";
import { degrade, newRct, resetRct, trackWrite } from "./rct";
import { checkNode, nodeForNewVm, noteCheckpointLoad, volumeForNewVm } from "./volumes";

export interface NewVmOptions {
  name: string;
  diskSizes: number[];
  configVersion: string;
  generation: 1 | 2;
  guest: GuestKind;
  scsi: boolean;
  format: DiskFormat;
  /** The volume to put the VM's files on (made when missing; volumes.ts). */
  volume?: string;
  /** Cluster labs: the node to own the VM (default: the node with the fewest VMs). */
  node?: string;
  /** Where each disk goes (index-aligned with diskSizes); an entry left out is placed by default. */
  diskSlots?: (DeviceSlot | undefined)[];
  /** Add a DVD drive holding a small ISO file (not a disk: backups skip it). */
  dvd?: boolean;
  /** Add a pass-through disk (a host physical disk: no file, cannot be checkpointed). */
  passthrough?: boolean;
  /** Standard checkpoints to take right after creation, in order (the VM then runs on .avhdx files). */
  checkpoints?: string[];
}

/** Most SCSI controllers a VM can have, and LUNs per controller (Hyper-V limits). */
const MAX_SCSI_CONTROLLERS = 4;
const MAX_LUN = 64;

function slotText(s: DeviceSlot): string {
  return `${s.controller.toUpperCase()} ${s.controllerIndex}:${s.address}`;
}

/**
 * Where disks sit: explicit slots as given (checked against the VM's controllers); the others
 * as before: gen 2 on SCSI 0; gen 1 boots from IDE 0:0, the rest on SCSI 0 or IDE.
 */
export function diskLocations(generation: 1 | 2, scsi: boolean, count: number, wanted: readonly (DeviceSlot | undefined)[] = []): DeviceSlot[] {
  const bad = (msg: string) => new HvbError("LabBadVm", msg, { category: "InvalidArgument" });
  const taken = new Set<string>();
  const out: (DeviceSlot | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const w = wanted[i];
    if (!w) {
      out.push(undefined);
      continue;
    }
    if (w.controller === "ide" && (generation === 2 || w.controllerIndex > 1 || w.address > 1)) {
      throw bad(generation === 2 ? "A generation 2 VM has no IDE controller" : `IDE slots are 0:0, 0:1, 1:0 and 1:1, not ${w.controllerIndex}:${w.address}`);
    }
    if (w.controller === "scsi" && !scsi) throw bad("Cannot place a disk on SCSI: the VM is made without a SCSI controller (--no-scsi)");
    if (w.controller === "scsi" && (w.controllerIndex >= MAX_SCSI_CONTROLLERS || w.address >= MAX_LUN)) {
      throw bad(`SCSI slots are controller 0-${MAX_SCSI_CONTROLLERS - 1}, LUN 0-${MAX_LUN - 1}, not ${w.controllerIndex}:${w.address}`);
    }
    if (taken.has(slotText(w))) throw bad(`Two disks cannot share ${slotText(w)}`);
    taken.add(slotText(w));
    out.push(w);
  }
  const ide: DeviceSlot[] = [0, 1].flatMap((c) => [0, 1].map((a) => ({ controller: "ide" as const, controllerIndex: c, address: a })));
  const nextFree = (kind: "ide" | "scsi"): DeviceSlot => {
    const pool = kind === "ide" ? ide : Array.from({ length: MAX_LUN }, (_, a) => ({ controller: "scsi" as const, controllerIndex: 0, address: a }));
    const free = pool.find((s) => !taken.has(slotText(s)));
    if (!free) throw bad(kind === "ide" ? "Cannot attach more than 4 disks to the IDE controllers of a generation 1 VM" : `Cannot attach more than ${MAX_LUN} disks to one SCSI controller`);
    taken.add(slotText(free));
    return free;
  };
  if (generation === 2 && !scsi && count > 0) throw bad("Cannot attach disks to a generation 2 VM without a SCSI controller (it has no IDE)");
  return out.map((slot, i) => slot ?? nextFree(generation === 1 && (i === 0 || !scsi) ? "ide" : "scsi"));
}

/** A free slot for a DVD drive or pass-through disk, after the disks. */
export function freeSlot(generation: 1 | 2, scsi: boolean, used: readonly DeviceSlot[], prefer: "ide" | "scsi"): DeviceSlot {
  const taken = new Set(used.map(slotText));
  const ide: DeviceSlot[] = generation === 1 ? [1, 0].flatMap((c) => [0, 1].map((a) => ({ controller: "ide" as const, controllerIndex: c, address: a }))) : [];
  const scsiSlots: DeviceSlot[] = scsi ? Array.from({ length: MAX_LUN }, (_, a) => ({ controller: "scsi" as const, controllerIndex: 0, address: a })) : [];
  const free = (prefer === "ide" ? [...ide, ...scsiSlots] : [...scsiSlots, ...ide]).find((s) => !taken.has(slotText(s)));
  if (!free) throw new HvbError("LabBadVm", "No free controller slot left for the drive", { category: "InvalidArgument" });
  return free;
}

/** Creates a VM with fresh dynamic disks under DIR/vms/<name>. */
export function createVm(state: LabState, dir: string, o: NewVmOptions, now: number): VmRecord {
  if (state.vms.some((v) => v.name.toLowerCase() === o.name.toLowerCase())) {
    throw new HvbError("LabVmExists", `Cannot create VM '${o.name}': the lab already has a VM of that name`, { category: "InvalidArgument", target: o.name });
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/.test(o.name)) {
    throw new HvbError("LabBadVm", `Cannot create VM '${o.name}': use letters, digits, space, '.', '_' and '-'`, { category: "InvalidArgument", target: o.name });
  }
  const id = newGuid();
  const locations = diskLocations(o.generation, o.scsi, o.diskSizes.length, o.diskSlots);
  const scsiCount = o.scsi ? Math.max(1, ...locations.filter((l) => l.controller === "scsi").map((l) => l.controllerIndex + 1)) : 0;
  const hardware: Hardware = { generation: o.generation, scsiControllerId: o.scsi ? newGuid() : undefined };
  if (scsiCount > 1) hardware.extraScsiControllerIds = Array.from({ length: scsiCount - 1 }, () => newGuid());
  const used: DeviceSlot[] = [...locations];
  if (o.dvd) {
    const slot = freeSlot(o.generation, o.scsi, used, "ide");
    used.push(slot);
    hardware.dvd = { ...slot, iso: undefined };
  }
  if (o.passthrough) {
    const slot = freeSlot(o.generation, o.scsi, used, "scsi");
    used.push(slot);
    hardware.passthrough = slot;
  }
  const node = nodeForNewVm(state, o.node);
  let dataRoot = path.join(volumeForNewVm(state, dir, o.volume).root, "vms", o.name);
  if (fs.existsSync(dataRoot)) dataRoot = `${dataRoot}-${id.slice(0, 8)}`;
  const rctOn = o.format === "vhdx" && configVersionHasRct(o.configVersion);
  const disks: DiskRecord[] = o.diskSizes.map((size, i) => {
    const loc = locations[i]!;
    const baseName = o.diskSizes.length === 1 ? o.name : `${o.name}_${i}`;
    const file = path.join(dataRoot, "Virtual Hard Disks", `${baseName}.${o.format}`);
    createBaseDisk(file, o.format, size);
    return {
      deviceKey: diskDeviceKey(loc.controller, loc.controllerIndex, loc.address, scsiControllerGuid(hardware, loc.controllerIndex)),
      ...loc,
      format: o.format,
      path: file,
      baseName,
      rct: newRct(rctOn),
    };
  });
  fs.mkdirSync(path.join(dataRoot, "Virtual Machines"), { recursive: true });
  if (hardware.dvd) {
    // A stand-in ISO image: the backup must leave the DVD drive's file alone.
    const iso = path.join(dataRoot, "setup.iso");
    fs.writeFileSync(iso, Buffer.alloc(64 * 1024));
    hardware.dvd.iso = iso;
  }
  const vm: VmRecord = {
    id,
    name: o.name,
    state: EnabledState.Running,
    configVersion: o.configVersion,
    hardware,
    guest: o.guest,
    integration: o.guest === "none" ? "missing" : "ok",
    disks,
    currentSnapshot: undefined,
    dataRoot,
    notes: [],
    createdAt: now,
    stateChangedAt: now,
    // A VM made on a cluster lab is highly available, as one made in Failover Cluster Manager.
    ...(node === undefined ? {} : { node, clusterRole: true }),
  };
  state.vms.push(vm);
  for (const name of o.checkpoints ?? []) {
    const c = checkpointConsistency(vm, "standard", 1);
    if (!c.ok) throw new HvbError("LabBadVm", c.reason, { category: "InvalidOperation", target: o.name });
    takeCheckpoint(state, vm, "standard", c.level, c.consistency, now, name);
  }
  return vm;
}

/**
 * A guest write as the CLI performs it: under the lab lock, change tracking is committed
 * first and the bytes are written after, so a crash in between leaves tracking that reports
 * a change that did not land (a superset) rather than data the tracking does not know of.
 */
export function guestWriteInLab(dir: string, vmName: string, index: number, offset: number, length: number, seed: string): void {
  withLabLock(dir, () => {
    const file = mutateLab(dir, (state) => {
      const vm = vmByName(state, vmName);
      const disk = checkWritable(vm, index);
      const size = diskFacts(disk.path).virtualSize;
      if (offset + length > size) {
        throw new HvbError("LabWriteOutOfRange", `Cannot write ${length} bytes at ${offset} to disk ${index} of VM '${vm.name}': the disk has ${size} bytes`, {
          category: "InvalidArgument",
          target: vm.name,
        });
      }
      state.seq++;
      trackWrite(disk.rct, state.seq, offset, length, 512);
      return disk.path;
    });
    crashPoint("lab.write-after-track");
    writeDisk(file, offset, guestData(seed, length));
  });
}

function checkWritable(vm: VmRecord, index: number): DiskRecord {
  if (vm.state !== EnabledState.Running) {
    throw new HvbError("LabVmNotRunning", `Cannot write to VM '${vm.name}': it is not Running (a guest writes only while it runs)`, {
      category: "InvalidOperation",
      target: vm.name,
    });
  }
  const disk = vm.disks[index];
  if (!disk) {
    throw new HvbError("LabNoSuchDisk", `Cannot write to disk ${index} of VM '${vm.name}': it has ${vm.disks.length} disk(s), numbered from 0`, {
      category: "InvalidArgument",
      target: vm.name,
    });
  }
  return disk;
}

/** A guest write of deterministic bytes (`seed`) into disk `index`, as the VM sees the disk (caller holds the lock). */
export function guestWrite(state: LabState, vm: VmRecord, index: number, offset: number, length: number, seed: string): void {
  const disk = checkWritable(vm, index);
  writeDisk(disk.path, offset, guestData(seed, length));
  state.seq++;
  trackWrite(disk.rct, state.seq, offset, length, 512);
}

/** Achieved consistency of a checkpoint, or the failure a real host reports. */
export function checkpointConsistency(
  vm: VmRecord,
  kind: SnapshotKind,
  requested: 1 | 2,
): { ok: true; level: 1 | 2; consistency: ConsistencyKind } | { ok: false; reason: string } {
  if (requested === 2) return { ok: true, level: 2, consistency: "crash" };
  if (vm.state === EnabledState.Off) return { ok: true, level: 1, consistency: "application" };
  if (vm.state === EnabledState.Saved) return { ok: true, level: 2, consistency: "crash" };
  if (vm.guest === "none") return { ok: true, level: 2, consistency: "crash" };
  const guestCanDoIt = vm.state === EnabledState.Running && vm.integration === "ok";
  if (guestCanDoIt) return { ok: true, level: 1, consistency: vm.guest === "windows" ? "application" : "filesystem" };
  if (kind === "standard") return { ok: true, level: 2, consistency: "crash" }; // production falls back to standard
  const why =
    vm.state === EnabledState.Paused
      ? "the virtual machine is paused, so the guest cannot take part"
      : vm.integration === "missing"
        ? "the backup integration service is not available in the guest"
        : "the Volume Shadow Copy Service in the guest failed";
  return { ok: false, reason: `Could not create backup checkpoint for virtual machine '${vm.name}': ${why}. (Virtual machine ID ${vm.id})` };
}

/** Takes a checkpoint: every disk's top file freezes and the VM moves onto a new child. */
export function takeCheckpoint(
  state: LabState,
  vm: VmRecord,
  kind: SnapshotKind,
  level: 1 | 2,
  consistency: ConsistencyKind,
  now: number,
  name?: string,
): SnapshotRecord {
  const id = newGuid();
  const stamp = new Date(now).toISOString().replace("T", " ").slice(0, 19);
  const snapshot: SnapshotRecord = {
    id,
    vmId: vm.id,
    name: name ?? (kind === "recovery" ? `${vm.name} - Backup - (${stamp})` : `${vm.name} - (${stamp})`),
    kind,
    parentId: vm.currentSnapshot,
    createdAt: now,
    seq: ++state.seq,
    consistencyLevel: level,
    consistency,
    configVersion: vm.configVersion,
    // A pass-through disk cannot be checkpointed: it is left out (IgnoreNonSnapshottableDisks).
    hardware: { ...vm.hardware, passthrough: undefined },
    disks: [],
  };
  for (const d of vm.disks) {
    const ext = d.format === "vhdx" ? "avhdx" : "avhd";
    const child = path.join(path.dirname(d.path), `${d.baseName}_${id}.${ext}`);
    createChildDisk(d.path, child, d.format);
    snapshot.disks.push({
      deviceKey: d.deviceKey,
      controller: d.controller,
      controllerIndex: d.controllerIndex,
      address: d.address,
      format: d.format,
      path: d.path,
    });
    d.path = child;
  }
  vm.currentSnapshot = id;
  state.snapshots.push(snapshot);
  noteCheckpointLoad(state);
  return snapshot;
}

/**
 * Removes a checkpoint: for each disk, the file just above the checkpoint's frozen file (the
 * VM's file, or the next checkpoint's frozen file) is merged into it, and whatever referenced
 * that file now references the merged one. Returns files to delete after the commit.
 */
export function removeCheckpoint(state: LabState, snapshot: SnapshotRecord): string[] {
  const vm = state.vms.find((v) => v.id === snapshot.vmId);
  const children = state.snapshots.filter((s) => s.parentId === snapshot.id);
  const toDelete: string[] = [];
  if (vm) {
    for (const frozen of snapshot.disks) {
      const above = findFileAbove(vm, children, snapshot, frozen.deviceKey);
      if (above === undefined) continue; // disk detached since: nothing sits on top
      mergeChildDisk(above.path, frozen.format);
      toDelete.push(above.path);
      above.repoint(frozen.path);
      reparentChildrenOf(vm, state, above.path, frozen.path, frozen.format);
    }
    if (vm.currentSnapshot === snapshot.id) vm.currentSnapshot = snapshot.parentId;
  }
  for (const c of children) c.parentId = snapshot.parentId;
  state.snapshots = state.snapshots.filter((s) => s.id !== snapshot.id);
  noteCheckpointLoad(state);
  return toDelete;
}

function findFileAbove(
  vm: VmRecord,
  children: SnapshotRecord[],
  snapshot: SnapshotRecord,
  deviceKey: string,
): { path: string; repoint: (p: string) => void } | undefined {
  const child = children.find((c) => c.disks.some((d) => d.deviceKey === deviceKey));
  if (child) {
    const d = child.disks.find((x) => x.deviceKey === deviceKey)!;
    return { path: d.path, repoint: (p) => (d.path = p) };
  }
  if (vm.currentSnapshot === snapshot.id) {
    const d = vm.disks.find((x) => x.deviceKey === deviceKey);
    if (d) return { path: d.path, repoint: (p) => (d.path = p) };
  }
  return undefined;
}

/**
 * After `merged` was folded into `into`, a file whose parent was `merged` must point at
 * `into`: its parent locator is rewritten (what Hyper-V does when it deletes a checkpoint in
 * the middle of a chain).
 */
function reparentChildrenOf(vm: VmRecord, state: LabState, merged: string, into: string, format: DiskFormat): void {
  // Only this VM's files can sit on a file of its chain (Hyper-V makes a checkpoint's
  // differencing disks for that VM alone): opening every checkpoint file of the host was most of
  // a merge's time with 50 VMs (bench/README.md, "Where a VM's seconds on a checkpoint go").
  const files = new Set<string>([...vm.disks.map((d) => d.path), ...state.snapshots.filter((s) => s.vmId === vm.id).flatMap((s) => s.disks.map((d) => d.path))]);
  for (const f of files) {
    if (f === into || f === merged) continue;
    if (parentOf(f) === path.resolve(merged)) setParent(f, into, format);
  }
}

function parentOf(file: string): string | undefined {
  return parentFileOf(file);
}
function setParent(file: string, parent: string, format: DiskFormat): void {
  setParentFile(file, parent, format);
}

/** Deletes files the committed state no longer references. */
export function deleteAfterCommit(files: readonly string[]): void {
  for (const f of files) fs.rmSync(f, { force: true });
}

/**
 * A live migration: in-memory RCT detail is lost, .rct granularity stays. On a cluster lab the
 * VM moves to node `to` (its files stay on the shared volume); without `to` it goes away and
 * comes back to the same host.
 */
export function migrateVm(state: LabState, vm: VmRecord, to?: string): void {
  if (to !== undefined) {
    const node = checkNode(state, to);
    if (vm.node === node) throw new HvbError("LabSameNode", `Cannot migrate VM '${vm.name}' to '${node}': it already runs there`, { category: "InvalidOperation", target: vm.name });
    vm.node = node;
  }
  degrade(vm.disks, state.config.rctGrain);
}

/**
 * Runs the live migrations armed for after a call of `method` (`lab migrate --after METHOD`)
 * of the VMs the call concerns (whose id, or the path of one of whose disks, its arguments
 * name): a migration between a backup's checkpoint and its copy (GetVirtualDiskChanges), or
 * between its copy and the reference point (ExportSystemDefinition), at a moment a test chooses.
 */
export function migrateAfterCall(state: LabState, method: string, argsText: string): void {
  for (const vm of state.vms) {
    const armed = vm.migrateAfter;
    if (!armed || armed.method.toLowerCase() !== method.toLowerCase()) continue;
    const files = [...vm.disks.map((d) => d.path), ...state.snapshots.filter((x) => x.vmId === vm.id).flatMap((x) => x.disks.map((d) => d.path))];
    const named = argsText.toUpperCase().includes(vm.id.toUpperCase()) || files.some((f) => argsText.includes(JSON.stringify(f).slice(1, -1)));
    if (!named) continue;
    delete vm.migrateAfter;
    migrateVm(state, vm, armed.to);
  }
}

/** A host crash: running VMs go Off, only .mrt granularity survives, running jobs vanish. */
export function crashHost(state: LabState, now: number): void {
  for (const vm of state.vms) {
    degrade(vm.disks, state.config.mrtGrain);
    if (vm.state === EnabledState.Running || vm.state === EnabledState.Paused) {
      vm.state = EnabledState.Off;
      vm.stateChangedAt = now;
    }
  }
  state.jobs.clear();
  // Merges not yet done end with their jobs (pending_merges.ts): the checkpoints stay.
  delete state.pendingMerges;
}

/** Changes a VM's state directly (lab command / RequestStateChange). */
export function setVmState(vm: VmRecord, enabledState: number, now: number): void {
  vm.state = enabledState;
  vm.stateChangedAt = now;
}

/** Replacing a disk file under a VM invalidates its change tracking. */
export function resetDiskTracking(disk: DiskRecord): void {
  resetRct(disk.rct);
}
