/**
 * Checkpoints an imported configuration still references (issue 13 A8). An exported VM
 * definition names the checkpoints its configuration hangs from (the chain of parents of the
 * exported configuration); ImportSystemDefinition looks for their definitions in SnapshotFolder,
 * and its page says: "Any referenced snapshots not found in this location must be deleted using
 * DestroySnapshot, or imported using ImportSnapshotDefinitions prior to realizing". The lab
 * shows each as a checkpoint of the planned VM (a VSSD associated through
 * Msvm_SnapshotOfVirtualSystem), fails ValidatePlannedSystem and RealizePlannedSystem while one
 * is unresolved (its definition not found, or a file it refers to missing), and lets
 * DestroySnapshot remove it (ImportSnapshotDefinitions is not emulated).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigView } from "./configurations";
import { SYSTEM_TYPE } from "./configurations";
import type { Hardware, LabState, PlannedRecord, SnapshotDisk, SnapshotKind, SnapshotRecord, VmRecord } from "./model";
import { newGuid } from "./model";

/** A checkpoint as an exported definition references it. */
export interface ReferencedCheckpoint {
  id: string;
  name: string;
  kind: SnapshotKind;
  parentId: string | null;
  createdAt: number;
  configVersion: string;
  hardware: Hardware;
  disks: SnapshotDisk[];
}

/** A checkpoint of a planned VM; `found` when its definition was in the import's SnapshotFolder. */
export interface PlannedCheckpoint extends ReferencedCheckpoint {
  found: boolean;
}

/** The checkpoints the configuration of `vm` (or its checkpoint `exported`) hangs from, nearest first. */
export function referencedCheckpoints(state: LabState, vm: VmRecord, exported: SnapshotRecord | undefined): ReferencedCheckpoint[] {
  const out: ReferencedCheckpoint[] = [];
  let id = exported ? exported.parentId : vm.currentSnapshot;
  while (id) {
    const s = state.snapshots.find((x) => x.id === id);
    if (!s) break;
    out.push({ id: s.id, name: s.name, kind: s.kind, parentId: s.parentId ?? null, createdAt: s.createdAt, configVersion: s.configVersion, hardware: s.hardware, disks: s.disks });
    id = s.parentId;
  }
  return out;
}

/**
 * The planned VM's checkpoints after an import: each referenced one, found when
 * `<snapshotFolder>/<id>.vmcx` exists. Ids already used on the host are renewed (a side-by-side
 * import of a VM whose checkpoints still exist).
 */
export function importedCheckpoints(state: LabState, refs: readonly ReferencedCheckpoint[] | undefined, snapshotFolder: string | undefined): PlannedCheckpoint[] {
  const taken = (id: string) => state.snapshots.some((s) => s.id === id) || state.planned.some((p) => (p.checkpoints ?? []).some((c) => c.id === id));
  const renamed = new Map<string, string>();
  for (const r of refs ?? []) renamed.set(r.id, taken(r.id) ? newGuid() : r.id);
  return (refs ?? []).map((r) => ({
    ...r,
    id: renamed.get(r.id)!,
    parentId: r.parentId ? (renamed.get(r.parentId) ?? r.parentId) : null,
    found: !!snapshotFolder && fs.existsSync(path.join(snapshotFolder, `${r.id}.vmcx`)),
  }));
}

/** Why the planned VM's checkpoints stop its validation, or undefined. */
export function unresolvedCheckpoint(p: PlannedRecord): string | undefined {
  for (const c of p.checkpoints ?? []) {
    if (!c.found) return `the checkpoint '${c.name}' (${c.id}) it references was not found in the snapshot folder: delete it (DestroySnapshot) or import it (ImportSnapshotDefinitions) first`;
    const missing = c.disks.find((d) => !fs.existsSync(d.path));
    if (missing) return `the checkpoint '${c.name}' (${c.id}) refers to '${missing.path}', which was not found`;
  }
  return undefined;
}

/** The planned VM that holds checkpoint `id`, if any. */
export function plannedOwnerOf(state: LabState, id: string): PlannedRecord | undefined {
  return state.planned.find((p) => (p.checkpoints ?? []).some((c) => c.id.toLowerCase() === id.toLowerCase()));
}

/** DestroySnapshot of a planned VM's checkpoint: it goes, its children hang from its parent; no file is touched. */
export function destroyPlannedCheckpoint(p: PlannedRecord, id: string): void {
  const gone = (p.checkpoints ?? []).find((c) => c.id.toLowerCase() === id.toLowerCase());
  if (!gone) return;
  p.checkpoints = (p.checkpoints ?? []).filter((c) => c !== gone).map((c) => (c.parentId === gone.id ? { ...c, parentId: gone.parentId } : c));
}

/** Each planned VM's checkpoints as configurations (VSSDs and their resources). */
export function plannedCheckpointConfigs(state: LabState): ConfigView[] {
  return state.planned.flatMap((p) =>
    (p.checkpoints ?? []).map((c) => ({
      configId: c.id,
      kind: "snapshot" as const,
      systemId: p.id,
      name: c.name,
      systemType: c.kind === "recovery" ? SYSTEM_TYPE.snapshotRecovery : SYSTEM_TYPE.snapshotStandard,
      version: c.configVersion,
      hardware: c.hardware,
      disks: c.disks,
      parentSnapshotId: c.parentId ?? undefined,
      createdAt: c.createdAt,
      dataRoot: path.dirname(path.dirname(p.definitionFile)),
      notes: [],
      snapshot: undefined,
    })),
  );
}
