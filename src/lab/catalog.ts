/**
 * Every class the lab serves, with its superclasses (so a query for CIM_ComputerSystem finds
 * Msvm_ComputerSystem and Msvm_PlannedComputerSystem, as WMI does) and how its instances are
 * built from the state. Association classes are in associations.ts.
 */
import type { CimInstance } from "../cim/mod";
import { parseObjectPath, buildObjectPath } from "../cim/mod";
import { type ConfigView, allConfigurations } from "./host/configurations";
import { hostInstance, plannedInstance, vmInstance } from "./classes/computer_system";
import { exportSettingDataInstance } from "./classes/export_setting_data";
import { groupInstance, referencePointCollectionInstance, snapshotCollectionInstance } from "./classes/collections";
import { collectionReferencePoints, collectionSnapshots } from "./host/groups";
import { referencePointInstance } from "./classes/reference_point";
import { serviceInstance, serviceSettingsInstance } from "./classes/services";
import { resourceInstances, vssdInstance } from "./classes/settings";
import { vssComponentInstance } from "./classes/vss_component";
import { kvpComponentInstance } from "./classes/kvp_component";
import { jobExpired, jobInstance } from "./host/jobs";
import type { LabState } from "./host/model";
import type { ServiceClass } from "./host/paths";
import { NAMESPACE } from "./host/paths";
import { CLUSTER_NAMESPACE, clusterInstance, clusteredVms, nodeInstance, resourceGroupInstance, vmResourceInstance } from "./classes/cluster";
import { CIMV2_NAMESPACE, volumeInstance } from "./classes/volume";
import { operatingSystemInstance } from "./classes/operating_system";
import { shadowCopyInstance } from "./classes/shadow_copy";
import { computerSystemInstance, mappedDiskInstances } from "./classes/logical_disk";
import { asOnHost } from "./classes/schemas";

export interface ClassDef {
  name: string;
  /** Superclasses, nearest first. */
  supers: string[];
  list(state: LabState, now: number): CimInstance[];
  /**
   * The instance with these keys, for a class that can find one without listing all
   * (Msvm_ConcreteJob: one file per job, job_store.ts). A path of such a class names only its own
   * instances, so the index looks no further.
   */
  lookup?(state: LabState, now: number, keys: Record<string, unknown>): CimInstance | undefined;
  /** The namespace serving the class (default root\virtualization\v2). */
  namespace?: string;
}

const MANAGED = ["CIM_ManagedElement"];
const LOGICAL = ["CIM_EnabledLogicalElement", "CIM_LogicalElement", "CIM_ManagedSystemElement", ...MANAGED];
const SETTING = ["CIM_SettingData", ...MANAGED];
const SERVICE = ["CIM_Service", ...LOGICAL];

function serviceClass(name: ServiceClass, cimParent: string): ClassDef {
  return { name, supers: [cimParent, ...SERVICE], list: (s) => [serviceInstance(s, name)] };
}

export const CLASSES: ClassDef[] = [
  {
    name: "Msvm_ComputerSystem",
    supers: ["CIM_ComputerSystem", "CIM_System", ...LOGICAL],
    list: (s) => [hostInstance(s), ...s.vms.map((v) => vmInstance(s, v))],
  },
  {
    name: "Msvm_PlannedComputerSystem",
    supers: ["CIM_ComputerSystem", "CIM_System", ...LOGICAL],
    list: (s) => s.planned.map((p) => plannedInstance(s, p)),
  },
  {
    name: "Msvm_VirtualSystemSettingData",
    supers: ["CIM_VirtualSystemSettingData", ...SETTING],
    list: (s) => allConfigurations(s).map((c) => vssdInstance(s, c)),
    lookup: (s, _now, keys) => withInstanceId(configurationsOf(s, keys).map((c) => vssdInstance(s, c)), keys),
  },
  {
    name: "Msvm_ResourceAllocationSettingData",
    supers: ["CIM_ResourceAllocationSettingData", ...SETTING],
    list: (s) => allConfigurations(s).flatMap((c) => resourceInstances(s, c).filter((i) => i.__CLASS === "Msvm_ResourceAllocationSettingData")),
    lookup: (s, _now, keys) => withInstanceId(configurationsOf(s, keys).flatMap((c) => resourceInstances(s, c).filter((i) => i.__CLASS === "Msvm_ResourceAllocationSettingData")), keys),
  },
  {
    name: "Msvm_StorageAllocationSettingData",
    supers: ["CIM_StorageAllocationSettingData", "CIM_ResourceAllocationSettingData", ...SETTING],
    list: (s) => allConfigurations(s).flatMap((c) => resourceInstances(s, c).filter((i) => i.__CLASS === "Msvm_StorageAllocationSettingData")),
    lookup: (s, _now, keys) => withInstanceId(configurationsOf(s, keys).flatMap((c) => resourceInstances(s, c).filter((i) => i.__CLASS === "Msvm_StorageAllocationSettingData")), keys),
  },
  serviceClass("Msvm_VirtualSystemManagementService", "CIM_VirtualSystemManagementService"),
  serviceClass("Msvm_VirtualSystemSnapshotService", "CIM_VirtualSystemSnapshotService"),
  serviceClass("Msvm_VirtualSystemReferencePointService", "CIM_Service"),
  serviceClass("Msvm_ImageManagementService", "CIM_Service"),
  serviceClass("Msvm_CollectionSnapshotService", "CIM_Service"),
  serviceClass("Msvm_CollectionReferencePointService", "CIM_Service"),
  {
    name: "Msvm_VirtualSystemCollection",
    supers: ["CIM_CollectionOfMSEs", "CIM_Collection", ...MANAGED],
    list: (s) => (s.groups ?? []).map((g) => groupInstance(s, g)),
  },
  {
    name: "Msvm_SnapshotCollection",
    supers: ["CIM_Collection", ...MANAGED],
    // A collection whose every member was removed on its own is gone too (lab assumption).
    list: (s) => (s.snapshotCollections ?? []).filter((c) => collectionSnapshots(s, c).length > 0).map((c) => snapshotCollectionInstance(s, c)),
  },
  {
    name: "Msvm_ReferencePointCollection",
    supers: ["CIM_Collection", ...MANAGED],
    list: (s) => (s.referencePointCollections ?? []).filter((c) => collectionReferencePoints(s, c).length > 0).map((c) => referencePointCollectionInstance(s, c)),
  },
  {
    name: "Msvm_VirtualSystemReferencePoint",
    supers: [...MANAGED],
    list: (s) => s.referencePoints.map((r) => referencePointInstance(s, r)),
  },
  {
    name: "Msvm_ConcreteJob",
    supers: ["CIM_ConcreteJob", "CIM_Job", "CIM_LogicalElement", "CIM_ManagedSystemElement", ...MANAGED],
    list: (s, now) => s.jobs.list().filter((j) => !jobExpired(s, j, now)).map((j) => jobInstance(s, j, now)),
    lookup: (s, now, keys) => {
      const job = s.jobs.get(String(keyOf(keys, "InstanceID") ?? ""));
      return job && !jobExpired(s, job, now) ? jobInstance(s, job, now) : undefined;
    },
  },
  {
    name: "Msvm_VssComponent",
    supers: ["CIM_LogicalDevice", ...LOGICAL],
    list: (s) => s.vms.map((v) => vssComponentInstance(s, v)),
  },
  {
    name: "Msvm_KvpExchangeComponent",
    supers: ["CIM_LogicalDevice", ...LOGICAL],
    list: (s) => s.vms.map((v) => kvpComponentInstance(s, v)),
  },
  {
    name: "Msvm_VirtualSystemExportSettingData",
    supers: [...SETTING],
    list: (s) => s.vms.map((v) => exportSettingDataInstance(s, v)),
  },
  {
    name: "Msvm_VirtualSystemManagementServiceSettingData",
    supers: [...SETTING],
    list: (s) => [serviceSettingsInstance(s)],
  },
  { name: "Win32_Volume", supers: ["CIM_StorageVolume", "CIM_StorageExtent", "CIM_LogicalDevice", ...LOGICAL], namespace: CIMV2_NAMESPACE, list: (s) => (s.volumes ?? []).map((v) => volumeInstance(s, v)) },
  { name: "Win32_OperatingSystem", supers: ["CIM_OperatingSystem", ...LOGICAL], namespace: CIMV2_NAMESPACE, list: (s) => [operatingSystemInstance(s)] },
  { name: "Win32_LogicalDisk", supers: ["CIM_LogicalDisk", "CIM_StorageExtent", "CIM_LogicalDevice", ...LOGICAL], namespace: CIMV2_NAMESPACE, list: (s) => mappedDiskInstances(s) },
  { name: "Win32_ComputerSystem", supers: ["CIM_UnitaryComputerSystem", "CIM_ComputerSystem", "CIM_System", ...LOGICAL], namespace: CIMV2_NAMESPACE, list: (s) => [computerSystemInstance(s)] },
  { name: "Win32_ShadowCopy", supers: ["CIM_LogicalElement", "CIM_ManagedSystemElement", ...MANAGED], namespace: CIMV2_NAMESPACE, list: (s) => (s.shadowCopies ?? []).map((x) => shadowCopyInstance(s, x)) },
  { name: "MSCluster_Cluster", supers: [], namespace: CLUSTER_NAMESPACE, list: (s) => ((s.nodes?.length ?? 0) > 0 ? [clusterInstance(s)] : []) },
  { name: "MSCluster_Node", supers: [], namespace: CLUSTER_NAMESPACE, list: (s) => (s.nodes ?? []).map((n) => nodeInstance(s, n)) },
  { name: "MSCluster_ResourceGroup", supers: [], namespace: CLUSTER_NAMESPACE, list: (s) => clusteredVms(s).map((v) => resourceGroupInstance(s, v)) },
  { name: "MSCluster_Resource", supers: [], namespace: CLUSTER_NAMESPACE, list: (s) => clusteredVms(s).map((v) => vmResourceInstance(s, v)) },
];

/** The lab's namespaces: Hyper-V's, and root\cimv2 and root\MSCluster for volumes and clusters. */
export const LAB_NAMESPACES = [NAMESPACE, CIMV2_NAMESPACE, CLUSTER_NAMESPACE] as const;

/** The classes `namespace` serves (names compare without case). */
export function classesOf(namespace: string): ClassDef[] {
  const ns = namespace.toLowerCase();
  return CLASSES.filter((c) => (c.namespace ?? NAMESPACE).toLowerCase() === ns);
}

/** True when `className` is `wanted` or derives from it (names compare without case). */
export function classIsA(className: string, supers: readonly string[], wanted: string): boolean {
  const w = wanted.toLowerCase();
  return className.toLowerCase() === w || supers.some((s) => s.toLowerCase() === w);
}

export function findClass(name: string): ClassDef | undefined {
  return CLASSES.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

/**
 * The configurations whose settings an InstanceID can name: a configuration's settings carry
 * `Microsoft:<configuration id>` first (paths.ts), so that one configuration when it exists,
 * else every one. Looking up one resource used to list the resources of every configuration of
 * the host (each VM's, each checkpoint's): most of reading one configuration's components.
 */
function configurationsOf(s: LabState, keys: Record<string, unknown>): ConfigView[] {
  const all = allConfigurations(s);
  const m = /^Microsoft:([^\\]+)/i.exec(String(keyOf(keys, "InstanceID") ?? ""));
  const own = m ? all.filter((c) => c.configId.toLowerCase() === m[1]!.toLowerCase()) : [];
  return own.length > 0 ? own : all;
}

/**
 * The instance among `found` whose InstanceID is the path's (compared as WMI compares keys,
 * ignoring case); the last one, as the listed index keeps the last of equal paths.
 */
function withInstanceId(found: CimInstance[], keys: Record<string, unknown>): CimInstance | undefined {
  const id = String(keyOf(keys, "InstanceID") ?? "").toLowerCase();
  let last: CimInstance | undefined;
  for (const i of found) if (String(i["InstanceID"] ?? "").toLowerCase() === id) last = i;
  return last;
}

/** A key's value from a parsed path (key names compare without case, as WMI's do). */
function keyOf(keys: Record<string, unknown>, name: string): unknown {
  const k = Object.keys(keys).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : keys[k];
}

/** The canonical lookup key of a path: class and keys only, lower-cased. */
export function pathKey(path: string): string {
  const p = parseObjectPath(path);
  return buildObjectPath({ host: undefined, namespace: undefined, className: p.className, keys: p.keys }).toLowerCase();
}

/**
 * All instances of one moment, indexed by path. Built per call, lazily, class by class: looking
 * up one path lists only the classes of that name (a method call looks up its target and
 * arguments, and listing every class of a host with many VMs for each was most of a call's
 * time), a class with a `lookup` (the jobs, one file each) not even that, and a query lists
 * only the classes it asks for; every class is listed only when all instances are asked for.
 */
export class InstanceIndex {
  #byKey: Map<string, CimInstance> | undefined;
  readonly #lists = new Map<ClassDef, CimInstance[]>();
  readonly #byClass = new Map<string, Map<string, CimInstance>>();
  readonly #classes: ClassDef[];
  constructor(
    private readonly state: LabState,
    private readonly now: number,
    namespace: string = NAMESPACE,
  ) {
    this.#classes = classesOf(namespace);
  }
  /** Each instance as the lab's host version shows it (no property its release lacks); listed once per index. */
  #list(c: ClassDef): CimInstance[] {
    let listed = this.#lists.get(c);
    if (!listed) {
      listed = c.list(this.state, this.now).map((i) => asOnHost(i, i.__CLASS, this.state.config.hostVersion));
      this.#lists.set(c, listed);
    }
    return listed;
  }
  get all(): CimInstance[] {
    return this.#classes.flatMap((c) => this.#list(c));
  }
  get(path: string): CimInstance | undefined {
    const key = pathKey(path);
    const parsed = parseObjectPath(path);
    const cls = parsed.className.toLowerCase();
    const defs = this.#classes.filter((d) => d.name.toLowerCase() === cls);
    const keyed = defs.find((d) => d.lookup);
    if (keyed) {
      const found = keyed.lookup!(this.state, this.now, parsed.keys);
      return found && pathKey(found.__PATH) === key ? asOnHost(found, found.__CLASS, this.state.config.hostVersion) : undefined;
    }
    // A path of a class the lab serves names only that class's instances.
    if (defs.length > 0) {
      let own = this.#byClass.get(cls);
      if (!own) {
        own = new Map();
        for (const c of defs) for (const i of this.#list(c)) own.set(pathKey(i.__PATH), i);
        this.#byClass.set(cls, own);
      }
      return own.get(key);
    }
    this.#byKey ??= new Map(this.all.map((i) => [pathKey(i.__PATH), i]));
    return this.#byKey.get(key);
  }
  /** Instances of `className` or of its subclasses (only those classes are listed). */
  ofClass(className: string): CimInstance[] {
    return this.#classes.filter((c) => classIsA(c.name, c.supers, className)).flatMap((c) => this.#list(c));
  }
}
