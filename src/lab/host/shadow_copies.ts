/**
 * Volume shadow copies of the lab (Win32_ShadowCopy): a frozen view of a volume's files at one
 * instant. The lab freezes what a backup reads from a volume, the virtual disk files of every VM
 * and checkpoint on it, by a hard link to each in DIR/shadows/<id>/, laid out as below the volume
 * root (the folder is the DeviceObject): taken in no time however much data the volume holds,
 * as VSS takes one. A later change to one of those files copies it first (copy_on_write.ts), so
 * the shadow copy shows every file as it was at its instant: also a base disk that a checkpoint
 * is merged into, and a differencing disk that is deleted after the merge. Made under the lab
 * lock, so no guest write or checkpoint change lands halfway.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type LabState, type ShadowCopyRecord, type VolumeRecord, newGuid } from "./model";
import { labVolumes, volumeOfFile } from "./volumes";
import { freezeInto } from "./copy_on_write";

/** The disk files of every VM, checkpoint and planned VM that lie on `volume`. */
function filesOn(state: LabState, volumes: readonly VolumeRecord[], volume: VolumeRecord): string[] {
  const all = [
    ...state.vms.flatMap((v) => v.disks.map((d) => d.path)),
    ...state.snapshots.flatMap((s) => s.disks.map((d) => d.path)),
    ...state.planned.flatMap((p) => p.disks.map((d) => d.path)),
  ];
  return [...new Set(all.map((f) => path.resolve(f)))].filter((f) => volumeOfFile(volumes, f)?.name === volume.name && fs.existsSync(f));
}

/** Takes a shadow copy of `volume`; the caller commits the state. */
export function takeShadowCopy(state: LabState, dir: string, volume: VolumeRecord, now: number): ShadowCopyRecord {
  const id = `{${newGuid()}}`;
  const folder = path.join(path.resolve(dir), "shadows", id.slice(1, -1));
  for (const f of filesOn(state, labVolumes(state, dir), volume)) {
    const dest = path.join(folder, path.relative(volume.root, f));
    freezeInto(f, dest);
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
