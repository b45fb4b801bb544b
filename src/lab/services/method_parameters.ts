/**
 * The in-parameters of every emulated method, as the method pages declare them, and the check
 * WMI makes before a call reaches the provider: a parameter the method does not have fails with
 * WBEM_E_NOT_FOUND ("Not found"), as System.Management's `inParams[name]` does; an embedded
 * instance must be CIM-DTD 2.0 text holding only properties its class has on this host version
 * (when the lab declares the class), each in its declared type.
 */
import { CimError, instanceXmlTypes, parseInstanceXml, schemaProperty, type CimClassSchema } from "../../cim/mod";
import { classSchema } from "../classes/schemas";
import type { HostVersion } from "../host/host_versions";

interface Param {
  name: string;
  /** Set for embedded-instance parameters: the class (or base class) the text must hold. */
  embedded?: string;
  isArray?: boolean;
}

const ref = (name: string): Param => ({ name });
const str = (name: string): Param => ({ name });
const emb = (name: string, cls: string, isArray = false): Param => ({ name, embedded: cls, isArray });

/** class → method → in-parameters (names as on the method pages). */
export const METHOD_PARAMETERS: Record<string, Record<string, Param[]>> = {
  msvm_virtualsystemsnapshotservice: {
    createsnapshot: [ref("AffectedSystem"), emb("SnapshotSettings", "Msvm_VirtualSystemSnapshotSettingData"), str("SnapshotType")],
    destroysnapshot: [ref("AffectedSnapshot")],
    converttoreferencepoint: [ref("AffectedSnapshot"), str("ReferencePointSettings")],
  },
  msvm_virtualsystemreferencepointservice: {
    destroyreferencepoint: [ref("AffectedReferencePoint")],
  },
  // msvm-collectionsnapshotservice / msvm-collectionreferencepointservice (VM groups, Server 2016+).
  msvm_collectionsnapshotservice: {
    createsnapshot: [ref("Collection"), emb("SnapshotSettings", "Msvm_VirtualSystemSnapshotSettingData"), str("SnapshotType")],
    destroysnapshot: [ref("AffectedSnapshotCollection")],
    converttoreferencepoint: [ref("AffectedSnapshotCollection"), str("ReferencePointSettings")],
    exportsnapshot: [ref("SnapshotCollection"), str("ExportDirectory"), emb("ExportSettingData", "Msvm_CollectionSnapshotExportSettingData")],
  },
  msvm_collectionreferencepointservice: {
    destroyreferencepoint: [ref("AffectedReferencePointCollection")],
  },
  mscluster_cluster: {
    addvirtualmachine: [str("VirtualMachine")],
  },
  // win32-shadowcopy Create(Volume, Context, out ReturnValue, out ShadowID).
  win32_shadowcopy: {
    create: [str("Volume"), str("Context")],
  },
  msvm_imagemanagementservice: {
    getvirtualdiskchanges: [str("Path"), str("TargetSnapshotId"), str("LimitId"), str("ByteOffset"), str("ByteLength")],
    getvirtualharddisksettingdata: [str("Path")],
    getvirtualharddiskstate: [str("Path")],
    mergevirtualharddisk: [str("SourcePath"), str("DestinationPath")],
    // The VHD Set methods (Server 2016+), names as on their pages.
    getvhdsetinformation: [str("VHDSetPath"), str("AdditionalInformation")],
    getvhdsnapshotinformation: [str("VHDSetPath"), str("SnapshotIds"), str("AdditionalInformation")],
    setvhdsnapshotinformation: [emb("Information", "Msvm_VHDSnapshotInformation")],
    deletevhdsnapshot: [str("VHDSetPath"), str("SnapshotId"), str("PersistReferenceSnapshot")],
    createvirtualharddisk: [emb("VirtualDiskSettingData", "Msvm_VirtualHardDiskSettingData")],
  },
  msvm_virtualsystemmanagementservice: {
    exportsystemdefinition: [ref("ComputerSystem"), str("ExportDirectory"), emb("ExportSettingData", "Msvm_VirtualSystemExportSettingData")],
    importsystemdefinition: [str("SystemDefinitionFile"), str("SnapshotFolder"), str("GenerateNewSystemIdentifier")],
    importsnapshotdefinitions: [ref("PlannedSystem"), str("SnapshotFolder")],
    validateplannedsystem: [ref("PlannedSystem")],
    realizeplannedsystem: [ref("PlannedSystem")],
    destroysystem: [ref("AffectedSystem")],
    modifyresourcesettings: [emb("ResourceSettings", "CIM_ResourceAllocationSettingData", true)],
    modifysystemsettings: [emb("SystemSettings", "Msvm_VirtualSystemSettingData")],
    definesystem: [emb("SystemSettings", "Msvm_VirtualSystemSettingData"), emb("ResourceSettings", "CIM_ResourceAllocationSettingData", true), ref("ReferenceConfiguration")],
    addresourcesettings: [ref("AffectedConfiguration"), emb("ResourceSettings", "CIM_ResourceAllocationSettingData", true)],
  },
  msvm_concretejob: {
    geterror: [],
    geterrorex: [],
    requeststatechange: [str("RequestedState"), str("TimeoutPeriod")],
  },
  msvm_computersystem: {
    requeststatechange: [str("RequestedState"), str("TimeoutPeriod")],
  },
};

/** True when the lab declares the in-parameters of `className.method`. */
export function hasParameterList(className: string, method: string): boolean {
  return METHOD_PARAMETERS[className.toLowerCase()]?.[method.toLowerCase()] !== undefined;
}

/**
 * Checks a call's arguments as WMI would and returns them with every embedded instance parsed
 * (typed values, `__CLASS`). A method without a declared parameter list is passed through.
 */
export function checkArguments(version: HostVersion, className: string, method: string, raw: Record<string, unknown>): Record<string, unknown> {
  const params = METHOD_PARAMETERS[className.toLowerCase()]?.[method.toLowerCase()];
  if (!params) return raw;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const param = params.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!param) throw new CimError("CimNotFound", `Not found: ${className}.${method} has no parameter '${name}'`, name);
    if (!param.embedded || value === null || value === undefined) {
      out[name] = value;
      continue;
    }
    if (param.isArray) {
      if (!Array.isArray(value)) throw mismatch(method, name, "an array of CIM-DTD 2.0 instance texts", value);
      out[name] = value.map((v, i) => parseEmbedded(version, method, `${name}[${i}]`, param.embedded!, v));
    } else {
      out[name] = parseEmbedded(version, method, name, param.embedded, value);
    }
  }
  return out;
}

function mismatch(method: string, name: string, want: string, got: unknown): CimError {
  return new CimError("CimTypeMismatch", `Type mismatch: parameter ${name} of ${method} must be ${want}, got ${JSON.stringify(got)?.slice(0, 120)}`, name);
}

function parseEmbedded(version: HostVersion, method: string, name: string, declared: string, value: unknown): Record<string, unknown> {
  // WMI carries an embedded instance as text; an object is what a client that skipped
  // GetText(CimDtd20) would send, and the string parameter refuses it.
  if (typeof value !== "string") throw mismatch(method, name, "CIM-DTD 2.0 instance text", value);
  if (!/<INSTANCE\b/i.test(value)) throw mismatch(method, name, "CIM-DTD 2.0 instance text", value);
  const inst = parseInstanceXml(value);
  // Text of another class than the parameter's reaches the provider, which answers Invalid
  // Parameter itself (WMI only sees a string); its properties are still checked when the lab
  // declares that class, as building it with ManagementClass would have.
  void declared;
  const schema: CimClassSchema | undefined = classSchema(inst.__CLASS, version);
  if (!schema) return inst;
  const types = instanceXmlTypes(value);
  for (const key of Object.keys(inst)) {
    if (key === "__CLASS") continue;
    const p = schemaProperty(schema, key);
    if (!p) throw new CimError("CimNotFound", `Not found: the host's class ${schema.className} has no property '${key}' (parameter ${name} of ${method})`, key);
    const t = types.get(key);
    if (t && ((t.type !== undefined && t.type.toLowerCase() !== p.type) || t.isArray !== p.isArray)) {
      throw new CimError("CimTypeMismatch", `Type mismatch: ${schema.className}.${p.name} is ${p.type}${p.isArray ? "[]" : ""}, the text says ${t.type ?? "?"}${t.isArray ? "[]" : ""}`, key);
    }
  }
  return inst;
}
