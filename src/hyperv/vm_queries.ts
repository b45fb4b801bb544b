/**
 * Finding VMs and describing them: Msvm_ComputerSystem (state, GUID, name), its realized
 * settings (version, generation, disks, controllers), its checkpoints
 * (Msvm_SnapshotOfVirtualSystem), its backup integration service (Msvm_VssComponent) and the
 * guest OS it reports (Msvm_KvpExchangeComponent, guest_os.ts).
 */
import { HvbError } from "../base/mod";
import type { CimInstance } from "../cim/mod";
import { SYSTEM_TYPE, VSSD_CLASS, currentSettings, generationOf, readConfiguration } from "./configuration";
import { guestOsOf } from "./guest_os";
import type { ClientContext } from "./jobs";
import type { BackupIntegration, VmInfo, VmState } from "./types";
import { isGuid, normalizeGuid, numberArray, numberOrUndefined, stringOrUndefined, wqlString } from "../cim/mod";

/** Msvm_ComputerSystem.EnabledState → the states a backup distinguishes (class doc table). */
export function vmStateOf(enabledState: number): VmState {
  switch (enabledState) {
    case 2:
      return "Running";
    case 3:
      return "Off";
    case 6:
      return "Saved";
    case 9:
    case 32768: // legacy "Paused" (HealthState doc)
      return "Paused";
    default:
      return "Other";
  }
}

/** True for a Msvm_ComputerSystem that is a VM (not the host): its Name is a GUID. */
export function isVmInstance(cs: CimInstance): boolean {
  return isGuid(String(cs["Name"] ?? "")) && cs["Caption"] !== "Hosting Computer System";
}

/** Every VM on the host, described. */
export async function listVms(ctx: ClientContext): Promise<VmInfo[]> {
  const systems = (await ctx.session.query("SELECT * FROM Msvm_ComputerSystem")).filter(isVmInstance);
  const out: VmInfo[] = [];
  for (const cs of systems) out.push(await describeVm(ctx, cs));
  return out;
}

/**
 * The VM named `nameOrId` (ElementName) or whose GUID it is. Throws `VmNotFound` when there is
 * none and `VmAmbiguous` when several VMs share the name.
 */
export async function findVm(ctx: ClientContext, nameOrId: string): Promise<VmInfo> {
  const wanted = nameOrId.trim();
  if (isGuid(wanted)) {
    const byId = (await ctx.session.query(`SELECT * FROM Msvm_ComputerSystem WHERE Name=${wqlString(normalizeGuid(wanted))}`)).filter(isVmInstance);
    if (byId[0]) return describeVm(ctx, byId[0]);
  }
  const byName = (await ctx.session.query(`SELECT * FROM Msvm_ComputerSystem WHERE ElementName=${wqlString(wanted)}`)).filter(isVmInstance);
  if (byName.length === 0) {
    throw new HvbError("VmNotFound", `Cannot find a VM named or with id '${wanted}' on the host`, { category: "ObjectNotFound", target: wanted });
  }
  if (byName.length > 1) {
    const ids = byName.map((v) => String(v["Name"])).join(", ");
    throw new HvbError("VmAmbiguous", `Cannot choose a VM: ${byName.length} VMs are named '${wanted}' (ids ${ids}); give the VM id instead`, {
      category: "InvalidArgument",
      target: wanted,
    });
  }
  return describeVm(ctx, byName[0]!);
}

/** Reads a VM afresh by its object path. */
export async function getVm(ctx: ClientContext, vmPath: string): Promise<VmInfo> {
  return describeVm(ctx, await ctx.session.getInstance(vmPath));
}

/** Builds a {@link VmInfo} from its Msvm_ComputerSystem instance. */
export async function describeVm(ctx: ClientContext, cs: CimInstance): Promise<VmInfo> {
  const id = String(cs["Name"]);
  const enabledState = numberOrUndefined(cs["EnabledState"]) ?? 0;
  const vssd = await currentSettings(ctx, cs.__PATH, id, SYSTEM_TYPE.realized);
  const config = await readConfiguration(ctx, vssd.__PATH);
  const checkpoints = await vmCheckpointSettings(ctx, cs.__PATH);
  return {
    id,
    name: String(cs["ElementName"] ?? ""),
    path: cs.__PATH,
    state: vmStateOf(enabledState),
    enabledState,
    configVersion: String(vssd["Version"] ?? ""),
    generation: generationOf(vssd),
    settingsPath: vssd.__PATH,
    disks: config.disks,
    ...(config.sharedDisks.length > 0 ? { sharedDisks: config.sharedDisks } : {}),
    hasScsiController: config.hasScsiController,
    passThroughDisks: config.passThroughDisks,
    guestOs: enabledState === 2 || enabledState === 9 ? await guestOsOf(ctx, id) : undefined,
    backupIntegration: await backupIntegrationOf(ctx, id, enabledState === 2 || enabledState === 9),
    userCheckpointCount: checkpoints.filter((c) => c["VirtualSystemType"] === SYSTEM_TYPE.standardCheckpoint).length,
    recoveryCheckpointCount: checkpoints.filter((c) => c["VirtualSystemType"] === SYSTEM_TYPE.recoveryCheckpoint).length,
  };
}

/** Every checkpoint VSSD of the VM (Msvm_SnapshotOfVirtualSystem). */
export async function vmCheckpointSettings(ctx: ClientContext, vmPath: string): Promise<CimInstance[]> {
  return ctx.session.associators(vmPath, { resultClass: VSSD_CLASS, assocClass: "Msvm_SnapshotOfVirtualSystem" });
}

/**
 * State of the backup integration service from Msvm_VssComponent (SystemName = VM GUID,
 * reference §11): none or disabled → missing; OperationalStatus [2] → ok; [12] No Contact →
 * missing while the VM runs (nothing answers in the guest), unknown while it does not (no guest
 * to answer); anything else → degraded; query failure → unknown.
 */
export async function backupIntegrationOf(ctx: ClientContext, vmId: string, guestRunning = true): Promise<BackupIntegration> {
  let found: CimInstance[];
  try {
    found = await ctx.session.query(`SELECT * FROM Msvm_VssComponent WHERE SystemName=${wqlString(vmId)}`);
  } catch {
    return "unknown";
  }
  return backupIntegrationFrom(found[0], guestRunning);
}

/** See {@link backupIntegrationOf}; pure. */
export function backupIntegrationFrom(vss: CimInstance | undefined, guestRunning = true): BackupIntegration {
  if (!vss) return "missing";
  const enabled = numberOrUndefined(vss["EnabledState"]);
  if (enabled !== undefined && enabled !== 2) return "missing";
  let status: number[];
  try {
    status = numberArray(vss["OperationalStatus"], "OperationalStatus");
  } catch {
    return "unknown";
  }
  // 2 OK; 3 is also healthy here: the component runs on a negotiated, compatible protocol
  // version (reference review of the host path). 12 No Contact and 13 Lost Communication: the
  // guest side does not answer, so no application-consistent checkpoint can be had.
  if (status[0] === 2 || status[0] === 3) return "ok";
  if (status[0] === 12 || status[0] === 13) return guestRunning ? "missing" : "unknown";
  if (status.length === 0 && stringOrUndefined(vss["Status"]) === "OK") return "ok";
  return status.length === 0 ? "unknown" : "degraded";
}
