/**
 * Every configuration the host holds (a VM's realized settings, each checkpoint, each planned
 * VM) seen the same way, so setting-data instances are built by one piece of code.
 */
import * as path from "node:path";
import type { Hardware, LabState, SnapshotDisk, SnapshotRecord, VmRecord } from "./model";
import { plannedCheckpointConfigs } from "./planned_checkpoints";

export type ConfigKind = "realized" | "snapshot" | "planned";

/** Msvm_VirtualSystemSettingData.VirtualSystemType strings (class doc). */
export const SYSTEM_TYPE = {
  realized: "Microsoft:Hyper-V:System:Realized",
  planned: "Microsoft:Hyper-V:System:Planned",
  snapshotStandard: "Microsoft:Hyper-V:Snapshot:Realized",
  snapshotRecovery: "Microsoft:Hyper-V:Snapshot:Recovery",
} as const;

export interface ConfigView {
  /** GUID used in the configuration's InstanceIDs (VM id, checkpoint id or planned VM id). */
  configId: string;
  kind: ConfigKind;
  /** Id of the VM (or planned VM) the configuration belongs to. */
  systemId: string;
  name: string;
  systemType: string;
  version: string;
  hardware: Hardware;
  disks: SnapshotDisk[];
  parentSnapshotId: string | undefined;
  createdAt: number;
  dataRoot: string;
  notes: string[];
  snapshot: SnapshotRecord | undefined;
}

export function vmDisks(vm: VmRecord): SnapshotDisk[] {
  return vm.disks.map((d) => ({
    deviceKey: d.deviceKey,
    controller: d.controller,
    controllerIndex: d.controllerIndex,
    address: d.address,
    format: d.format,
    path: d.path,
  }));
}

export function realizedConfig(vm: VmRecord): ConfigView {
  return {
    configId: vm.id,
    kind: "realized",
    systemId: vm.id,
    name: vm.name,
    systemType: SYSTEM_TYPE.realized,
    version: vm.configVersion,
    hardware: vm.hardware,
    disks: vmDisks(vm),
    parentSnapshotId: undefined,
    createdAt: vm.createdAt,
    dataRoot: vm.dataRoot,
    notes: vm.notes,
    snapshot: undefined,
  };
}

export function snapshotConfig(state: LabState, s: SnapshotRecord): ConfigView {
  const vm = state.vms.find((v) => v.id === s.vmId);
  return {
    configId: s.id,
    kind: "snapshot",
    systemId: s.vmId,
    name: s.name,
    systemType: s.kind === "recovery" ? SYSTEM_TYPE.snapshotRecovery : SYSTEM_TYPE.snapshotStandard,
    version: s.configVersion,
    hardware: s.hardware,
    disks: s.disks,
    parentSnapshotId: s.parentId,
    createdAt: s.createdAt,
    dataRoot: vm?.dataRoot ?? "",
    notes: [],
    snapshot: s,
  };
}

export function allConfigurations(state: LabState): ConfigView[] {
  const out: ConfigView[] = state.vms.map(realizedConfig);
  for (const s of state.snapshots) out.push(snapshotConfig(state, s));
  for (const p of state.planned) {
    out.push({
      configId: p.id,
      kind: "planned",
      systemId: p.id,
      name: p.name,
      systemType: SYSTEM_TYPE.planned,
      version: p.configVersion,
      hardware: p.hardware,
      disks: p.disks,
      parentSnapshotId: undefined,
      createdAt: p.createdAt,
      dataRoot: path.dirname(path.dirname(p.definitionFile)),
      notes: p.notes,
      snapshot: undefined,
    });
  }
  out.push(...plannedCheckpointConfigs(state));
  return out;
}
