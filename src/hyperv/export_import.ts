/**
 * Exporting a configuration and importing it back (reference §6, §13.1 step 5-6, §13.3):
 * ExportSystemDefinition with an embedded Msvm_VirtualSystemExportSettingData (storage never
 * copied: the backup copies disks itself), ImportSystemDefinition → Msvm_PlannedComputerSystem,
 * ValidatePlannedSystem, RealizePlannedSystem.
 */
import { HvbError } from "../base/mod";
import type { CimInstance } from "../cim/mod";
import { SYSTEM_TYPE, currentSettings, generationOf, readConfiguration } from "./configuration";
import { type ClientContext, affectedElements, runMethod, servicePath, subjects } from "./jobs";
import type { Checkpoint, PlannedSystem, VmInfo } from "./types";
import { describeVm } from "./vm_queries";
import { embedForHost } from "./host_classes";
import { stringOrUndefined, toEmbedded, wqlString } from "../cim/mod";

export const MANAGEMENT_SERVICE = "Msvm_VirtualSystemManagementService";
export const EXPORT_SETTING_DATA_CLASS = "Msvm_VirtualSystemExportSettingData";

/** Msvm_VirtualSystemExportSettingData.CopySnapshotConfiguration values. */
export const COPY_SNAPSHOT_CONFIGURATION = {
  exportAllSnapshots: 0,
  exportNoSnapshots: 1,
  exportOneSnapshot: 2,
  /** Windows 10 / Server 2016+: the snapshot named by SnapshotVirtualSystem, for backup, keeping the VM id. */
  exportOneSnapshotForBackup: 3,
} as const;

/** Options of {@link exportConfiguration}. */
export interface ExportOptions {
  /** Let the host create a `<VM name>` subfolder in the destination (CreateVmExportSubdirectory; default false). */
  createSubdirectory?: boolean;
}

function isCheckpoint(t: VmInfo | Checkpoint): t is Checkpoint {
  return "vmPath" in t && "systemType" in t;
}

/** Joins a folder and a name with the separator the folder already uses. */
export function joinHostPath(dir: string, name: string): string {
  const sep = dir.includes("\\") && !dir.includes("/") ? "\\" : "/";
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}

/** Msvm_VirtualSystemExportSettingData.BackupIntent values (class page, Windows 10 / Server 2016+). */
export const BACKUP_INTENT = { preserveChain: 0, merge: 1 } as const;

/**
 * The embedded export settings for a configuration-only export (pure): the VM's template with
 * CopyVmStorage and CopyVmRuntimeInformation false; DisableDifferentialOfIgnoredStorage true
 * (else the host creates differencing disks of the production disks in the export folder; the
 * property is 1709+, {@link exportConfiguration} leaves it out on older hosts); BackupIntent 1
 * (BackupIntentMerge: our points are merged into a full at restore, never used as Hyper-V
 * differential sets); for a checkpoint CopySnapshotConfiguration 3
 * (ExportOneSnapshotForBackup) with SnapshotVirtualSystem = its path, for a VM 1
 * (ExportNoSnapshots) with CaptureLiveState 0 (no saved state).
 */
export function exportSettings(template: CimInstance | undefined, checkpointPath: string | undefined, options: ExportOptions = {}): { __CLASS: string; [k: string]: unknown } {
  const base = template ? toEmbedded(template) : { __CLASS: EXPORT_SETTING_DATA_CLASS };
  const common = {
    CopyVmStorage: false,
    CopyVmRuntimeInformation: false,
    CreateVmExportSubdirectory: options.createSubdirectory ?? false,
    DifferentialBackupBase: null,
    BackupIntent: BACKUP_INTENT.merge,
    DisableDifferentialOfIgnoredStorage: true,
  };
  return checkpointPath !== undefined
    ? { ...base, ...common, CopySnapshotConfiguration: COPY_SNAPSHOT_CONFIGURATION.exportOneSnapshotForBackup, SnapshotVirtualSystem: checkpointPath }
    : { ...base, ...common, CopySnapshotConfiguration: COPY_SNAPSHOT_CONFIGURATION.exportNoSnapshots, SnapshotVirtualSystem: null, CaptureLiveState: 0 };
}

/**
 * Exports the configuration of a VM, or of one of its checkpoints, to `destinationDir` without
 * storage, waits for the job and returns the folder written (the destination, or its `<VM name>`
 * subfolder with `createSubdirectory`).
 */
export async function exportConfiguration(ctx: ClientContext, target: VmInfo | Checkpoint, destinationDir: string, options: ExportOptions = {}): Promise<string> {
  const cp = isCheckpoint(target) ? target : undefined;
  const vmPath = cp ? cp.vmPath : target.path;
  const vmName = cp ? cp.vmName : target.name;
  const templates = await ctx.session.associators(vmPath, { resultClass: EXPORT_SETTING_DATA_CLASS, assocClass: "Msvm_SystemExportSettingData" });
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  await runMethod(
    ctx,
    svc,
    "ExportSystemDefinition",
    {
      ComputerSystem: vmPath,
      ExportDirectory: destinationDir,
      ExportSettingData: await embedForHost(ctx, exportSettings(templates[0], cp?.path, options), {
        // 1709+; without it (Server 2016) the host leaves differencing disks in the export
        // folder, which the caller discards (it keeps only the configuration files).
        optional: ["DisableDifferentialOfIgnoredStorage"],
        purpose: "exporting a configuration",
      }),
    },
    cp ? subjects.checkpoint(cp.name, vmName) : subjects.vm(vmName),
  );
  return options.createSubdirectory ? joinHostPath(destinationDir, vmName) : destinationDir;
}

/**
 * Where an export puts the VM's definition file: `<folder>/Virtual Machines/<VM id>.vmcx`
 * (Hyper-V's export layout; the lab writes its own JSON document at the same place).
 *
 * @example
 * exportedDefinitionFile("D:\\B\\web01", "6A1C...") // "D:\\B\\web01\\Virtual Machines\\6A1C....vmcx"
 */
export function exportedDefinitionFile(folder: string, vmId: string): string {
  return joinHostPath(joinHostPath(folder, "Virtual Machines"), `${vmId}.vmcx`);
}

/** Options of {@link importSystemDefinition}. */
export interface ImportOptions {
  /** Folder searched for the checkpoint configurations the definition refers to ("" when omitted). */
  snapshotFolder?: string;
  /** True: the VM gets a new GUID; false: it keeps the exported one (which must be free on the host). */
  generateNewId: boolean;
}

/** Imports an exported definition file as a planned VM. */
export async function importSystemDefinition(ctx: ClientContext, configFile: string, options: ImportOptions): Promise<PlannedSystem> {
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  const outcome = await runMethod(
    ctx,
    svc,
    "ImportSystemDefinition",
    { SystemDefinitionFile: configFile, SnapshotFolder: options.snapshotFolder ?? "", GenerateNewSystemIdentifier: options.generateNewId },
    subjects.file("definition", configFile),
  );
  let pcs: CimInstance | undefined = (await affectedElements(ctx, outcome, "Msvm_PlannedComputerSystem"))[0];
  const imported = stringOrUndefined(outcome.out["ImportedSystem"]);
  if (!pcs && imported) pcs = await ctx.session.getInstance(imported);
  if (!pcs) {
    throw new HvbError("PlannedSystemNotFound", `ImportSystemDefinition of '${configFile}' succeeded but the host named no planned VM`, {
      category: "InvalidData",
      target: configFile,
    });
  }
  return describePlanned(ctx, pcs);
}

/** Builds a {@link PlannedSystem} from its Msvm_PlannedComputerSystem instance. */
export async function describePlanned(ctx: ClientContext, pcs: CimInstance): Promise<PlannedSystem> {
  const id = String(pcs["Name"]);
  const vssd = await currentSettings(ctx, pcs.__PATH, id, SYSTEM_TYPE.planned);
  const config = await readConfiguration(ctx, vssd.__PATH);
  return {
    id,
    name: String(pcs["ElementName"] ?? ""),
    path: pcs.__PATH,
    settingsPath: vssd.__PATH,
    configVersion: String(vssd["Version"] ?? ""),
    generation: generationOf(vssd),
    disks: config.disks,
    ...(config.sharedDisks.length > 0 ? { sharedDisks: config.sharedDisks } : {}),
  };
}

/** Reads a planned VM afresh. */
export async function getPlanned(ctx: ClientContext, planned: Pick<PlannedSystem, "path">): Promise<PlannedSystem> {
  return describePlanned(ctx, await ctx.session.getInstance(planned.path));
}

/** Checks a planned VM (configuration, devices, storage files); throws when the host finds a problem. */
export async function validatePlannedSystem(ctx: ClientContext, planned: Pick<PlannedSystem, "path" | "name">): Promise<void> {
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  await runMethod(ctx, svc, "ValidatePlannedSystem", { PlannedSystem: planned.path }, subjects.plannedVm(planned.name));
}

/** Turns a planned VM into a real one and returns it. */
export async function realizePlannedSystem(ctx: ClientContext, planned: Pick<PlannedSystem, "path" | "name" | "id">): Promise<VmInfo> {
  const svc = await servicePath(ctx, MANAGEMENT_SERVICE);
  const outcome = await runMethod(ctx, svc, "RealizePlannedSystem", { PlannedSystem: planned.path }, subjects.plannedVm(planned.name));
  let cs: CimInstance | undefined = (await affectedElements(ctx, outcome, "Msvm_ComputerSystem"))[0];
  const resulting = stringOrUndefined(outcome.out["ResultingSystem"]);
  if (!cs && resulting) cs = await ctx.session.getInstance(resulting);
  // The realized VM keeps the planned VM's GUID: look it up when the host named nothing.
  if (!cs) cs = (await ctx.session.query(`SELECT * FROM Msvm_ComputerSystem WHERE Name=${wqlString(planned.id)}`))[0];
  if (!cs) {
    throw new HvbError("VmNotFound", `RealizePlannedSystem of '${planned.name}' succeeded but no VM with id '${planned.id}' exists`, {
      category: "InvalidData",
      target: planned.id,
    });
  }
  return describeVm(ctx, cs);
}
