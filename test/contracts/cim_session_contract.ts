/**
 * The CimSession seam's contract, in the style of restic's internal/backend/test/suite.go: one
 * suite of behaviours, each asserted once, run against every implementation of the seam. An
 * implementation joins by calling {@link describeCimSessionContract} with a factory that builds
 * the minimal host below (see lab.contract.test.ts and fake.contract.test.ts).
 *
 * The minimal host: one VM named {@link CONTRACT_VM} with one disk, i.e.
 * - Msvm_ComputerSystem instances (the host and the VM, ElementName = CONTRACT_VM);
 * - the VM's realized Msvm_VirtualSystemSettingData, reached from the VM through
 *   Msvm_SettingsDefineState, and its Msvm_StorageAllocationSettingData (HostResource[0] = disk);
 * - Msvm_ImageManagementService.GetVirtualHardDiskState(Path) answering 0 with out-parameter State,
 *   and CimInvalidParameter for a Path that is not a string;
 * - Msvm_VirtualSystemSnapshotService.CreateSnapshot(AffectedSystem, ...) answering 4096 with a
 *   Job that runs to 7 Completed, or to 10 Exception once `failNextJob` armed a failure.
 *
 * A real transport runs the same behaviours on Windows: the Pester suite (test/pester) drives
 * the module's transport against a Hyper-V host and asserts these same points — WQL with
 * WHERE, getInstance / WBEM_E_NOT_FOUND, ASSOCIATORS OF with AssocClass/ResultClass, ReturnValue
 * and out-parameters, WBEM_E_INVALID_CLASS / _METHOD / _PARAMETER, a 4096 Job followed to its end
 * and a failed job's ErrorCode/ErrorDescription. Keep the two lists in step when either changes.
 */
import { describe, expect, it } from "vitest";
import { HvbError } from "../../src/base/mod";
import { JOB_STARTED, JobState, embeddedInstance, toCimDtd20, waitForJob, type CimErrorCode, type CimInstance, type CimSession } from "../../src/cim/mod";

/** ElementName of the one VM of the minimal host. */
export const CONTRACT_VM = "contract-vm";

/** What a factory hands the suite: a session over a fresh minimal host, and its one test hook. */
export interface ContractHost {
  session: CimSession;
  /** Makes the next call of `method` start a job that ends 10 Exception with `errorCode`. */
  failNextJob(method: string, errorCode: number): void | Promise<void>;
}

async function rejectsWith(p: Promise<unknown>, code: CimErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  // The code is the contract; the class need not be CimError (WQL parse errors are HvbErrors).
  expect(err, `expected an HvbError ${code}`).toBeInstanceOf(HvbError);
  expect((err as HvbError).code).toBe(code);
}

function only(rows: CimInstance[]): CimInstance {
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function vmOf(session: CimSession): Promise<CimInstance> {
  return only(await session.query(`SELECT * FROM Msvm_ComputerSystem WHERE ElementName='${CONTRACT_VM}'`));
}

async function serviceOf(session: CimSession, className: string): Promise<string> {
  return only(await session.query(`SELECT * FROM ${className}`)).__PATH;
}

async function diskOf(session: CimSession): Promise<string> {
  const vm = await vmOf(session);
  const vssd = only(await session.associators(vm.__PATH, { assocClass: "Msvm_SettingsDefineState", resultClass: "Msvm_VirtualSystemSettingData" }));
  const sasd = only(await session.associators(vssd.__PATH, { resultClass: "Msvm_StorageAllocationSettingData" }));
  return (sasd["HostResource"] as string[])[0]!;
}

async function createSnapshot(session: CimSession): Promise<string> {
  const vm = await vmOf(session);
  const r = await session.invokeMethod(await serviceOf(session, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", {
    AffectedSystem: vm.__PATH,
    // As WMI carries it: CIM-DTD 2.0 text typed by the host's own schema of the class.
    SnapshotSettings: toCimDtd20(await session.getClass("Msvm_VirtualSystemSnapshotSettingData"), { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 2, IgnoreNonSnapshottableDisks: true }),
    SnapshotType: 2,
  });
  expect(r.ReturnValue).toBe(JOB_STARTED);
  expect(typeof r["Job"]).toBe("string");
  return String(r["Job"]);
}

/** Declares the seam's contract suite against the sessions `makeHost` builds (one per test). */
export function describeCimSessionContract(name: string, makeHost: () => ContractHost | Promise<ContractHost>): void {
  describe(`CimSession contract: ${name}`, () => {
    it("query returns every instance of a class, and WHERE narrows it", async () => {
      const { session } = await makeHost();
      const all = await session.query("SELECT * FROM Msvm_ComputerSystem");
      expect(all.length).toBeGreaterThanOrEqual(2);
      for (const i of all) expect(i.__CLASS).toBe("Msvm_ComputerSystem");
      const vm = await vmOf(session);
      expect(vm["ElementName"]).toBe(CONTRACT_VM);
      expect(typeof vm.__PATH).toBe("string");
      expect(await session.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='no-such-vm'")).toEqual([]);
    });

    it("query of a class the host does not serve fails CimInvalidClass; bad WQL fails CimInvalidQuery", async () => {
      const { session } = await makeHost();
      await rejectsWith(session.query("SELECT * FROM Msvm_NoSuchClass"), "CimInvalidClass");
      await rejectsWith(session.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='x"), "CimInvalidQuery");
    });

    it("getInstance reads an instance by path, and a missing one fails CimNotFound", async () => {
      const { session } = await makeHost();
      const vm = await vmOf(session);
      const again = await session.getInstance(vm.__PATH);
      expect(again.__CLASS).toBe("Msvm_ComputerSystem");
      expect(again["ElementName"]).toBe(CONTRACT_VM);
      const missing = vm.__PATH.replace(String(vm["Name"]), "00000000-0000-0000-0000-000000000000");
      expect(missing).not.toBe(vm.__PATH);
      await rejectsWith(session.getInstance(missing), "CimNotFound");
    });

    it("associators filter by assocClass and resultClass", async () => {
      const { session } = await makeHost();
      const vm = await vmOf(session);
      const vssd = only(await session.associators(vm.__PATH, { assocClass: "Msvm_SettingsDefineState" }));
      expect(vssd.__CLASS).toBe("Msvm_VirtualSystemSettingData");
      expect(await session.associators(vm.__PATH, { assocClass: "Msvm_SettingsDefineState", resultClass: "Msvm_StorageAllocationSettingData" })).toEqual([]);
      const sasd = only(await session.associators(vssd.__PATH, { resultClass: "Msvm_StorageAllocationSettingData" }));
      expect(sasd["HostResource"]).toEqual([expect.any(String)]);
    });

    it("invokeMethod answers ReturnValue with the out-parameters", async () => {
      const { session } = await makeHost();
      const r = await session.invokeMethod(await serviceOf(session, "Msvm_ImageManagementService"), "GetVirtualHardDiskState", { Path: await diskOf(session) });
      expect(r.ReturnValue).toBe(0);
      // Embedded out-parameters come back as CIM-DTD 2.0 text, numbers typed, as real WMI returns them.
      expect(typeof r["State"]).toBe("string");
      expect(embeddedInstance(r["State"], "State")).toMatchObject({ __CLASS: "Msvm_VirtualHardDiskState", FileSize: expect.any(Number), InUse: expect.any(Boolean) });
    });

    it("getClass answers the host's schema; a property the class lacks cannot be written, an unknown class rejects", async () => {
      const { session } = await makeHost();
      const schema = await session.getClass("msvm_virtualsystemsnapshotsettingdata");
      expect(schema.className).toBe("Msvm_VirtualSystemSnapshotSettingData");
      expect(schema.properties).toContainEqual({ name: "ConsistencyLevel", type: "uint8", isArray: false });
      expect(() => toCimDtd20(schema, { __CLASS: schema.className, NoSuchProperty: 1 })).toThrow(/Not found/);
      expect(() => toCimDtd20(schema, { __CLASS: schema.className, ConsistencyLevel: 300 })).toThrow(/Type mismatch/);
      await rejectsWith(session.getClass("Msvm_NoSuchClass"), "CimInvalidClass");
    });

    it("an unknown class, method or ill-typed parameter rejects the call with its CimErrorCode", async () => {
      const { session } = await makeHost();
      const ims = await serviceOf(session, "Msvm_ImageManagementService");
      await rejectsWith(session.invokeMethod(ims.replace(/Msvm_ImageManagementService/g, "Msvm_NoSuchService"), "GetVirtualHardDiskState", {}), "CimInvalidClass");
      await rejectsWith(session.invokeMethod(ims, "NoSuchMethod", {}), "CimInvalidMethod");
      await rejectsWith(session.invokeMethod(ims, "GetVirtualHardDiskState", { Path: 42 }), "CimInvalidParameter");
    });

    it("a method answering 4096 hands back a Job that waitForJob follows to 7 Completed", async () => {
      const { session } = await makeHost();
      const seen: number[] = [];
      const job = await waitForJob(session, await createSnapshot(session), { pollMs: 1, onProgress: (j) => seen.push(Number(j["JobState"])) });
      expect(job.__CLASS).toBe("Msvm_ConcreteJob");
      expect(job["JobState"]).toBe(JobState.Completed);
      expect(Number(job["ErrorCode"] ?? 0)).toBe(0);
      expect(seen[seen.length - 1]).toBe(JobState.Completed);
    });

    it("a failed job ends in Exception with ErrorCode and ErrorDescription", async () => {
      const host = await makeHost();
      await host.failNextJob("CreateSnapshot", 32768);
      const job = await waitForJob(host.session, await createSnapshot(host.session), { pollMs: 1 });
      expect(job["JobState"]).toBe(JobState.Exception);
      expect(job["ErrorCode"]).toBe(32768);
      expect(String(job["ErrorDescription"] ?? "")).not.toBe("");
    });
  });
}
