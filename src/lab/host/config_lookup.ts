/** The configuration a VM export describes: the VM itself, or one of its checkpoints. */
import { type ConfigView, realizedConfig, snapshotConfig } from "./configurations";
import type { LabState, SnapshotRecord, VmRecord } from "./model";

export function configView(state: LabState, vm: VmRecord, snapshot: SnapshotRecord | undefined): ConfigView {
  return snapshot ? snapshotConfig(state, snapshot) : realizedConfig(vm);
}
