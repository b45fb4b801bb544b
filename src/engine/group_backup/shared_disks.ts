/**
 * The shared disks of a guest cluster (VHD Sets its members attach), copied once per set
 * (docs/design/repository.md "Shared disks of a set"). The group checkpoint snapshots each VHD
 * Set once; its members' checkpoint disks name that snapshot (SASD SnapshotId). The product
 * never opens the .vhds: GetVHDSetInformation confirms the snapshot is the set's,
 * GetVHDSnapshotInformation names the VHDX holding its data (and its RCT id), and for an
 * incremental GetVirtualDiskChanges with TargetSnapshotId says what changed since the previous
 * set's snapshot. The copy is a plain VHDX under `sets/<set id>.shared/`: the whole disk, or a
 * differencing VHDX over the previous set's file holding the changed ranges.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { isAllZero, openDisk } from "../../disks/mod";
import type { VirtualDisk } from "../../disk/mod";
import { type ByteRange, type GroupSnapshot, isRctFallbackError, plainGuid } from "../../hyperv/mod";
import { type Repository, type SetRecord, type SetSharedDisk, listSetRecords, sharedDiskDir } from "../../repository/mod";
import { createVhdx } from "../../vhdx/mod";
import type { Warn } from "../backup/plan";
import type { EngineEvents } from "../events";
import type { HostApi, HostVm } from "../host_api";

/** A VHD Set the members attach, and where each attaches it. */
export interface GroupSharedDisk {
  path: string;
  attachments: { vmId: string; location: string }[];
}

function samePath(a: string, b: string): boolean {
  return a.replace(/\//g, "\\").toLowerCase() === b.replace(/\//g, "\\").toLowerCase();
}

/** The VHD Sets the members attach, each once, in member order. */
export function sharedDisksOf(members: readonly HostVm[]): GroupSharedDisk[] {
  const out: GroupSharedDisk[] = [];
  for (const vm of members) {
    for (const d of vm.sharedDisks ?? []) {
      if (d.kind !== "vhdset") continue;
      let entry = out.find((x) => samePath(x.path, d.path));
      if (!entry) out.push((entry = { path: d.path, attachments: [] }));
      entry.attachments.push({ vmId: vm.id, location: d.location });
    }
  }
  return out;
}

/** The VHD Set snapshot the group checkpoint took of `file` (named by a member checkpoint's disk). */
export function snapshotIdOf(snap: GroupSnapshot, file: string): string | undefined {
  for (const cp of snap.checkpoints) {
    const d = (cp.sharedDisks ?? []).find((x) => samePath(x.path, file) && x.snapshotId);
    if (d?.snapshotId) return plainGuid(d.snapshotId);
  }
  return undefined;
}

/** What one copy needs. */
export interface SharedCopyContext {
  host: HostApi;
  repo: Repository;
  groupId: string;
  groupName: string;
  setId: string;
  snap: GroupSnapshot;
  full: boolean;
  warn: Warn;
  events: EngineEvents;
}

/** Copies every shared disk of the group once into the set's folder; returns their records. */
export async function copySharedDisks(c: SharedCopyContext, disks: readonly GroupSharedDisk[]): Promise<SetSharedDisk[]> {
  const out: SetSharedDisk[] = [];
  const names = new Set<string>();
  for (const d of disks) {
    let base = path.win32.basename(d.path).replace(/\.vhds$/i, "").replace(/[^A-Za-z0-9 ._-]/g, "_") || "shared";
    while (names.has(base.toLowerCase())) base = `${base}-${names.size}`;
    names.add(base.toLowerCase());
    out.push(await copyOne(c, d, `${sharedDiskDir(c.setId)}/${base}.vhdx`));
  }
  return out;
}

async function copyOne(c: SharedCopyContext, d: GroupSharedDisk, relFile: string): Promise<SetSharedDisk> {
  const id = snapshotIdOf(c.snap, d.path);
  if (!id) {
    throw new HvbError("HyperVUnexpectedData", `The checkpoint of group '${c.groupName}' names no snapshot of the VHD Set '${d.path}' (SnapshotId of its members' checkpoint disks is empty)`, { category: "InvalidData", target: d.path });
  }
  const info = await c.host.getVhdSetInformation(d.path);
  if (!info.snapshotIds.includes(id)) {
    throw new HvbError("HyperVUnexpectedData", `GetVHDSetInformation of '${d.path}' does not list snapshot ${id}, which the checkpoint of group '${c.groupName}' names`, { category: "InvalidData", target: d.path });
  }
  const snapshot = await c.host.getVhdSnapshot(d.path, id);
  if (snapshot.snapshotPath === "") {
    throw new HvbError("HyperVUnexpectedData", `GetVHDSnapshotInformation of '${d.path}' gives snapshot ${id} no file to read`, { category: "InvalidData", target: d.path });
  }
  const file = path.join(c.repo.root, relFile);
  mkdirSync(path.dirname(file), { recursive: true });
  const src = openDisk(snapshot.snapshotPath);
  try {
    const base = c.full ? undefined : previousCopy(c, d.path, src.virtualSize);
    let changed: ByteRange[] | undefined;
    if (base) {
      try {
        changed = await c.host.getVhdSetChanges(d.path, base.disk.rctId, id, { offset: 0, length: src.virtualSize });
      } catch (e) {
        if (!isRctFallbackError(e)) throw e;
        c.warn(`The changes of the VHD Set '${d.path}' since set ${base.set.id} cannot be had (${(e as Error).message}); it is copied in full`, "RctUnavailable");
      }
    }
    c.events.progress({ activity: `Backing up group ${c.groupName}`, status: `shared disk '${d.path}'`, percent: 90 });
    if (base && changed) writeDisk(createVhdx(file, { parentPath: path.join(c.repo.root, base.disk.file) }), src, changed, false);
    else writeDisk(createVhdx(file, { virtualSize: src.virtualSize }), src, src.dataRanges("chain"), true);
    const incremental = base !== undefined && changed !== undefined;
    return {
      sourcePath: d.path,
      file: relFile,
      kind: incremental ? "incremental" : "full",
      parentSetId: incremental ? base!.set.id : null,
      virtualSize: src.virtualSize,
      size: statSync(file).size,
      sha256: sha256Of(file),
      snapshotId: id,
      rctId: snapshot.rctId,
      attachments: d.attachments,
    };
  } finally {
    src.close();
  }
}

/** The newest committed set of the group that stored this shared disk, when its file is still as recorded. */
function previousCopy(c: SharedCopyContext, source: string, virtualSize: number): { set: SetRecord; disk: SetSharedDisk } | undefined {
  const sets = listSetRecords(c.repo.root).filter((s) => s.state === "committed" && s.groupId.toLowerCase() === c.groupId.toLowerCase());
  for (const set of sets.reverse()) {
    const disk = set.sharedDisks?.find((x) => samePath(x.sourcePath, source));
    if (!disk) continue;
    const file = path.join(c.repo.root, disk.file);
    if (disk.rctId === "" || disk.virtualSize !== virtualSize) return undefined;
    if (!existsSync(file) || statSync(file).size !== disk.size) {
      c.warn(`The shared disk file '${disk.file}' of set ${set.id} is missing or changed; the VHD Set '${source}' is copied in full`, "ChainBroken");
      return undefined;
    }
    return { set, disk };
  }
  return undefined;
}

/**
 * Writes `ranges` of `src` into `dst` (then closes it). Into a differencing file zeros are
 * written too (they hide the parent's data); a new full file reads zeros where nothing is written.
 */
function writeDisk(dst: VirtualDisk, src: VirtualDisk, ranges: readonly ByteRange[], skipZeros: boolean): void {
  try {
    const buf = Buffer.alloc(4 * 1024 * 1024);
    for (const r of ranges) {
      for (let p = r.offset; p < r.offset + r.length; p += buf.length) {
        const part = buf.subarray(0, Math.min(buf.length, r.offset + r.length - p));
        src.read(part, p);
        if (!(skipZeros && isAllZero(part))) dst.write(part, p);
      }
    }
    dst.flush();
  } finally {
    dst.close();
  }
}

/** SHA-256 of a file, read in chunks. */
export function sha256Of(file: string): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(4 * 1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/**
 * After a failed set: a snapshot of a VHD Set the group checkpoint took that the set still
 * lists (the host's DestroySnapshot of the group should have removed it) is deleted with
 * DeleteVHDSnapshot; one that cannot be is reported, never left silently.
 */
export async function dropLingeringVhdSetSnapshots(host: HostApi, disks: readonly GroupSharedDisk[], snap: GroupSnapshot, warn: Warn): Promise<void> {
  for (const d of disks) {
    const id = snapshotIdOf(snap, d.path);
    if (!id) continue;
    try {
      if (!(await host.getVhdSetInformation(d.path)).snapshotIds.includes(id)) continue;
      await host.deleteVhdSnapshot(d.path, id, false);
    } catch (e) {
      warn(`Could not make sure snapshot ${id} of the VHD Set '${d.path}' is gone (${(e as Error).message}); remove it with Remove-VHDSnapshot -Path '${d.path}' -SnapshotId ${id}`, "CheckpointLeft");
    }
  }
}
