/**
 * The class schemas the lab declares, per host version: what `getClass` answers, what an
 * embedded instance sent to a method may hold, and which properties instances carry. Types
 * and "added in" releases follow the Msvm_* class pages (docs/lab-fidelity.md, "Host versions").
 * Only the classes that travel as embedded instances, or that a client reads a schema of, are
 * declared; instances of other classes are served without a schema.
 */
import type { CimClassSchema, CimPropertySchema, CimTypeName } from "../../cim/mod";
import { BUILD, HOST_BUILD, type HostVersion } from "../host/host_versions";

interface Prop extends CimPropertySchema {
  /** Windows build that added the property (absent: present on every release the lab poses as). */
  since?: number;
}

function p(name: string, type: CimTypeName, isArray = false, since?: number): Prop {
  return since === undefined ? { name, type, isArray } : { name, type, isArray, since };
}

const SETTING: Prop[] = [p("InstanceID", "string"), p("Caption", "string"), p("Description", "string"), p("ElementName", "string")];

const RASD: Prop[] = [
  ...SETTING,
  p("ResourceType", "uint16"),
  p("OtherResourceType", "string"),
  p("ResourceSubType", "string"),
  p("PoolID", "string"),
  p("ConsumerVisibility", "uint16"),
  p("HostResource", "string", true),
  p("AllocationUnits", "string"),
  p("VirtualQuantity", "uint64"),
  p("Reservation", "uint64"),
  p("Limit", "uint64"),
  p("Weight", "uint32"),
  p("AutomaticAllocation", "boolean"),
  p("AutomaticDeallocation", "boolean"),
  p("Parent", "string"),
  p("Connection", "string", true),
  p("Address", "string"),
  p("MappingBehavior", "uint16"),
  p("AddressOnParent", "string"),
  p("VirtualQuantityUnits", "string"),
  p("VirtualSystemIdentifiers", "string", true),
];

const DEFS: Record<string, Prop[]> = {
  // msvm-virtualsystemsnapshotsettingdata: GuestBackupType "added in Windows 10, version 1703".
  Msvm_VirtualSystemSnapshotSettingData: [
    ...SETTING,
    p("ConsistencyLevel", "uint8"),
    p("IgnoreNonSnapshottableDisks", "boolean"),
    p("GuestBackupType", "uint8", false, BUILD.v1703),
  ],
  // msvm-virtualsystemexportsettingdata: BackupIntent and CaptureLiveState 2 with Server 2016;
  // ExportForLiveMigration 1703; DisableDifferentialOfIgnoredStorage, ExcludedVirtualHardDisks 1709.
  Msvm_VirtualSystemExportSettingData: [
    ...SETTING,
    p("CaptureLiveState", "uint8"),
    p("CopySnapshotConfiguration", "uint8"),
    p("CopyVmRuntimeInformation", "boolean"),
    p("CopyVmStorage", "boolean"),
    p("CreateVmExportSubdirectory", "boolean"),
    p("SnapshotVirtualSystem", "string"),
    p("BackupIntent", "uint8"),
    p("ExportForLiveMigration", "boolean", false, BUILD.v1703),
    p("DisableDifferentialOfIgnoredStorage", "boolean", false, BUILD.v1709),
    p("ExcludedVirtualHardDisks", "string", true, BUILD.v1709),
    p("DifferentialBackupBase", "string"),
  ],
  // msvm-collectionsnapshotexportsettingdata (BackupIntent is uint16 there: 1 PreserveChain, 2 Merge).
  Msvm_CollectionSnapshotExportSettingData: [...SETTING, p("CopyVmStorage", "boolean"), p("DifferentialBackupBase", "string"), p("BackupIntent", "uint16")],
  // msvm-virtualsystemsettingdata (the properties the lab fills; GuestState*/automatic checkpoints 1709+).
  Msvm_VirtualSystemSettingData: [
    ...SETTING,
    p("VirtualSystemIdentifier", "string"),
    p("VirtualSystemType", "string"),
    p("VirtualSystemSubType", "string"),
    p("Version", "string"),
    p("CreationTime", "datetime"),
    p("ConfigurationID", "string"),
    p("ConfigurationDataRoot", "string"),
    p("ConfigurationFile", "string"),
    p("SnapshotDataRoot", "string"),
    p("SuspendDataRoot", "string"),
    p("SwapFileDataRoot", "string"),
    p("LogDataRoot", "string"),
    p("GuestStateDataRoot", "string", false, BUILD.v1709),
    p("Parent", "string"),
    p("IsSaved", "boolean"),
    p("UserSnapshotType", "uint16"),
    p("IncrementalBackupEnabled", "boolean"),
    p("AutomaticSnapshotsEnabled", "boolean", false, BUILD.v1709),
    p("IsAutomaticSnapshot", "boolean", false, BUILD.v1709),
    p("Notes", "string", true),
  ],
  Msvm_ResourceAllocationSettingData: RASD,
  // msvm-storageallocationsettingdata.
  Msvm_StorageAllocationSettingData: [
    ...RASD,
    p("Access", "uint16"),
    p("HostResourceBlockSize", "uint64"),
    p("HostExtentStartingAddress", "uint64"),
    p("HostExtentName", "string"),
    p("HostExtentNameFormat", "uint16"),
    p("OtherHostExtentNameFormat", "string"),
    p("HostExtentNameNamespace", "uint16"),
    p("OtherHostExtentNameNamespace", "string"),
    p("IOPSLimit", "uint64"),
    p("IOPSReservation", "uint64"),
    p("IOPSAllocationUnits", "string"),
    p("PersistentReservationsSupported", "boolean"),
    p("CachingMode", "uint16"),
    p("SnapshotId", "string"),
    p("IgnoreFlushes", "boolean"),
    p("WriteHardeningMethod", "uint16"),
    p("StorageQoSPolicyID", "string"),
  ],
  // msvm-virtualharddisksettingdata (DataAlignment 1709+; persistent-memory fields 1809+).
  Msvm_VirtualHardDiskSettingData: [
    ...SETTING,
    p("Type", "uint16"),
    p("Format", "uint16"),
    p("Path", "string"),
    p("ParentPath", "string"),
    p("ParentTimestamp", "datetime"),
    p("ParentIdentifier", "string"),
    p("MaxInternalSize", "uint64"),
    p("BlockSize", "uint32"),
    p("LogicalSectorSize", "uint32"),
    p("PhysicalSectorSize", "uint32"),
    p("VirtualDiskId", "string"),
    p("DataAlignment", "uint64", false, BUILD.v1709),
    p("PmemAddressAbstractionType", "uint16", false, 17763),
    p("IsPmemCompatible", "boolean", false, 17763),
  ],
  // msvm-vhdsetinformation, msvm-vhdsnapshotinformation (Server 2016+: VHD Sets).
  Msvm_VHDSetInformation: [p("Path", "string"), p("SnapshotIdList", "string", true), p("AllPaths", "string", true)],
  Msvm_VHDSnapshotInformation: [
    p("FilePath", "string"),
    p("SnapshotId", "string"),
    p("SnapshotPath", "string"),
    p("ParentPathsList", "string", true),
    p("CreationTime", "datetime"),
    p("ResilientChangeTrackingId", "string"),
  ],
  // msvm-virtualharddiskstate.
  Msvm_VirtualHardDiskState: [
    p("FileSize", "uint64"),
    p("InUse", "boolean"),
    p("MinInternalSize", "uint64"),
    p("PhysicalSectorSize", "uint32"),
    p("Alignment", "uint32"),
    p("FragmentationPercentage", "uint32"),
    p("Timestamp", "datetime"),
  ],
  // msvm-error (CIM_Error), returned by Msvm_ConcreteJob.GetError / GetErrorEx.
  Msvm_Error: [
    p("ErrorType", "uint16"),
    p("OtherErrorType", "string"),
    p("OwningEntity", "string"),
    p("MessageID", "string"),
    p("Message", "string"),
    p("MessageArguments", "string", true),
    p("PerceivedSeverity", "uint16"),
    p("ProbableCause", "uint16"),
    p("ProbableCauseDescription", "string"),
    p("RecommendedActions", "string", true),
    p("ErrorSource", "string"),
    p("ErrorSourceFormat", "uint16"),
    p("OtherErrorSourceFormat", "string"),
    p("CIMStatusCode", "uint32"),
    p("CIMStatusCodeDescription", "string"),
  ],
  // msvm-kvpexchangedataitem: one key/value pair of a VM's KVP exchange (the guest's intrinsic
  // items, e.g. OSName, arrive embedded in Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems).
  Msvm_KvpExchangeDataItem: [p("Caption", "string"), p("Description", "string"), p("ElementName", "string"), p("Source", "uint16"), p("Name", "string"), p("Data", "string")],
  // msvm-virtualsystemmanagementservicesettingdata (the host's default folders).
  Msvm_VirtualSystemManagementServiceSettingData: [
    ...SETTING,
    p("BiosLockString", "string"),
    p("DefaultExternalDataRoot", "string"),
    p("DefaultVirtualHardDiskPath", "string"),
    p("MaximumMacAddress", "string"),
    p("MinimumMacAddress", "string"),
    p("NumaSpanningEnabled", "boolean"),
    p("PrimaryOwnerContact", "string"),
    p("PrimaryOwnerName", "string"),
    p("HbaLunTimeout", "uint32"),
    p("MaximumWWPNAddress", "string"),
    p("MinimumWWPNAddress", "string"),
    p("CurrentWWNNAddress", "string"),
    p("DefaultVirtualHardDiskCachingMode", "uint16"),
    p("EnhancedSessionModeEnabled", "boolean"),
  ],
};

/** The schema of `className` on a host of `version`, or undefined when the lab declares none. */
export function classSchema(className: string, version: HostVersion): CimClassSchema | undefined {
  const key = Object.keys(DEFS).find((k) => k.toLowerCase() === className.toLowerCase());
  if (!key) return undefined;
  const build = HOST_BUILD[version];
  return {
    className: key,
    properties: DEFS[key]!.filter((x) => x.since === undefined || x.since <= build).map(({ name, type, isArray }) => ({ name, type, isArray })),
  };
}

/** Every class the lab declares a schema for. */
export function declaredClasses(): string[] {
  return Object.keys(DEFS);
}

/**
 * `instance` as a host of `version` shows it: properties its release does not have yet are left
 * out (an instance of a class without a declared schema is returned as it is).
 */
export function asOnHost<T extends Record<string, unknown>>(instance: T, className: string, version: HostVersion): T {
  const key = Object.keys(DEFS).find((k) => k.toLowerCase() === className.toLowerCase());
  if (!key) return instance;
  const build = HOST_BUILD[version];
  const tooNew = new Set(DEFS[key]!.filter((x) => x.since !== undefined && x.since > build).map((x) => x.name.toLowerCase()));
  if (tooNew.size === 0) return instance;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(instance)) if (!tooNew.has(k.toLowerCase())) out[k] = v;
  return out as T;
}
