/**
 * Msvm_VirtualSystemManagementService: ExportSystemDefinition, ImportSystemDefinition,
 * ValidatePlannedSystem, RealizePlannedSystem (family B), DestroySystem, ModifyResourceSettings,
 * ModifySystemSettings (family A).
 *
 * The exported definition is the lab's own JSON document named `<VM id>.vmcx` (real .vmcx
 * files are a binary Microsoft format); it round-trips through Import on the lab only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { copyFlattened, createChildDisk, detectFormatSafe } from "../host/disk_files";
import { configView } from "../host/config_lookup";
import { resetDiskTracking } from "../host/host_ops";
import { A, B, EFFECT_CHANGE, EFFECT_CREATE, type MethodContext, type MethodHandler, prop, sync } from "./method_support";
import {
  configVersionHasRct,
  EnabledState,
  KNOWN_CONFIG_VERSIONS,
  newGuid,
  type PlannedDisk,
  type PlannedRecord,
  type SharedDiskSlot,
  type VmRecord,
} from "../host/model";
import { computerSystemPath, diskDeviceKey, plannedSystemPath, scsiControllerGuid } from "../host/paths";
import { findVhdSet } from "../host/vhd_sets";
import { hostRunsConfigVersion } from "../host/host_versions";
import { newRct } from "../host/rct";
import { snapshotOfRef, vmOfRef } from "./snapshot_service";
import { vmmsPathProblem } from "../classes/logical_disk";
import { type ReferencedCheckpoint, importedCheckpoints, referencedCheckpoints, unresolvedCheckpoint } from "../host/planned_checkpoints";
import { writeFileAtomic } from "../../base/mod";

export const VMCX_FORMAT = "hvbackup-lab-vmcx";

/** The lab's exported definition (JSON). Disk files are relative to the export folder when copied. */
export interface ExportedDefinition {
  format: typeof VMCX_FORMAT;
  version: 1;
  vmId: string;
  name: string;
  configVersion: string;
  generation: 1 | 2;
  scsiControllerId: string | null;
  /** SCSI controllers 1..3 (absent in definitions of one-controller VMs). */
  extraScsiControllerIds?: string[];
  guest: string;
  integration: string;
  notes: string[];
  /** The checkpoint exported (CopySnapshotConfiguration 2/3), else null. */
  snapshotId: string | null;
  /** The checkpoints the exported configuration hangs from (absent in older lab definitions). */
  checkpoints?: ReferencedCheckpoint[];
  exportedAt: string;
  disks: (Omit<PlannedDisk, "path"> & { file: string })[];
  /** Shared disks (VHD Sets, shared VHDX), by their own path: an export never copies them. */
  sharedDisks?: SharedDiskSlot[];
}

/**
 * Writes the exported definition of `vm` as `view` shows it into `<target>/Virtual Machines/<id>.vmcx`
 * (with an empty Snapshots folder beside it), as ExportSystemDefinition and a group's
 * ExportSnapshot both lay it out.
 */
export function writeDefinition(target: string, vm: VmRecord, view: ReturnType<typeof configView>, snapshotId: string | null, now: number, disks: ExportedDefinition["disks"], checkpoints: ReferencedCheckpoint[] = []): void {
  const def: ExportedDefinition = {
    format: VMCX_FORMAT,
    version: 1,
    vmId: vm.id,
    name: vm.name,
    configVersion: view.version,
    generation: view.hardware.generation,
    scsiControllerId: view.hardware.scsiControllerId ?? null,
    ...(view.hardware.extraScsiControllerIds ? { extraScsiControllerIds: view.hardware.extraScsiControllerIds } : {}),
    guest: vm.guest,
    integration: vm.integration,
    notes: vm.notes,
    snapshotId,
    checkpoints,
    exportedAt: new Date(now).toISOString(),
    disks,
    ...(view.hardware.sharedDisks?.length ? { sharedDisks: view.hardware.sharedDisks.map(({ snapshotId: _s, ...d }) => d) } : {}),
  };
  fs.mkdirSync(path.join(target, "Virtual Machines"), { recursive: true });
  fs.mkdirSync(path.join(target, "Snapshots"), { recursive: true });
  writeFileAtomic(path.join(target, "Virtual Machines", `${vm.id}.vmcx`), JSON.stringify(def, null, 1));
}

export const exportSystemDefinition: MethodHandler = (ctx, args) => {
  const vm = vmOfRef(ctx, args.ref("ComputerSystem"));
  const dir = args.string("ExportDirectory");
  if (!vm || !dir) return sync(B.InvalidParameter);
  const unseen = vmmsPathProblem(ctx.state, dir);
  if (unseen) return { kind: "job", description: "Exporting virtual machine", affected: [], fail: { code: 32768, description: unseen, atPercent: 5 } };
  const esd = args.embedded("ExportSettingData") ?? {};
  if (args.embedded("ExportSettingData") && String(esd["__CLASS"]).toLowerCase() !== "msvm_virtualsystemexportsettingdata") return sync(B.InvalidParameter);
  const num = (n: string, d: number) => (prop(esd, n) === undefined || prop(esd, n) === null ? d : Number(prop(esd, n)));
  const bool = (n: string, d: boolean) => (prop(esd, n) === undefined || prop(esd, n) === null ? d : Boolean(prop(esd, n)));
  const copySnapshots = num("CopySnapshotConfiguration", 0);
  const copyStorage = bool("CopyVmStorage", false);
  const subdir = bool("CreateVmExportSubdirectory", true);
  // Class page: "by default this is set to false, which means that differencing disks are
  // created for the storage that is not going to be copied over to the export destination".
  const differencingForIgnored = !copyStorage && !bool("DisableDifferentialOfIgnoredStorage", false);
  const backupIntent = num("BackupIntent", 0);
  if (![0, 1, 2, 3].includes(copySnapshots)) return sync(B.InvalidParameter);
  if (![0, 1].includes(backupIntent)) return sync(B.InvalidParameter);
  let snapshot = undefined;
  if (copySnapshots === 2 || copySnapshots === 3) {
    const ref = prop(esd, "SnapshotVirtualSystem");
    snapshot = snapshotOfRef(ctx, typeof ref === "string" ? ref : undefined);
    if (!snapshot || snapshot.vmId !== vm.id) return sync(B.InvalidParameter);
  } else if (vm.state !== EnabledState.Off && vm.state !== EnabledState.Saved) {
    // Plain export: the VM must be off or saved (method page).
    return sync(B.InvalidState);
  }
  const base = prop(esd, "DifferentialBackupBase");
  if (typeof base === "string" && base !== "") {
    if (copySnapshots !== 3) return sync(B.InvalidParameter);
    const b = ctx.resolve(base);
    if (!b) return sync(B.InvalidParameter);
    if (copyStorage) return sync(B.NotSupported); // differential storage export: not emulated
  }
  const excluded = prop(esd, "ExcludedVirtualHardDisks");
  const excludedIds = Array.isArray(excluded) ? excluded.map((x) => String(x).toLowerCase()) : [];
  if (excludedIds.length > 0) {
    // Not allowed with CopySnapshotConfiguration 0; every id must name a disk of the VM (class page).
    if (copySnapshots === 0) return sync(B.InvalidParameter);
    const known = vm.disks.map((d) => `microsoft:${vm.id}\\${d.deviceKey}\\l`.toLowerCase());
    if (excludedIds.some((x) => !known.includes(x))) return sync(B.InvalidParameter);
  }
  const target = subdir ? path.join(dir, vm.name) : dir;
  const defFile = path.join(target, "Virtual Machines", `${vm.id}.vmcx`);
  const vmPath = computerSystemPath(ctx.state.hostName, vm.id);
  if (fs.existsSync(defFile)) {
    return {
      kind: "job",
      description: "Exporting virtual machine",
      affected: [{ path: vmPath, effects: [EFFECT_CHANGE] }],
      fail: { code: 32768, description: `Failed to export virtual machine '${vm.name}': '${defFile}' already exists`, atPercent: 10 },
    };
  }
  const view = configView(ctx.state, vm, snapshot);
  const disks: ExportedDefinition["disks"] = [];
  for (const d of view.disks) {
    if (excludedIds.includes(`microsoft:${vm.id}\\${d.deviceKey}\\l`.toLowerCase())) continue;
    let file = d.path;
    if (differencingForIgnored) {
      const base = vm.disks.find((x) => x.deviceKey === d.deviceKey)?.baseName ?? path.parse(d.path).name;
      const name = `${base}_${newGuid()}.${d.format === "vhdx" ? "avhdx" : "avhd"}`;
      const dest = path.join(target, "Virtual Hard Disks", name);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      createChildDisk(d.path, dest, d.format);
      file = path.join("Virtual Hard Disks", name);
    } else if (copyStorage) {
      const name = `${vm.disks.find((x) => x.deviceKey === d.deviceKey)?.baseName ?? path.parse(d.path).name}.${d.format}`;
      const dest = path.join(target, "Virtual Hard Disks", name);
      copyFlattened(d.path, dest, d.format);
      file = path.join("Virtual Hard Disks", name);
    }
    const { path: _p, ...rest } = d;
    void _p;
    disks.push({ ...rest, file });
  }
  writeDefinition(target, vm, view, snapshot?.id ?? null, ctx.now, disks, referencedCheckpoints(ctx.state, vm, snapshot));
  return { kind: "job", description: "Exporting virtual machine", affected: [{ path: vmPath, effects: [EFFECT_CHANGE] }] };
};

function readDefinition(file: string): ExportedDefinition {
  const def = JSON.parse(fs.readFileSync(file, "utf8")) as ExportedDefinition;
  if (def.format !== VMCX_FORMAT || def.version !== 1) throw new HvbError("LabBadDefinition", `Cannot import '${file}': not a lab definition`, { category: "InvalidData" });
  return def;
}

export const importSystemDefinition: MethodHandler = (ctx, args) => {
  const file = args.string("SystemDefinitionFile");
  const newId = args.boolean("GenerateNewSystemIdentifier") ?? false;
  if (!file) return sync(B.InvalidParameter);
  const unseen = vmmsPathProblem(ctx.state, file) ?? vmmsPathProblem(ctx.state, args.string("SnapshotFolder"));
  if (unseen) return { kind: "job", description: "Importing virtual machine", affected: [], fail: { code: 32768, description: unseen, atPercent: 5 } };
  if (!fs.existsSync(file)) return sync(B.InvalidParameter);
  // A definition already imported (planned) is in use (32779 File in Use).
  if (ctx.state.planned.some((p) => path.resolve(p.definitionFile) === path.resolve(file))) return sync(B.FileNotFoundOrInUse);
  let def: ExportedDefinition;
  try {
    def = readDefinition(file);
  } catch {
    return sync(B.Failed);
  }
  const id = newId ? newGuid() : def.vmId;
  if (ctx.state.vms.some((v) => v.id.toLowerCase() === id.toLowerCase()) || ctx.state.planned.some((p) => p.id.toLowerCase() === id.toLowerCase())) {
    return {
      kind: "job",
      description: "Importing virtual machine",
      affected: [],
      fail: { code: 32768, description: `Failed to import: a virtual machine with identifier ${id} already exists`, atPercent: 20 },
    };
  }
  const exportRoot = path.dirname(path.dirname(path.resolve(file)));
  const planned: PlannedRecord = {
    id,
    name: def.name,
    configVersion: def.configVersion,
    hardware: {
      generation: def.generation,
      scsiControllerId: def.scsiControllerId ?? undefined,
      ...(Array.isArray(def.extraScsiControllerIds) ? { extraScsiControllerIds: def.extraScsiControllerIds.map(String) } : {}),
      ...(Array.isArray(def.sharedDisks) ? { sharedDisks: def.sharedDisks.map((d) => ({ controller: d.controller, controllerIndex: d.controllerIndex, address: d.address, path: d.path, kind: d.kind })) } : {}),
    },
    guest: def.guest as PlannedRecord["guest"],
    integration: def.integration as PlannedRecord["integration"],
    disks: def.disks.map(({ file: f, ...rest }) => ({ ...rest, path: path.isAbsolute(f) ? f : path.join(exportRoot, f) })),
    definitionFile: path.resolve(file),
    checkpoints: importedCheckpoints(ctx.state, def.checkpoints, args.string("SnapshotFolder") || undefined),
    notes: def.notes ?? [],
    createdAt: ctx.now,
  };
  ctx.state.planned.push(planned);
  return {
    kind: "job",
    description: "Importing virtual machine",
    affected: [{ path: plannedSystemPath(ctx.state.hostName, id), effects: [EFFECT_CREATE] }],
  };
};

function plannedOfRef(ctx: MethodContext, ref: string | undefined): PlannedRecord | undefined {
  if (!ref) return undefined;
  const inst = ctx.resolve(ref);
  if (!inst || inst.__CLASS !== "Msvm_PlannedComputerSystem") return undefined;
  return ctx.state.planned.find((p) => p.id.toLowerCase() === String(inst["Name"]).toLowerCase());
}

/** Why a planned VM cannot be realized, or undefined when it can. */
function validatePlanned(ctx: MethodContext, p: PlannedRecord): string | undefined {
  if (!KNOWN_CONFIG_VERSIONS.includes(p.configVersion) || !hostRunsConfigVersion(ctx.state.config.hostVersion, p.configVersion)) {
    return `configuration version ${p.configVersion} is not supported by this host`;
  }
  if (ctx.state.vms.some((v) => v.id.toLowerCase() === p.id.toLowerCase())) return `a virtual machine with identifier ${p.id} already exists`;
  for (const d of p.hardware.sharedDisks ?? []) {
    if (d.kind === "vhdset" ? !findVhdSet(ctx.state, d.path) : !fs.existsSync(d.path)) return `the shared virtual hard disk '${d.path}' was not found`;
  }
  for (const d of p.disks) {
    if (!fs.existsSync(d.path)) return `the virtual hard disk '${d.path}' was not found`;
    if (!detectFormatSafe(d.path)) return `'${d.path}' is not a virtual hard disk`;
  }
  return unresolvedCheckpoint(p);
}

export const validatePlannedSystem: MethodHandler = (ctx, args) => {
  const p = plannedOfRef(ctx, args.ref("PlannedSystem"));
  if (!p) return sync(B.InvalidParameter);
  const problem = validatePlanned(ctx, p);
  const plannedPath = plannedSystemPath(ctx.state.hostName, p.id);
  if (problem) {
    return { kind: "job", description: "Validating planned virtual machine", affected: [{ path: plannedPath, effects: [EFFECT_CHANGE] }], fail: { code: 32768, description: `Validation of '${p.name}' failed: ${problem}`, atPercent: 50 } };
  }
  return { kind: "job", description: "Validating planned virtual machine", affected: [{ path: plannedPath, effects: [EFFECT_CHANGE] }] };
};

export const realizePlannedSystem: MethodHandler = (ctx, args) => {
  const p = plannedOfRef(ctx, args.ref("PlannedSystem"));
  if (!p) return sync(B.InvalidParameter);
  const problem = validatePlanned(ctx, p);
  if (problem) {
    return { kind: "job", description: "Realizing planned virtual machine", affected: [], fail: { code: 32768, description: `Cannot realize '${p.name}': ${problem}`, atPercent: 30 } };
  }
  const vm: VmRecord = {
    id: p.id,
    name: p.name,
    state: EnabledState.Off,
    configVersion: p.configVersion,
    hardware: p.hardware,
    guest: p.guest,
    integration: p.integration,
    disks: p.disks.map((d) => {
      const format = detectFormatSafe(d.path) ?? d.format;
      return {
        deviceKey: d.deviceKey,
        controller: d.controller,
        controllerIndex: d.controllerIndex,
        address: d.address,
        format,
        path: path.resolve(d.path),
        baseName: path.parse(d.path).name,
        rct: newRct(format === "vhdx" && configVersionHasRct(p.configVersion)),
      };
    }),
    currentSnapshot: undefined,
    dataRoot: path.dirname(path.dirname(p.definitionFile)),
    notes: p.notes,
    createdAt: ctx.now,
    stateChangedAt: ctx.now,
  };
  ctx.state.vms.push(vm);
  ctx.state.planned = ctx.state.planned.filter((x) => x !== p);
  return {
    kind: "job",
    description: "Realizing planned virtual machine",
    affected: [{ path: computerSystemPath(ctx.state.hostName, vm.id), effects: [EFFECT_CREATE] }],
  };
};

export const destroySystem: MethodHandler = (ctx, args) => {
  const ref = args.ref("AffectedSystem");
  const planned = plannedOfRef(ctx, ref);
  if (planned) {
    ctx.state.planned = ctx.state.planned.filter((x) => x !== planned);
    return { kind: "job", description: "Destroying planned virtual machine", affected: [] };
  }
  const vm = vmOfRef(ctx, ref);
  if (!vm) return sync(A.InvalidParameter);
  if (vm.state !== EnabledState.Off && vm.state !== EnabledState.Saved) return sync(A.InvalidState);
  // The VM's configuration, checkpoints and reference points go; its disk files stay (as on Hyper-V).
  ctx.state.vms = ctx.state.vms.filter((v) => v !== vm);
  ctx.state.snapshots = ctx.state.snapshots.filter((s) => s.vmId !== vm.id);
  ctx.state.referencePoints = ctx.state.referencePoints.filter((r) => r.vmId !== vm.id);
  return { kind: "job", description: "Destroying virtual machine", affected: [] };
};

export const modifyResourceSettings: MethodHandler = (ctx, args) => {
  const items = args.embeddedArray("ResourceSettings");
  if (!items || items.length === 0) return sync(A.InvalidParameter);
  const resulting: string[] = [];
  // Check everything first, then apply: a call changes all or nothing.
  const changes: (() => void)[] = [];
  for (const item of items) {
    const instanceId = String(prop(item, "InstanceID") ?? "");
    const cls = String(item["__CLASS"]);
    const existing = ctx.resolve(`${cls}.InstanceID="${instanceId.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
    if (!existing) return sync(A.InvalidParameter);
    resulting.push(existing.__PATH);
    if (cls.toLowerCase() !== "msvm_storageallocationsettingdata") continue; // other RASD edits are accepted and ignored
    const hr = prop(item, "HostResource");
    const newFile = Array.isArray(hr) ? String(hr[0] ?? "") : typeof hr === "string" ? hr : undefined;
    if (newFile === undefined || newFile === (existing["HostResource"] as string[])[0]) continue;
    const m = /^Microsoft:([0-9A-Fa-f-]{36})\\(.*)\\L$/.exec(instanceId);
    if (!m) return sync(A.InvalidParameter);
    const [, configId, deviceKey] = m as unknown as [string, string, string];
    if (existing["PersistentReservationsSupported"] === true) {
      const change = repointSharedDisk(ctx, configId, deviceKey, newFile);
      if (typeof change === "number") return sync(change);
      changes.push(change);
      continue;
    }
    if (!fs.existsSync(newFile) || !detectFormatSafe(newFile)) return sync(A.InvalidParameter);
    const vm = ctx.state.vms.find((v) => v.id.toLowerCase() === configId.toLowerCase());
    const planned = ctx.state.planned.find((p) => p.id.toLowerCase() === configId.toLowerCase());
    if (vm) {
      if (vm.currentSnapshot || ctx.state.snapshots.some((s) => s.vmId === vm.id)) return sync(A.InvalidState);
      const disk = vm.disks.find((d) => d.deviceKey.toLowerCase() === deviceKey.toLowerCase());
      if (!disk) return sync(A.InvalidParameter);
      changes.push(() => {
        disk.path = path.resolve(newFile);
        disk.format = detectFormatSafe(newFile)!;
        disk.baseName = path.parse(newFile).name;
        resetDiskTracking(disk);
        disk.rct.enabled = disk.format === "vhdx" && configVersionHasRct(vm.configVersion);
      });
    } else if (planned) {
      const disk = planned.disks.find((d) => d.deviceKey.toLowerCase() === deviceKey.toLowerCase());
      if (!disk) return sync(A.InvalidParameter);
      changes.push(() => {
        disk.path = path.resolve(newFile);
        disk.format = detectFormatSafe(newFile)!;
      });
    } else {
      return sync(A.InvalidState); // checkpoint settings are read-only
    }
  }
  for (const c of changes) c();
  return sync(A.Ok, { ResultingResourceSettings: resulting, Job: null });
};

export const modifySystemSettings: MethodHandler = (ctx, args) => {
  const vssd = args.embedded("SystemSettings");
  if (!vssd) return sync(A.InvalidParameter);
  const instanceId = String(prop(vssd, "InstanceID") ?? "");
  const m = /^Microsoft:([0-9A-Fa-f-]{36})$/.exec(instanceId);
  if (!m) return sync(A.InvalidParameter);
  const id = m[1]!.toLowerCase();
  const name = prop(vssd, "ElementName");
  const notes = prop(vssd, "Notes");
  if (name !== undefined && name !== null && (typeof name !== "string" || name === "")) return sync(A.InvalidParameter);
  const vm = ctx.state.vms.find((v) => v.id.toLowerCase() === id);
  const snap = ctx.state.snapshots.find((s) => s.id.toLowerCase() === id);
  const planned = ctx.state.planned.find((p) => p.id.toLowerCase() === id);
  const target = vm ?? snap ?? planned;
  if (!target) return sync(A.InvalidParameter);
  if (typeof name === "string") target.name = name;
  if (Array.isArray(notes) && (vm || planned)) (vm ?? planned)!.notes = notes.map(String);
  return sync(A.Ok, { Job: null });
};

/**
 * A shared disk's SASD repointed (a restore attaching its restored VHD Set): only on a planned
 * VM or a VM without checkpoints, only to a VHD Set of the lab (or an existing file for a
 * shared VHDX). Returns the change, or the return value refusing it.
 */
function repointSharedDisk(ctx: MethodContext, configId: string, deviceKey: string, newFile: string): (() => void) | number {
  const vm = ctx.state.vms.find((v) => v.id.toLowerCase() === configId.toLowerCase());
  const planned = ctx.state.planned.find((p) => p.id.toLowerCase() === configId.toLowerCase());
  const owner = vm ?? planned;
  if (!owner) return A.InvalidState; // checkpoint settings are read-only
  if (vm && ctx.state.snapshots.some((s) => s.vmId === vm.id)) return A.InvalidState;
  const hw = owner.hardware;
  const slot = (hw.sharedDisks ?? []).find((d) => diskDeviceKey(d.controller, d.controllerIndex, d.address, scsiControllerGuid(hw, d.controllerIndex)).toLowerCase() === deviceKey.toLowerCase());
  if (!slot) return A.InvalidParameter;
  const isSet = /\.vhds$/i.test(newFile);
  if (isSet ? !findVhdSet(ctx.state, newFile) : !fs.existsSync(newFile) || !detectFormatSafe(newFile)) return A.InvalidParameter;
  return () => {
    owner.hardware = { ...hw, sharedDisks: (hw.sharedDisks ?? []).map((d) => (d === slot ? { ...d, path: path.resolve(newFile), kind: isSet ? "vhdset" : "vhdx" } : d)) };
  };
}
