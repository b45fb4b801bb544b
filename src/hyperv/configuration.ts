/**
 * Reading one configuration (a Msvm_VirtualSystemSettingData of a VM, checkpoint or planned VM):
 * its disks and controllers through Msvm_VirtualSystemSettingDataComponent (reference §7, §9).
 *
 * A disk is a Msvm_StorageAllocationSettingData of subtype `Microsoft:Hyper-V:Virtual Hard Disk`
 * whose `Parent` is a synthetic disk drive RASD, whose `Parent` is a controller RASD
 * (ResourceType 5 IDE, 6 synthetic SCSI). Disks are numbered IDE first, then SCSI, then by
 * controller number and address, so a VM and its checkpoints number their disks alike.
 *
 * Nothing here depends on the order the host lists instances in: WMI documents none, and real
 * hosts vary it. A disk's identity is its location, read from its InstanceID; SCSI controllers
 * (which WMI does not number) are ranked by their instance GUID.
 */
import type { CimInstance } from "../cim/mod";
import type { ClientContext } from "./jobs";
import { sameObjectPath } from "../cim/mod";
import type { ControllerKind, PassThroughDisk, SharedDisk, VmDisk } from "./types";
import { numberOrUndefined, stringArray, stringOrUndefined, unexpected, wqlString } from "../cim/mod";

export const VSSD_CLASS = "Msvm_VirtualSystemSettingData";

/** Msvm_VirtualSystemSettingData.VirtualSystemType values (reference §2). */
export const SYSTEM_TYPE = {
  realized: "Microsoft:Hyper-V:System:Realized",
  planned: "Microsoft:Hyper-V:System:Planned",
  standardCheckpoint: "Microsoft:Hyper-V:Snapshot:Realized",
  recoveryCheckpoint: "Microsoft:Hyper-V:Snapshot:Recovery",
  plannedCheckpoint: "Microsoft:Hyper-V:Snapshot:Planned",
} as const;

/** ResourceType values of controllers (DMTF: 5 IDE controller, 6 parallel SCSI HBA). */
const RESOURCE_TYPE_IDE = 5;
const RESOURCE_TYPE_SCSI = 6;
const VHD_SUBTYPE = "Microsoft:Hyper-V:Virtual Hard Disk";
const SCSI_SUBTYPE = "Microsoft:Hyper-V:Synthetic SCSI Controller";
/** The drive RASD of a pass-through disk: its HostResource is the host's Msvm_DiskDrive, not a file. */
export const PHYSICAL_DISK_SUBTYPE = "Microsoft:Hyper-V:Physical Disk Drive";

/** What a configuration holds that the backup needs. */
export interface ConfigurationDetails {
  disks: VmDisk[];
  /** Shared disks, never among `disks`: a .vhds file, or a disk the SASD says is shared. */
  sharedDisks: SharedDisk[];
  hasScsiController: boolean;
  /** Pass-through disks: no checkpoint holds them (IgnoreNonSnapshottableDisks leaves them out). */
  passThroughDisks: PassThroughDisk[];
}

function samePath(a: unknown, b: string): boolean {
  if (typeof a !== "string" || a === "") return false;
  try {
    return sameObjectPath(a, b);
  } catch {
    return a.toLowerCase() === b.toLowerCase();
  }
}

/**
 * The location part of a resource InstanceID, lower case: `Microsoft:<configuration id>\
 * <controller>\<n>\<lun>\L` (or `\D` for the drive) gives `<controller>\<n>\<lun>`. The
 * first part names the configuration (VM, checkpoint, planned VM), the rest is where the
 * device sits, the same in every configuration of the VM (ExcludedVirtualHardDisks' page:
 * the instance ID "represents the location they are attached to"). Undefined for other shapes.
 */
export function locationOfInstanceId(instanceId: string): string | undefined {
  const parts = instanceId.split("\\").filter((p) => p !== "");
  if (parts.length < 3 || !/^microsoft:/i.test(parts[0]!)) return undefined;
  const tail = /^[LD]$/i.test(parts[parts.length - 1]!) ? parts.slice(1, -1) : parts.slice(1);
  return tail.length >= 2 ? tail.join("\\").toLowerCase() : undefined;
}

/** What tells a controller apart from its siblings: its InstanceID without the configuration part. */
function controllerKey(controller: CimInstance): string {
  const id = String(controller["InstanceID"] ?? "");
  const parts = id.split("\\");
  return (parts.length > 1 && /^microsoft:/i.test(parts[0]!) ? parts.slice(1).join("\\") : id).toLowerCase();
}

/** The disk format a file name implies; undefined for other files (ISO images...). */
export function formatOfFile(path: string): "vhdx" | "vhd" | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith(".vhdx") || lower.endsWith(".avhdx")) return "vhdx";
  if (lower.endsWith(".vhd") || lower.endsWith(".avhd")) return "vhd";
  return undefined;
}

/**
 * Whether a disk attachment is shared: a `.vhds` file is a VHD Set whatever the SASD says (its
 * format is never read by the product); a `.vhdx` whose SASD has PersistentReservationsSupported
 * is a shared VHDX (the flag Hyper-V sets on a drive with "Enable virtual hard disk sharing").
 */
export function sharedKindOf(hostResource: string, sasd: CimInstance): SharedDisk["kind"] | undefined {
  if (/\.vhds$/i.test(hostResource)) return "vhdset";
  const flag = sasd["PersistentReservationsSupported"];
  return flag === true || String(flag).toLowerCase() === "true" ? "shared-vhdx" : undefined;
}

/** Reads the disks and controllers of the configuration at `vssdPath`. */
export async function readConfiguration(ctx: ClientContext, vssdPath: string): Promise<ConfigurationDetails> {
  const parts = await ctx.session.associators(vssdPath, { assocClass: "Msvm_VirtualSystemSettingDataComponent" });
  return configurationFromParts(parts);
}

/** Builds the disk list from the component instances of one configuration (pure). */
export function configurationFromParts(parts: readonly CimInstance[]): ConfigurationDetails {
  const rasds = parts.filter((p) => p.__CLASS !== "Msvm_StorageAllocationSettingData");
  const controllers = rasds.filter((r) => {
    const t = numberOrUndefined(r["ResourceType"]);
    return t === RESOURCE_TYPE_IDE || t === RESOURCE_TYPE_SCSI;
  });
  // SCSI controllers have no number in WMI (Address is empty) and come in no documented
  // order: rank them by their InstanceID (the controller's own GUID), the same in every
  // configuration of the VM.
  const scsiControllers = controllers
    .filter((c) => numberOrUndefined(c["ResourceType"]) === RESOURCE_TYPE_SCSI)
    .sort((a, b) => controllerKey(a).localeCompare(controllerKey(b)));
  const hasScsiController = scsiControllers.some((c) => (stringOrUndefined(c["ResourceSubType"]) ?? SCSI_SUBTYPE) === SCSI_SUBTYPE);

  const unsorted: Omit<VmDisk, "index">[] = [];
  const sharedDisks: SharedDisk[] = [];
  for (const sasd of parts) {
    if (sasd.__CLASS !== "Msvm_StorageAllocationSettingData") continue;
    const hostResource = stringArray(sasd["HostResource"])[0];
    const subType = stringOrUndefined(sasd["ResourceSubType"]);
    const format = hostResource === undefined ? undefined : formatOfFile(hostResource);
    if (subType !== VHD_SUBTYPE && !(subType === undefined && format !== undefined)) continue;
    if (hostResource === undefined) continue; // an empty drive: nothing to back up
    const drive = rasds.find((r) => samePath(sasd["Parent"], r.__PATH));
    const controller = drive ? controllers.find((c) => samePath(drive["Parent"], c.__PATH)) : undefined;
    const kind: ControllerKind = controller && numberOrUndefined(controller["ResourceType"]) === RESOURCE_TYPE_IDE ? "IDE" : "SCSI";
    let controllerNumber = 0;
    if (controller && kind === "IDE") controllerNumber = numberOrUndefined(controller["Address"]) ?? 0;
    if (controller && kind === "SCSI") controllerNumber = Math.max(0, scsiControllers.indexOf(controller));
    const address = numberOrUndefined(drive?.["AddressOnParent"]) ?? numberOrUndefined(sasd["AddressOnParent"]) ?? 0;
    const instanceId = String(sasd["InstanceID"] ?? "");
    // The SASD's InstanceID names the location; failing that, the drive's; failing that (not
    // the shape Hyper-V uses), the controller's identity and the address, still no position.
    const location =
      locationOfInstanceId(instanceId) ??
      locationOfInstanceId(String(drive?.["InstanceID"] ?? "")) ??
      `${kind.toLowerCase()}:${controller ? controllerKey(controller) : "?"}\\${address}`;
    const shared = sharedKindOf(hostResource, sasd);
    if (shared) {
      const snapshotId = stringOrUndefined(sasd["SnapshotId"]);
      sharedDisks.push({ location, controller: kind, controllerNumber, address, sasdPath: sasd.__PATH, instanceId, path: hostResource, kind: shared, snapshotId: snapshotId ? snapshotId : undefined });
      continue;
    }
    unsorted.push({
      location,
      controller: kind,
      controllerNumber,
      address,
      sasdPath: sasd.__PATH,
      instanceId,
      hostResource,
      format: format ?? "vhdx",
    });
  }
  unsorted.sort(
    (a, b) =>
      (a.controller === b.controller ? 0 : a.controller === "IDE" ? -1 : 1) ||
      a.controllerNumber - b.controllerNumber ||
      a.address - b.address ||
      a.location.localeCompare(b.location),
  );
  // Pass-through disks: the drive RASD names the host's physical disk; no checkpoint, export or
  // RCT covers them, so the backup names them (warning or refusal, by policy).
  const passThroughDisks = rasds
    .filter((r) => stringOrUndefined(r["ResourceSubType"]) === PHYSICAL_DISK_SUBTYPE)
    .map((r) => {
      const instanceId = String(r["InstanceID"] ?? "");
      return { location: locationOfInstanceId(instanceId) ?? instanceId.toLowerCase(), instanceId, hostResource: stringArray(r["HostResource"])[0] ?? "" };
    })
    .sort((a, b) => a.location.localeCompare(b.location));
  return { disks: unsorted.map((d, index) => ({ index, ...d })), sharedDisks, hasScsiController, passThroughDisks };
}

/**
 * The settings (VSSD) that define the current state of a computer system or planned system:
 * through Msvm_SettingsDefineState, else by query on VirtualSystemIdentifier and type.
 */
export async function currentSettings(ctx: ClientContext, systemPath: string, systemId: string, systemType: string): Promise<CimInstance> {
  const viaAssoc = await ctx.session.associators(systemPath, { resultClass: VSSD_CLASS, assocClass: "Msvm_SettingsDefineState" });
  const match = viaAssoc.find((s) => String(s["VirtualSystemType"]) === systemType) ?? (viaAssoc.length === 1 ? viaAssoc[0] : undefined);
  if (match) return match;
  const viaQuery = await ctx.session.query(
    `SELECT * FROM ${VSSD_CLASS} WHERE VirtualSystemIdentifier=${wqlString(systemId)} AND VirtualSystemType=${wqlString(systemType)}`,
  );
  if (viaQuery[0]) return viaQuery[0];
  throw unexpected(`Cannot find the settings (${systemType}) of '${systemPath}'`, systemPath);
}

/** 1 or 2 from VirtualSystemSubType (`Microsoft:Hyper-V:SubType:2` = generation 2). */
export function generationOf(vssd: CimInstance): 1 | 2 {
  return String(vssd["VirtualSystemSubType"] ?? "").endsWith(":2") ? 2 : 1;
}
