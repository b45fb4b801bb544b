/**
 * Volume shadow copies of the lab (Win32_ShadowCopy): a frozen view of a volume's files at one
 * instant. The lab freezes what a backup reads from a volume, the virtual disk files of every VM
 * and checkpoint on it, by copying each (a reflink where the file system can, else a full copy)
 * into DIR/shadows/<id>/, laid out as below the volume root; the folder is the DeviceObject.
 * Made under the lab lock, so no guest write or checkpoint change lands halfway.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type LabState, type ShadowCopyRecord, type VolumeRecord, newGuid } from "./model";
import { labVolumes, volumeOfFile } from "./volumes";

/** The disk files of every VM, checkpoint and planned VM that lie on `volume`. */
function filesOn(state: LabState, volumes: readonly VolumeRecord[], volume: VolumeRecord): string[] {
  const all = [
    ...state.vms.flatMap((v) => v.disks.map((d) => d.path)),
    ...state.snapshots.flatMap((s) => s.disks.map((d) => d.path)),
    ...state.planned.flatMap((p) => p.disks.map((d) => d.path)),
  ];
  return [...new Set(all.map((f) => path.resolve(f)))].filter((f) => volumeOfFile(volumes, f)?.name === volume.name && fs.existsSync(f));
}

/**
 * A copy of `src` that stays as it is whatever happens to `src` later: a reflink where the file
 * system has them (copy-on-write, instant), else a copy that skips zero runs (the disk files are
 * sparse: writing their holes as zeros would cost time and space a shadow copy does not).
 */
function frozenCopy(src: string, dest: string): void {
  try {
    fs.copyFileSync(src, dest, fs.constants.COPYFILE_FICLONE_FORCE);
    return;
  } catch {
    /* no reflinks here: copy the data runs */
  }
  const chunk = Buffer.alloc(1024 * 1024);
  const zeros = Buffer.alloc(chunk.length);
  const size = fs.statSync(src).size;
  const from = fs.openSync(src, "r");
  const to = fs.openSync(dest, "w");
  try {
    for (let off = 0; off < size; off += chunk.length) {
      const n = fs.readSync(from, chunk, 0, Math.min(chunk.length, size - off), off);
      const part = chunk.subarray(0, n);
      if (!part.equals(zeros.subarray(0, n))) fs.writeSync(to, part, 0, n, off);
    }
    fs.ftruncateSync(to, size);
  } finally {
    fs.closeSync(from);
    fs.closeSync(to);
  }
}

/** Takes a shadow copy of `volume`; the caller commits the state. */
export function takeShadowCopy(state: LabState, dir: string, volume: VolumeRecord, now: number): ShadowCopyRecord {
  const id = `{${newGuid()}}`;
  const folder = path.join(path.resolve(dir), "shadows", id.slice(1, -1));
  for (const f of filesOn(state, labVolumes(state, dir), volume)) {
    const dest = path.join(folder, path.relative(volume.root, f));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    frozenCopy(f, dest);
  }
  fs.mkdirSync(folder, { recursive: true });
  const record: ShadowCopyRecord = { id, volume: volume.name, folder, createdAt: now };
  (state.shadowCopies ??= []).push(record);
  return record;
}

/** Forgets a shadow copy; returns its folder to delete after the commit. */
export function removeShadowCopy(state: LabState, id: string): string | undefined {
  const found = (state.shadowCopies ?? []).find((s) => s.id.toLowerCase() === id.toLowerCase());
  if (!found) return undefined;
  state.shadowCopies = (state.shadowCopies ?? []).filter((s) => s !== found);
  return found.folder;
}
