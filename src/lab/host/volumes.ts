/**
 * Volumes and cluster nodes of the lab host. A volume is a folder standing for a volume: the
 * lab folder itself (the host's local volume), DIR/volumes/NAME for more local volumes, and
 * DIR/ClusterStorage/VolumeN for cluster shared volumes, which every node of a cluster lab
 * sees at the same path (as C:\ClusterStorage\VolumeN on a real cluster).
 *
 * The lab also measures what a per-volume limit is about: how many recovery checkpoints exist
 * at once on each volume and on each node (a VM runs on differencing disks on that volume while
 * it has one). Tests read the peaks to check that a backup honoured its limits.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { type LabState, type VmRecord, type VolumeRecord, newGuid } from "./model";

/** Name of the lab's first volume, the lab folder itself. */
export const LOCAL_VOLUME = "LAB";

/** The volumes a new lab starts with: the lab folder, and with cluster nodes one shared volume. */
export function initialVolumes(dir: string, clustered: boolean): VolumeRecord[] {
  const abs = path.resolve(dir);
  const out: VolumeRecord[] = [{ name: LOCAL_VOLUME, root: abs, id: newGuid(), csv: false }];
  if (clustered) {
    const root = path.join(abs, "ClusterStorage", "Volume1");
    fs.mkdirSync(root, { recursive: true });
    out.push({ name: "Volume1", root, id: newGuid(), csv: true });
  }
  return out;
}

/** Node names of a cluster lab of `count` nodes (NODE1, NODE2, ...). */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `NODE${i + 1}`);
}

/** The lab's volumes (a lab made before volumes existed has its folder as its only volume). */
export function labVolumes(state: LabState, dir: string): VolumeRecord[] {
  if (!state.volumes || state.volumes.length === 0) state.volumes = initialVolumes(dir, false);
  return state.volumes;
}

/** True for a cluster lab. */
export function isCluster(state: LabState): boolean {
  return (state.nodes?.length ?? 0) > 0;
}

/**
 * The volume named `name`, made when missing: on a cluster lab a new one is a cluster shared
 * volume (DIR/ClusterStorage/NAME), else a local one (DIR/volumes/NAME). Without a name: the
 * first shared volume on a cluster, the lab folder otherwise.
 */
export function volumeForNewVm(state: LabState, dir: string, name: string | undefined): VolumeRecord {
  const volumes = labVolumes(state, dir);
  if (name === undefined) return (isCluster(state) ? volumes.find((v) => v.csv) : undefined) ?? volumes[0]!;
  const found = volumes.find((v) => v.name.toLowerCase() === name.toLowerCase());
  if (found) return found;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
    throw new HvbError("LabBadVolume", `Cannot make volume '${name}': use letters, digits, '_' and '-'`, { category: "InvalidArgument", target: name });
  }
  const csv = isCluster(state);
  const root = path.join(volumes[0]!.root, csv ? "ClusterStorage" : "volumes", name);
  fs.mkdirSync(root, { recursive: true });
  const v: VolumeRecord = { name, root, id: newGuid(), csv };
  volumes.push(v);
  return v;
}

/** The node a new VM goes to: the one asked for, else the node with the fewest VMs. */
export function nodeForNewVm(state: LabState, node: string | undefined): string | undefined {
  const nodes = state.nodes ?? [];
  if (nodes.length === 0) {
    if (node !== undefined) throw new HvbError("LabNotCluster", `Cannot place a VM on node '${node}': this lab is not a cluster (lab init --nodes N)`, { category: "InvalidArgument", target: node });
    return undefined;
  }
  if (node !== undefined) return checkNode(state, node);
  const count = (n: string): number => state.vms.filter((v) => v.node === n).length;
  return [...nodes].sort((a, b) => count(a) - count(b))[0];
}

/** `node` as the lab spells it, or an error naming the nodes there are. */
export function checkNode(state: LabState, node: string): string {
  const found = (state.nodes ?? []).find((n) => n.toLowerCase() === node.toLowerCase());
  if (!found) {
    const known = state.nodes?.length ? `its nodes are ${state.nodes.join(", ")}` : "it is not a cluster (lab init --nodes N)";
    throw new HvbError("LabNoSuchNode", `Cannot use node '${node}': ${known}`, { category: "ObjectNotFound", target: node });
  }
  return found;
}

/** The node a VM runs on: its owner on a cluster lab, the host otherwise. */
export function nodeOf(state: LabState, vm: VmRecord): string {
  return vm.node ?? state.nodes?.[0] ?? state.hostName;
}

/** The volume holding `file` (longest root that contains it), or undefined outside every volume. */
export function volumeOfFile(volumes: readonly VolumeRecord[], file: string): VolumeRecord | undefined {
  const abs = path.resolve(file);
  let best: VolumeRecord | undefined;
  for (const v of volumes) {
    const inside = abs === v.root || abs.startsWith(v.root.endsWith(path.sep) ? v.root : v.root + path.sep);
    if (inside && (!best || v.root.length > best.root.length)) best = v;
  }
  return best;
}

/**
 * Counts the recovery checkpoints that exist now per volume (`volume:NAME`, each volume a VM's
 * disks use counts once) and per node (`node:NAME`), and raises the recorded peaks. Called
 * after every change of the checkpoint list (take, remove, convert).
 */
export function noteCheckpointLoad(state: LabState): void {
  const volumes = state.volumes ?? [];
  const current: Record<string, number> = {};
  for (const s of state.snapshots) {
    if (s.kind !== "recovery") continue;
    const vm = state.vms.find((v) => v.id === s.vmId);
    const keys = new Set<string>(["host", `node:${vm ? nodeOf(state, vm) : state.hostName}`]);
    for (const d of s.disks) keys.add(`volume:${volumeOfFile(volumes, d.path)?.name ?? "(none)"}`);
    for (const k of keys) current[k] = (current[k] ?? 0) + 1;
  }
  const load = (state.checkpointLoad ??= { current: {}, peak: {} });
  load.current = current;
  for (const [k, n] of Object.entries(current)) load.peak[k] = Math.max(load.peak[k] ?? 0, n);
}
