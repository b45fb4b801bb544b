/** The lab as strict as WMI on each Windows Server release: class schemas, parameters, embedded text. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { embeddedInstance, schemaProperty, toCimDtd20, type CimInstance } from "../../../src/cim/mod";
import { readLabState } from "../../../src/lab/mod";
import { addVm, asText, call, newLab, one, recoveryCheckpoint, servicePath, vmPath } from "../../support/lab";

const SNAP = "Msvm_VirtualSystemSnapshotSettingData";

describe("lab host versions", () => {
  it("declares GuestBackupType from 1703 and the 1709 export properties: Server 2016 lacks them, 2019 has them", () => {
    const old = newLab({ hostVersion: "2016" });
    const cur = newLab({ hostVersion: "2019" });
    for (const [lab, has] of [[old, false], [cur, true]] as const) {
      expect(schemaProperty(lab.session.getClassSync(SNAP), "GuestBackupType") !== undefined).toBe(has);
      const esd = lab.session.getClassSync("Msvm_VirtualSystemExportSettingData");
      expect(schemaProperty(esd, "DisableDifferentialOfIgnoredStorage") !== undefined).toBe(has);
      expect(schemaProperty(esd, "ExcludedVirtualHardDisks") !== undefined).toBe(has);
      expect(schemaProperty(esd, "BackupIntent")).toEqual({ name: "BackupIntent", type: "uint8", isArray: false });
      // Instances show only what the release has.
      addVm(lab, { name: "a" });
      const template = one(lab.session.associatorsSync(vmPath(lab, "a"), { resultClass: "Msvm_VirtualSystemExportSettingData" }));
      expect("DisableDifferentialOfIgnoredStorage" in template).toBe(has);
    }
  });

  it("a property the host's class lacks fails the call with Not found (WBEM_E_NOT_FOUND), as System.Management does", async () => {
    const lab = newLab({ hostVersion: "2016" });
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    // Text written with the newer schema (what a client that never read the host's class would send).
    const newer = newLab({ hostVersion: "2022" }).session.getClassSync(SNAP);
    const text = toCimDtd20(newer, { __CLASS: SNAP, ConsistencyLevel: 1, GuestBackupType: 1 });
    expect(() => lab.session.invokeMethodSync(svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768, SnapshotSettings: text })).toThrow(
      expect.objectContaining({ code: "CimNotFound", wbemStatus: 0x80041002, message: expect.stringMatching(/Not found.*GuestBackupType/) }),
    );
    // A parameter the method does not have: Not found too.
    expect(() => lab.session.invokeMethodSync(svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768, Consistency: 1 })).toThrow(
      expect.objectContaining({ code: "CimNotFound", message: expect.stringMatching(/no parameter 'Consistency'/) }),
    );
    // The same call with only what 2016 has works.
    const w = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768, SnapshotSettings: { __CLASS: SNAP, ConsistencyLevel: 1 } });
    expect(w.job?.["JobState"]).toBe(7);
  });

  it("embedded instances must be DTD 2.0 text of the declared class, typed as declared", () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const base = { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768 };
    // An object is not what WMI carries.
    expect(() => lab.session.invokeMethodSync(svc, "CreateSnapshot", { ...base, SnapshotSettings: { __CLASS: SNAP, ConsistencyLevel: 1 } })).toThrow(
      expect.objectContaining({ code: "CimTypeMismatch" }),
    );
    // A value typed otherwise than the class declares.
    const wrongType = `<INSTANCE CLASSNAME="${SNAP}"><PROPERTY NAME="ConsistencyLevel" TYPE="string"><VALUE>1</VALUE></PROPERTY></INSTANCE>`;
    expect(() => lab.session.invokeMethodSync(svc, "CreateSnapshot", { ...base, SnapshotSettings: wrongType })).toThrow(expect.objectContaining({ code: "CimTypeMismatch" }));
    // Another class than the parameter's: WMI passes the string, the provider answers Invalid Parameter.
    const other = toCimDtd20(lab.session.getClassSync("Msvm_VirtualSystemExportSettingData"), { __CLASS: "Msvm_VirtualSystemExportSettingData", BackupIntent: 1 });
    expect(lab.session.invokeMethodSync(svc, "CreateSnapshot", { ...base, SnapshotSettings: other }).ReturnValue).toBe(4);
  });

  it("every property of every instance the lab serves is in its class's declared schema", async () => {
    for (const hostVersion of ["2016", "2025"] as const) {
      const lab = newLab({ hostVersion });
      addVm(lab, { name: "a", generation: 1, diskSizes: [4 << 20, 4 << 20] });
      await recoveryCheckpoint(lab, "a");
      for (const cls of ["Msvm_VirtualSystemSettingData", "Msvm_ResourceAllocationSettingData", "Msvm_StorageAllocationSettingData", "Msvm_VirtualSystemExportSettingData", "Msvm_VirtualSystemManagementServiceSettingData"]) {
        const schema = lab.session.getClassSync(cls);
        const rows: CimInstance[] = lab.session.querySync(`SELECT * FROM ${cls}`).filter((r) => r.__CLASS === schema.className);
        expect(rows.length, cls).toBeGreaterThan(0);
        for (const r of rows) for (const k of Object.keys(r)) if (!k.startsWith("__")) expect(schemaProperty(schema, k), `${cls}.${k} on ${hostVersion}`).toBeDefined();
      }
    }
  });

  it("returns embedded out-parameters as typed DTD 2.0 text without properties the release lacks", () => {
    const lab = newLab({ hostVersion: "2016" });
    addVm(lab, { name: "a" });
    const disk = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    const r = lab.session.invokeMethodSync(servicePath(lab, "Msvm_ImageManagementService"), "GetVirtualHardDiskSettingData", { Path: disk });
    expect(typeof r["SettingData"]).toBe("string");
    expect(r["SettingData"]).toMatch(/<PROPERTY NAME="MaxInternalSize" TYPE="uint64"><VALUE>\d+<\/VALUE>/);
    const sd = embeddedInstance(r["SettingData"], "SettingData");
    expect(sd["MaxInternalSize"]).toBe(16 << 20);
    expect("DataAlignment" in sd).toBe(false); // 1709+
  });

  it("ExportSystemDefinition without DisableDifferentialOfIgnoredStorage creates differencing disks of the VM's disks in the export folder", async () => {
    const lab = newLab({ hostVersion: "2022" }); // the property is 1709+
    addVm(lab, { name: "a" });
    const cp = await recoveryCheckpoint(lab, "a");
    const vmms = servicePath(lab, "Msvm_VirtualSystemManagementService");
    const esd = (extra: Record<string, unknown>) => ({
      __CLASS: "Msvm_VirtualSystemExportSettingData",
      CopySnapshotConfiguration: 3,
      SnapshotVirtualSystem: cp.__PATH,
      CopyVmStorage: false,
      CopyVmRuntimeInformation: false,
      CreateVmExportSubdirectory: false,
      BackupIntent: 1,
      ...extra,
    });
    const files = (d: string) => fs.readdirSync(d, { recursive: true }).map(String).filter((f) => /\.a?vhdx$/.test(f));
    const plain = path.join(lab.dir, "exp1");
    expect((await call(lab, vmms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "a"), ExportDirectory: plain, ExportSettingData: esd({}) })).job?.["JobState"]).toBe(7);
    expect(files(plain)).toEqual([expect.stringMatching(/^Virtual Hard Disks[\\/]a_.*\.avhdx$/)]);
    const disabled = path.join(lab.dir, "exp2");
    expect((await call(lab, vmms, "ExportSystemDefinition", { ComputerSystem: vmPath(lab, "a"), ExportDirectory: disabled, ExportSettingData: esd({ DisableDifferentialOfIgnoredStorage: true }) })).job?.["JobState"]).toBe(7);
    expect(files(disabled)).toEqual([]);
    // BackupIntent takes 0 or 1 only (class page).
    expect(lab.session.invokeMethodSync(vmms, "ExportSystemDefinition", asText(lab, { ComputerSystem: vmPath(lab, "a"), ExportDirectory: path.join(lab.dir, "exp3"), ExportSettingData: esd({ BackupIntent: 2 }) })).ReturnValue).toBe(32773);
  });
});
