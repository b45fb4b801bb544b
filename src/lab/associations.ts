/**
 * Association classes (reference §9) as pairs of object paths, computed from the state.
 * Role names follow the CIM base association each class derives from.
 */
import type { CimInstance } from "../cim/mod";
import { parseObjectPath } from "../cim/mod";
import { type InstanceIndex, pathKey } from "./catalog";
import { exportSettingDataPath } from "./classes/export_setting_data";
import { referencePointPath } from "./classes/reference_point";
import { groupPath, referencePointCollectionPath, snapshotCollectionPath } from "./classes/collections";
import { vssdPath } from "./classes/settings";
import { serviceSettingsPath } from "./classes/services";
import { type ConfigView, allConfigurations } from "./host/configurations";
import { jobPath, jobExpired } from "./host/jobs";
import type { JobRecord, LabState } from "./host/model";
import { computerSystemPath, objPath, plannedSystemPath, SERVICES, servicePath, type ServiceClass, vssComponentPath, kvpComponentPath } from "./host/paths";
import { resourceInstances } from "./classes/settings";

export interface AssociationDef {
  name: string;
  supers: string[];
  roles: [string, string];
  /** Pairs of role paths, optionally with extra properties of the association instance. */
  pairs(state: LabState, now: number, index: InstanceIndex): AssociationPair[];
  /**
   * The pairs one end of which may be `path`, where that is cheaper than all of them
   * (Msvm_AffectedJobElement about a job reads that job's file only); absent: {@link pairs}.
   */
  pairsAbout?(state: LabState, now: number, index: InstanceIndex, path: string): AssociationPair[];
}

/** Two role paths, optionally with extra properties of the association instance. */
export type AssociationPair = [string, string] | [string, string, Record<string, unknown>];

/** The pairs of `def` that may have `path` at one end (a superset: the caller still compares). */
export function pairsAbout(def: AssociationDef, state: LabState, now: number, index: InstanceIndex, path: string): AssociationPair[] {
  return def.pairsAbout ? def.pairsAbout(state, now, index, path) : def.pairs(state, now, index);
}

/** Msvm_VirtualSystemSettingDataComponent's pairs of one configuration: its VSSD and each of its resources. */
function componentPairs(s: LabState, c: ConfigView): AssociationPair[] {
  return resourceInstances(s, c).map((r) => [vssdPath(s.hostName, c.configId), r.__PATH] as [string, string]);
}

/** Msvm_AffectedJobElement's pairs of these jobs (those not yet purged). */
function affectedPairs(s: LabState, now: number, jobs: JobRecord[]): AssociationPair[] {
  return jobs.filter((j) => !jobExpired(s, j, now)).flatMap((j) => j.affected.map((a) => [jobPath(s.hostName, j.id), a.path, { ElementEffects: a.effects }] as AssociationPair));
}

function systemPathOf(state: LabState, systemId: string): string {
  return state.planned.some((p) => p.id === systemId) ? plannedSystemPath(state.hostName, systemId) : computerSystemPath(state.hostName, systemId);
}

export const ASSOCIATIONS: AssociationDef[] = [
  {
    name: "Msvm_SnapshotOfVirtualSystem",
    supers: ["CIM_SnapshotOfVirtualSystem", "CIM_ElementSettingData", "CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) => [
      ...s.snapshots.map((x) => [computerSystemPath(s.hostName, x.vmId), vssdPath(s.hostName, x.id)] as [string, string]),
      // The checkpoints an imported configuration still references belong to the planned VM.
      ...s.planned.flatMap((p) => (p.checkpoints ?? []).map((c) => [plannedSystemPath(s.hostName, p.id), vssdPath(s.hostName, c.id)] as [string, string])),
    ],
  },
  {
    name: "Msvm_MostCurrentSnapshotInBranch",
    supers: ["CIM_MostCurrentSnapshotInBranch", "CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) =>
      s.vms.filter((v) => v.currentSnapshot).map((v) => [computerSystemPath(s.hostName, v.id), vssdPath(s.hostName, v.currentSnapshot!)]),
  },
  {
    // The v2 page: a VSSD and the snapshot it is based on (a checkpoint's parent checkpoint,
    // or for the realized configuration the checkpoint the VM runs on).
    name: "Msvm_ParentChildSettingData",
    supers: ["CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) => [
      ...s.snapshots.filter((x) => x.parentId).map((x) => [vssdPath(s.hostName, x.parentId!), vssdPath(s.hostName, x.id)] as [string, string]),
      ...s.vms.filter((v) => v.currentSnapshot).map((v) => [vssdPath(s.hostName, v.currentSnapshot!), vssdPath(s.hostName, v.id)] as [string, string]),
    ],
  },
  {
    name: "Msvm_SettingsDefineState",
    supers: ["CIM_SettingsDefineState"],
    roles: ["ManagedElement", "SettingData"],
    pairs: (s) =>
      allConfigurations(s)
        .filter((c) => c.kind !== "snapshot")
        .map((c) => [systemPathOf(s, c.systemId), vssdPath(s.hostName, c.configId)]),
  },
  {
    name: "Msvm_VirtualSystemSettingDataComponent",
    supers: ["CIM_VirtualSystemSettingDataComponent", "CIM_Component"],
    roles: ["GroupComponent", "PartComponent"],
    pairs: (s) => allConfigurations(s).flatMap((c) => componentPairs(s, c)),
    // About a configuration (what reading one asks): its own resources only. Listing every
    // configuration's resources (each VM's, each checkpoint's) was 10-12 ms a call with 50 VMs
    // and their checkpoints, once per checkpoint a backup takes.
    pairsAbout: (s, _now, _index, path) => {
      const key = pathKey(path);
      const configs = allConfigurations(s);
      const own = configs.find((c) => pathKey(vssdPath(s.hostName, c.configId)) === key);
      return (own ? [own] : configs).flatMap((c) => componentPairs(s, c));
    },
  },
  {
    name: "Msvm_ReferencePointOfVirtualSystem",
    supers: ["CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) => s.referencePoints.map((r) => [computerSystemPath(s.hostName, r.vmId), referencePointPath(s.hostName, r.id)]),
  },
  {
    // The management service and its settings (the host's default folders).
    name: "Msvm_ElementSettingData",
    supers: ["CIM_ElementSettingData"],
    roles: ["ManagedElement", "SettingData"],
    pairs: (s) => [[servicePath(s.hostName, "Msvm_VirtualSystemManagementService", SERVICES.Msvm_VirtualSystemManagementService.name), serviceSettingsPath(s.hostName)]],
  },
  {
    name: "Msvm_SystemExportSettingData",
    supers: ["CIM_ElementSettingData"],
    roles: ["ManagedElement", "SettingData"],
    pairs: (s) => s.vms.map((v) => [computerSystemPath(s.hostName, v.id), exportSettingDataPath(s.hostName, v.id)]),
  },
  {
    name: "Msvm_AffectedJobElement",
    supers: ["CIM_AffectedJobElement"],
    roles: ["AffectingElement", "AffectedElement"],
    pairs: (s, now) => affectedPairs(s, now, s.jobs.list()),
    // About a job (what a client asks once the job ended): its own file; about anything else, every job.
    pairsAbout: (s, now, _index, path) => {
      const p = parseObjectPath(path);
      if (p.className.toLowerCase() !== "msvm_concretejob") return affectedPairs(s, now, s.jobs.list());
      const key = Object.keys(p.keys).find((k) => k.toLowerCase() === "instanceid");
      const job = key === undefined ? undefined : s.jobs.get(String(p.keys[key]));
      return affectedPairs(s, now, job ? [job] : []);
    },
  },
  {
    name: "Msvm_SystemDevice",
    supers: ["CIM_SystemDevice", "CIM_SystemComponent", "CIM_Component"],
    roles: ["GroupComponent", "PartComponent"],
    pairs: (s) => s.vms.flatMap((v) => [[computerSystemPath(s.hostName, v.id), vssComponentPath(s.hostName, v.id)], [computerSystemPath(s.hostName, v.id), kvpComponentPath(s.hostName, v.id)]] as Array<[string, string]>),
  },
  {
    name: "Msvm_CollectedVirtualSystems",
    supers: ["CIM_CollectedMSEs", "CIM_MemberOfCollection"],
    roles: ["Collection", "Member"],
    pairs: (s) => (s.groups ?? []).flatMap((g) => g.vmIds.filter((id) => s.vms.some((v) => v.id === id)).map((id) => [groupPath(s.hostName, g.id), computerSystemPath(s.hostName, id)] as [string, string])),
  },
  {
    name: "Msvm_CollectedSnapshots",
    supers: ["CIM_CollectedMSEs", "CIM_MemberOfCollection"],
    roles: ["Collection", "Member"],
    pairs: (s) =>
      (s.snapshotCollections ?? []).flatMap((c) =>
        c.snapshotIds.filter((id) => s.snapshots.some((x) => x.id === id)).map((id) => [snapshotCollectionPath(s.hostName, c.id), vssdPath(s.hostName, id)] as [string, string]),
      ),
  },
  {
    name: "Msvm_CollectedReferencePoints",
    supers: ["CIM_CollectedMSEs", "CIM_MemberOfCollection"],
    roles: ["Collection", "Member"],
    pairs: (s) =>
      (s.referencePointCollections ?? []).flatMap((c) =>
        c.referencePointIds
          .filter((id) => s.referencePoints.some((r) => r.id === id))
          .map((id) => [referencePointCollectionPath(s.hostName, c.id), referencePointPath(s.hostName, id)] as [string, string]),
      ),
  },
  {
    name: "Msvm_SnapshotOfVirtualSystemCollection",
    supers: ["CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) =>
      (s.snapshotCollections ?? []).filter((c) => c.snapshotIds.some((id) => s.snapshots.some((x) => x.id === id))).map((c) => [groupPath(s.hostName, c.groupId), snapshotCollectionPath(s.hostName, c.id)]),
  },
  {
    name: "Msvm_ReferencePointOfVirtualSystemCollection",
    supers: ["CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) =>
      (s.referencePointCollections ?? [])
        .filter((c) => c.referencePointIds.some((id) => s.referencePoints.some((r) => r.id === id)))
        .map((c) => [groupPath(s.hostName, c.groupId), referencePointCollectionPath(s.hostName, c.id)]),
  },
  {
    name: "Msvm_HostedService",
    supers: ["CIM_HostedService", "CIM_HostedDependency", "CIM_Dependency"],
    roles: ["Antecedent", "Dependent"],
    pairs: (s) =>
      (Object.keys(SERVICES) as ServiceClass[]).map((c) => [computerSystemPath(s.hostName, s.hostName), servicePath(s.hostName, c, SERVICES[c].name)]),
  },
];

/** Association instances (for `SELECT * FROM <association>`): both role paths as properties. */
export function associationInstances(state: LabState, now: number, index: InstanceIndex, def: AssociationDef): CimInstance[] {
  return def.pairs(state, now, index).map(([a, b, extra]) => ({
    __CLASS: def.name,
    __PATH: objPath(state.hostName, def.name, { [def.roles[0]]: a, [def.roles[1]]: b }),
    [def.roles[0]]: a,
    [def.roles[1]]: b,
    ...(extra ?? {}),
  }));
}
