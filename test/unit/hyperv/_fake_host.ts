/**
 * A tiny Hyper-V host on {@link FakeCimSession} for the client's unit tests: VMs with SCSI/IDE
 * disks, recovery checkpoints that move the VM onto .avhdx files, reference points with RCT
 * ids, GetVirtualDiskChanges with a configurable ProcessedByteLength, export/import, and
 * injected failures. Only what the tests need; the lab host is the faithful emulator.
 * Folder-private.
 */
import type { CimInstance, CimMethodResult } from "../../../src/cim/mod";
import { FakeCimSession, parseInstanceXml, type CimPropertySchema } from "../../../src/cim/mod";
import { buildObjectPath } from "../../../src/cim/mod";

const HOST = "FAKEHOST";
const NS = "root\\virtualization\\v2";

function path(className: string, keys: Record<string, string>): string {
  return buildObjectPath({ host: HOST, namespace: NS, className, keys });
}
function idPath(className: string, instanceId: string): string {
  return path(className, { InstanceID: instanceId });
}
function servicePathOf(className: string, name: string): string {
  return path(className, { CreationClassName: className, Name: name, SystemCreationClassName: "Msvm_ComputerSystem", SystemName: HOST });
}

export interface FakeDiskSpec {
  controller: "scsi" | "ide";
  controllerNumber?: number;
  address: number;
  file: string;
  size?: number;
}

export interface FakeVmSpec {
  name: string;
  id: string;
  generation?: 1 | 2;
  version?: string;
  enabledState?: number;
  disks: FakeDiskSpec[];
  /** OperationalStatus of Msvm_VssComponent; undefined = no component. */
  vssStatus?: number[];
}

/** An injected failure: a ReturnValue, or a job that ends in Exception with this ErrorCode. */
export interface FakeFault {
  returnValue?: number;
  jobErrorCode?: number;
  jobErrorDescription?: string;
}

export class FakeHost {
  readonly session = new FakeCimSession();
  readonly faults = new Map<string, FakeFault>();
  /** GetVirtualDiskChanges answers at most this many bytes per call. */
  maxProcessed = 1 << 20;
  /** Changed extents per disk file and RCT id. */
  readonly changes = new Map<string, { offset: number; length: number }[]>();
  /** Sizes of disk files (GetVirtualHardDiskSettingData). */
  readonly sizes = new Map<string, number>();
  /** Export calls: directory and embedded settings. */
  readonly exports: { dir: string; settings: Record<string, unknown> }[] = [];
  #seq = 1;

  readonly services = {
    snapshot: servicePathOf("Msvm_VirtualSystemSnapshotService", "vssnapsvc"),
    management: servicePathOf("Msvm_VirtualSystemManagementService", "vmms"),
    referencePoint: servicePathOf("Msvm_VirtualSystemReferencePointService", "vsrefpointsvc"),
    image: servicePathOf("Msvm_ImageManagementService", "vhdsvc"),
  };

  /**
   * @param release which Windows release's class schemas the host declares: "2016" lacks
   * GuestBackupType (1703) and DisableDifferentialOfIgnoredStorage / ExcludedVirtualHardDisks (1709).
   */
  constructor(release: "2016" | "current" = "current") {
    const s = this.session;
    for (const schema of fakeSchemas(release)) s.defineClass(schema);
    s.put({ __CLASS: "Msvm_ComputerSystem", __PATH: path("Msvm_ComputerSystem", { CreationClassName: "Msvm_ComputerSystem", Name: HOST }), Name: HOST, ElementName: HOST, Caption: "Hosting Computer System", EnabledState: 2 });
    for (const [cls, p] of [
      ["Msvm_VirtualSystemSnapshotService", this.services.snapshot],
      ["Msvm_VirtualSystemManagementService", this.services.management],
      ["Msvm_VirtualSystemReferencePointService", this.services.referencePoint],
      ["Msvm_ImageManagementService", this.services.image],
    ] as const) {
      s.put({ __CLASS: cls, __PATH: p, Name: p });
    }
    s.on("Msvm_VirtualSystemSnapshotService", "CreateSnapshot", (_p, a) => this.#createSnapshot(a));
    s.on("Msvm_VirtualSystemSnapshotService", "DestroySnapshot", (_p, a) => this.#destroySnapshot(a));
    s.on("Msvm_VirtualSystemSnapshotService", "ConvertToReferencePoint", (_p, a) => this.#convert(a));
    s.on("Msvm_VirtualSystemReferencePointService", "DestroyReferencePoint", (_p, a) => this.#destroyRp(a));
    s.on("Msvm_ImageManagementService", "GetVirtualDiskChanges", (_p, a) => this.#changes(a));
    s.on("Msvm_ImageManagementService", "GetVirtualHardDiskSettingData", (_p, a) => this.#vhdSettings(a));
    s.on("Msvm_VirtualSystemManagementService", "ExportSystemDefinition", (_p, a) => this.#export(a));
    s.on("Msvm_VirtualSystemManagementService", "ModifyResourceSettings", (_p, a) => this.#modify(a));
    s.on("Msvm_VirtualSystemManagementService", "DestroySystem", (_p, a) => this.#guard("DestroySystem") ?? (this.session.remove(String(a["AffectedSystem"])), { ReturnValue: 0 }));
    s.on("Msvm_ComputerSystem", "RequestStateChange", (p, a) => this.#stateChange(p, a));
  }

  /** Makes the next call of `method` fail. */
  fail(method: string, fault: FakeFault): void {
    this.faults.set(method, fault);
  }

  #guard(method: string): CimMethodResult | undefined {
    const f = this.faults.get(method);
    if (!f) return undefined;
    this.faults.delete(method);
    if (f.returnValue !== undefined) return { ReturnValue: f.returnValue };
    const job = this.session.startJob({ finalState: 10, errorCode: f.jobErrorCode ?? 32768, errorDescription: f.jobErrorDescription ?? "" });
    return { ReturnValue: 4096, Job: job };
  }

  vmPath(id: string): string {
    return path("Msvm_ComputerSystem", { CreationClassName: "Msvm_ComputerSystem", Name: id });
  }

  /** Adds a VM with its realized settings, controllers, drives and disks. */
  addVm(spec: FakeVmSpec): string {
    const s = this.session;
    const vmPath = this.vmPath(spec.id);
    s.put({ __CLASS: "Msvm_ComputerSystem", __PATH: vmPath, Name: spec.id, ElementName: spec.name, Caption: "Virtual Machine", EnabledState: spec.enabledState ?? 2 });
    const vssd = this.#addConfig(`Microsoft:${spec.id}`, spec.id, spec.name, "Microsoft:Hyper-V:System:Realized", spec, spec.disks.map((d) => d.file));
    s.associate(vmPath, vssd, "Msvm_SettingsDefineState");
    for (const d of spec.disks) this.sizes.set(d.file, d.size ?? 64 << 20);
    if (spec.vssStatus) {
      s.put({ __CLASS: "Msvm_VssComponent", __PATH: path("Msvm_VssComponent", { DeviceID: `VSS-${spec.id}`, SystemName: spec.id }), SystemName: spec.id, EnabledState: 2, OperationalStatus: spec.vssStatus });
    }
    return vmPath;
  }

  /** A configuration (VSSD + controllers + drives + SASDs); returns the VSSD path. */
  #addConfig(configId: string, vmId: string, name: string, type: string, spec: FakeVmSpec, files: string[], parent?: string): string {
    const s = this.session;
    const vssdPath = idPath("Msvm_VirtualSystemSettingData", configId);
    s.put({
      __CLASS: "Msvm_VirtualSystemSettingData",
      __PATH: vssdPath,
      InstanceID: configId,
      ElementName: name,
      VirtualSystemIdentifier: vmId,
      VirtualSystemType: type,
      VirtualSystemSubType: `Microsoft:Hyper-V:SubType:${spec.generation ?? 2}`,
      Version: spec.version ?? "9.0",
      CreationTime: `2026112318${String(this.#seq++).padStart(4, "0")}.000000+000`,
      Parent: parent ?? null,
    });
    const ctrl = new Map<string, string>();
    spec.disks.forEach((d, i) => {
      const key = `${d.controller}${d.controllerNumber ?? 0}`;
      if (!ctrl.has(key)) {
        const cp = idPath("Msvm_ResourceAllocationSettingData", `${configId}\\${key}`);
        s.put({
          __CLASS: "Msvm_ResourceAllocationSettingData",
          __PATH: cp,
          InstanceID: `${configId}\\${key}`,
          ResourceType: d.controller === "scsi" ? 6 : 5,
          ResourceSubType: d.controller === "scsi" ? "Microsoft:Hyper-V:Synthetic SCSI Controller" : "Microsoft:Hyper-V:Emulated IDE Controller",
          Address: d.controller === "ide" ? String(d.controllerNumber ?? 0) : "",
        });
        s.associate(vssdPath, cp, "Msvm_VirtualSystemSettingDataComponent");
        ctrl.set(key, cp);
      }
      const loc = `${key}\\${d.address}`;
      const drive = idPath("Msvm_ResourceAllocationSettingData", `${configId}\\${loc}\\D`);
      s.put({ __CLASS: "Msvm_ResourceAllocationSettingData", __PATH: drive, InstanceID: `${configId}\\${loc}\\D`, ResourceType: 17, ResourceSubType: "Microsoft:Hyper-V:Synthetic Disk Drive", Parent: ctrl.get(key), AddressOnParent: String(d.address) });
      const sasd = idPath("Msvm_StorageAllocationSettingData", `${configId}\\${loc}\\L`);
      s.put({ __CLASS: "Msvm_StorageAllocationSettingData", __PATH: sasd, InstanceID: `${configId}\\${loc}\\L`, ResourceType: 31, ResourceSubType: "Microsoft:Hyper-V:Virtual Hard Disk", Parent: drive, HostResource: [files[i]!], Caption: "Hard Disk Image" });
      s.associate(vssdPath, drive, "Msvm_VirtualSystemSettingDataComponent");
      s.associate(vssdPath, sasd, "Msvm_VirtualSystemSettingDataComponent");
    });
    return vssdPath;
  }

  /** SASDs of a configuration, in the order they were created. */
  sasds(vssdPath: string): CimInstance[] {
    return this.session.associations
      .filter((a) => a.a === vssdPath && a.assocClass === "Msvm_VirtualSystemSettingDataComponent")
      .map((a) => this.session.find(a.b)!)
      .filter((i) => i.__CLASS === "Msvm_StorageAllocationSettingData");
  }

  #specOf(vmId: string): { spec: FakeVmSpec; vssd: string } {
    const vssd = idPath("Msvm_VirtualSystemSettingData", `Microsoft:${vmId}`);
    const v = this.session.find(vssd)!;
    const disks: FakeDiskSpec[] = this.sasds(vssd).map((s) => {
      const id = String(s["InstanceID"]);
      const m = /\\(scsi|ide)(\d+)\\(\d+)\\L$/.exec(id)!;
      return { controller: m[1] as "scsi" | "ide", controllerNumber: Number(m[2]), address: Number(m[3]), file: (s["HostResource"] as string[])[0]! };
    });
    return { spec: { name: String(v["ElementName"]), id: vmId, generation: String(v["VirtualSystemSubType"]).endsWith("2") ? 2 : 1, disks }, vssd };
  }

  #createSnapshot(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("CreateSnapshot");
    if (g) return g;
    const vm = this.session.find(String(a["AffectedSystem"]));
    if (!vm) return { ReturnValue: 4 };
    const vmId = String(vm["Name"]);
    const { spec, vssd } = this.#specOf(vmId);
    const cpId = `Microsoft:CP-${this.#seq++}`;
    this.lastSnapshotSettings = parseInstanceXml(String(a["SnapshotSettings"]));
    let created = "";
    const job = this.session.startJob({
      onFinish: () => {
        created = this.#addConfig(cpId, vmId, `${spec.name} - recovery`, a["SnapshotType"] === 32768 ? "Microsoft:Hyper-V:Snapshot:Recovery" : "Microsoft:Hyper-V:Snapshot:Realized", spec, spec.disks.map((d) => d.file));
        this.session.associate(vm.__PATH, created, "Msvm_SnapshotOfVirtualSystem");
        for (const sasd of this.sasds(vssd)) {
          const file = (sasd["HostResource"] as string[])[0]!;
          const child = file.replace(/\.vhdx$|\.avhdx$/i, "") + `_${cpId.slice(10)}.avhdx`;
          sasd["HostResource"] = [child];
          this.sizes.set(child, this.sizes.get(file) ?? 0);
        }
      },
      affected: () => [created],
    });
    return { ReturnValue: 4096, Job: job };
  }

  /** The SnapshotSettings of the last CreateSnapshot. */
  lastSnapshotSettings: Record<string, unknown> | undefined;

  #destroySnapshot(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("DestroySnapshot");
    if (g) return g;
    this.#mergeBack(String(a["AffectedSnapshot"]));
    return { ReturnValue: 0 };
  }

  #mergeBack(cpPath: string): { vmId: string; diskIds: string[] } {
    const cp = this.session.find(cpPath)!;
    const vmId = String(cp["VirtualSystemIdentifier"]);
    const vssd = idPath("Msvm_VirtualSystemSettingData", `Microsoft:${vmId}`);
    const frozen = this.sasds(cpPath).map((s) => (s["HostResource"] as string[])[0]!);
    const live = this.sasds(vssd);
    live.forEach((sasd, i) => (sasd["HostResource"] = [frozen[i]!]));
    for (const s of this.sasds(cpPath)) this.session.remove(s.__PATH);
    this.session.remove(cpPath);
    return { vmId, diskIds: live.map((s) => String(s["InstanceID"])) };
  }

  #convert(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("ConvertToReferencePoint");
    if (g) return g;
    const cpPath = String(a["AffectedSnapshot"]);
    const cp = this.session.find(cpPath);
    if (!cp || cp["VirtualSystemType"] !== "Microsoft:Hyper-V:Snapshot:Recovery") return { ReturnValue: 32775 };
    let rpPath = "";
    const job = this.session.startJob({
      onFinish: () => {
        const { vmId, diskIds } = this.#mergeBack(cpPath);
        const rpId = `Microsoft:RP-${this.#seq++}`;
        rpPath = idPath("Msvm_VirtualSystemReferencePoint", rpId);
        this.session.put({
          __CLASS: "Msvm_VirtualSystemReferencePoint",
          __PATH: rpPath,
          InstanceID: rpId,
          VirtualSystemIdentifier: vmId,
          ReferencePointType: 2,
          ConsistencyLevel: 1,
          VirtualDiskIdentifiers: diskIds,
          ResilientChangeTrackingIdentifiers: diskIds.map((_, i) => `rct:${rpId}:${i}`),
        });
        this.session.associate(this.vmPath(vmId), rpPath, "Msvm_ReferencePointOfVirtualSystem");
      },
      affected: () => [rpPath],
    });
    return { ReturnValue: 4096, Job: job };
  }

  #destroyRp(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("DestroyReferencePoint");
    if (g) return g;
    const p = String(a["AffectedReferencePoint"]);
    if (!this.session.find(p)) return { ReturnValue: 32773 };
    this.session.remove(p);
    return { ReturnValue: 0 };
  }

  #changes(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("GetVirtualDiskChanges");
    if (g) return g;
    const key = `${a["Path"]}|${a["LimitId"]}`;
    const all = this.changes.get(key);
    if (!all) return { ReturnValue: 32773 };
    const start = Number(a["ByteOffset"]);
    const processed = Math.min(Number(a["ByteLength"]), this.maxProcessed);
    const end = start + processed;
    const hits = all.filter((r) => r.offset < end && r.offset + r.length > start);
    // Answer as a real host may: uint64 values as strings, ranges not clipped to the window.
    return {
      ReturnValue: 0,
      ProcessedByteLength: String(processed),
      ChangedByteOffsets: hits.map((r) => String(r.offset)),
      ChangedByteLengths: hits.map((r) => String(r.length)),
    };
  }

  #vhdSettings(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("GetVirtualHardDiskSettingData");
    if (g) return g;
    const p = String(a["Path"]);
    const size = this.sizes.get(p);
    if (size === undefined) return { ReturnValue: 32779 };
    return { ReturnValue: 0, SettingData: { __CLASS: "Msvm_VirtualHardDiskSettingData", Path: p, Type: 3, Format: 3, MaxInternalSize: String(size), BlockSize: 1 << 25 } };
  }

  #export(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("ExportSystemDefinition");
    if (g) return g;
    this.exports.push({ dir: String(a["ExportDirectory"]), settings: parseInstanceXml(String(a["ExportSettingData"])) });
    return { ReturnValue: 4096, Job: this.session.startJob({ runningPolls: 3 }) };
  }

  #modify(a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("ModifyResourceSettings");
    if (g) return g;
    const settings = (a["ResourceSettings"] as string[]).map((t) => parseInstanceXml(t));
    for (const rs of settings) {
      const target = [...this.session.instances.values()].find((i) => i["InstanceID"] === rs["InstanceID"] && i.__CLASS === rs["__CLASS"]);
      if (!target) return { ReturnValue: 4 };
      target["HostResource"] = rs["HostResource"];
    }
    return { ReturnValue: 0 };
  }

  #stateChange(p: string, a: Record<string, unknown>): CimMethodResult {
    const g = this.#guard("RequestStateChange");
    if (g) return g;
    const vm = this.session.find(p)!;
    return {
      ReturnValue: 4096,
      Job: this.session.startJob({ runningPolls: 1, onFinish: () => (vm["EnabledState"] = Number(a["RequestedState"])) }),
    };
  }
}

export const WEB01_ID = "6A1C2E3F-1111-4222-8333-944455556666";
export const DB01_ID = "7B2D3F40-2222-4333-8444-A55566667777";
export const DUP1_ID = "8C3E4051-3333-4444-8555-B66677778888";
export const DUP2_ID = "9D4F5162-4444-4555-8666-C77788889999";

/** A host with web01 (gen 2, two SCSI disks, VSS ok), db01 (gen 1, IDE only, no VSS component) and two VMs named "dup". */
export function standardFakeHost(release: "2016" | "current" = "current"): FakeHost {
  const h = new FakeHost(release);
  h.addVm({
    name: "web01",
    id: WEB01_ID,
    vssStatus: [2],
    // Listed out of order on purpose: the client must sort by controller and address.
    disks: [
      { controller: "scsi", address: 1, file: "/vms/web01/data.vhdx", size: 128 << 20 },
      { controller: "scsi", address: 0, file: "/vms/web01/os.vhdx", size: 64 << 20 },
    ],
  });
  h.addVm({
    name: "db01",
    id: DB01_ID,
    generation: 1,
    version: "5.0",
    enabledState: 3,
    disks: [
      { controller: "ide", controllerNumber: 1, address: 0, file: "/vms/db01/logs.vhd" },
      { controller: "ide", controllerNumber: 0, address: 0, file: "/vms/db01/boot.vhd" },
    ],
  });
  h.addVm({ name: "dup", id: DUP1_ID, disks: [{ controller: "scsi", address: 0, file: "/vms/dup1/a.vhdx" }], vssStatus: [12] });
  h.addVm({ name: "dup", id: DUP2_ID, disks: [{ controller: "scsi", address: 0, file: "/vms/dup2/a.vhdx" }], vssStatus: [6] });
  return h;
}

/** The schemas of the classes the client sends embedded (types as on the Msvm_* class pages). */
function fakeSchemas(release: "2016" | "current"): { className: string; properties: CimPropertySchema[] }[] {
  const p = (name: string, type: CimPropertySchema["type"], isArray = false): CimPropertySchema => ({ name, type, isArray });
  const newer = release === "current";
  const setting = [p("InstanceID", "string"), p("Caption", "string"), p("ElementName", "string")];
  return [
    { className: "Msvm_VirtualSystemSnapshotSettingData", properties: [...setting, p("ConsistencyLevel", "uint8"), p("IgnoreNonSnapshottableDisks", "boolean"), ...(newer ? [p("GuestBackupType", "uint8")] : [])] },
    {
      className: "Msvm_VirtualSystemExportSettingData",
      properties: [
        ...setting,
        p("CaptureLiveState", "uint8"),
        p("CopySnapshotConfiguration", "uint8"),
        p("CopyVmRuntimeInformation", "boolean"),
        p("CopyVmStorage", "boolean"),
        p("CreateVmExportSubdirectory", "boolean"),
        p("SnapshotVirtualSystem", "string"),
        p("BackupIntent", "uint8"),
        p("DifferentialBackupBase", "string"),
        ...(newer ? [p("DisableDifferentialOfIgnoredStorage", "boolean"), p("ExcludedVirtualHardDisks", "string", true)] : []),
      ],
    },
    {
      className: "Msvm_StorageAllocationSettingData",
      properties: [...setting, p("ResourceType", "uint16"), p("ResourceSubType", "string"), p("Parent", "string"), p("HostResource", "string", true), p("Address", "string"), p("AddressOnParent", "string")],
    },
    {
      className: "Msvm_VirtualSystemSettingData",
      properties: [...setting, p("VirtualSystemIdentifier", "string"), p("VirtualSystemType", "string"), p("VirtualSystemSubType", "string"), p("Version", "string"), p("CreationTime", "datetime"), p("Parent", "string"), p("Notes", "string", true)],
    },
  ];
}

