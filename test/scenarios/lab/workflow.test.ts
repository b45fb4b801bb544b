/**
 * The backup workflow of the reference (§13.1, §13.2) driven through the async CimSession API
 * and cim.ts's waitForJob: full, then incrementals built only from GetVirtualDiskChanges, with
 * a live migration and a host crash in between. Every reconstructed point must equal, byte
 * for byte, what the checkpoint's frozen disk holds.
 */
import { describe, expect, it } from "vitest";
import { jobSucceeded, waitForJob, type CimInstance } from "../../../src/cim/mod";
import { crashHost, guestWrite, migrateVm, setVmState } from "../../../src/lab/mod";
import { vmByName } from "../../../src/lab/mod";
import { mutateLab } from "../../../src/lab/mod";
import { addVm, asText, MiB, newLab, one, readBytes, type TestLab } from "../../support/lab";

const SIZE = 16 * MiB;

async function invokeAndWait(lab: TestLab, path: string, method: string, args: Record<string, unknown>): Promise<CimInstance[]> {
  const r = await lab.session.invokeMethod(path, method, asText(lab, args));
  if (r.ReturnValue === 0) return [];
  expect(r.ReturnValue).toBe(4096);
  const job = await waitForJob(lab.session, String(r["Job"]), { pollMs: 5, timeoutMs: 10_000 });
  expect(jobSucceeded(job), String(job["ErrorDescription"])).toBe(true);
  return lab.session.associators(job.__PATH, { assocClass: "CIM_AffectedJobElement" });
}

describe("backup workflow over the seam", () => {
  it("full + RCT incrementals reconstruct every checkpoint exactly, across migration and crash", async () => {
    const lab = newLab({ jobDurationMs: 20 });
    addVm(lab, { name: "web01", diskSizes: [SIZE] });
    const [vm] = await lab.session.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='web01'");
    const [snapSvc] = await lab.session.query("SELECT * FROM Msvm_VirtualSystemSnapshotService");
    const [ims] = await lab.session.query("SELECT * FROM Msvm_ImageManagementService");
    const [rpSvc] = await lab.session.query("SELECT * FROM Msvm_VirtualSystemReferencePointService");
    let seed = 0;
    const randomWrites = (n: number) =>
      mutateLab(lab.dir, (s) => {
        for (let i = 0; i < n; i++) {
          const offset = ((seed * 7919) % (SIZE / 512 - 200)) * 512 + (seed % 3) * 100;
          guestWrite(s, vmByName(s, "web01"), 0, offset, 512 * (1 + (seed % 150)), String(seed));
          seed++;
        }
      });

    let image: Uint8Array | undefined;
    let previousRp: CimInstance | undefined;
    const events = ["none", "migrate", "none", "crash", "none"];
    for (const [round, event] of events.entries()) {
      randomWrites(20);
      if (event === "migrate") mutateLab(lab.dir, (s) => migrateVm(s, vmByName(s, "web01")));
      if (event === "crash") {
        mutateLab(lab.dir, (s) => crashHost(s, Date.now()));
        mutateLab(lab.dir, (s) => setVmState(vmByName(s, "web01"), 2, Date.now()));
      }
      randomWrites(5);
      const created = await invokeAndWait(lab, snapSvc!.__PATH, "CreateSnapshot", {
        AffectedSystem: vm!.__PATH,
        SnapshotSettings: { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: 1, IgnoreNonSnapshottableDisks: true },
        SnapshotType: 32768,
      });
      const snap = one(created.filter((x) => x.__CLASS === "Msvm_VirtualSystemSettingData"));
      randomWrites(3); // the guest keeps writing during the backup
      const sasd = one(await lab.session.associators(snap.__PATH, { resultClass: "Msvm_StorageAllocationSettingData" }));
      const frozen = (sasd["HostResource"] as string[])[0]!;
      const truth = readBytes(frozen, 0, SIZE);
      if (!image || !previousRp) {
        image = truth.slice();
      } else {
        const limitId = (previousRp["ResilientChangeTrackingIdentifiers"] as string[])[0]!;
        let offset = 0;
        let changed = 0;
        while (offset < SIZE) {
          const r = await lab.session.invokeMethod(ims!.__PATH, "GetVirtualDiskChanges", {
            Path: frozen,
            LimitId: limitId,
            ByteOffset: offset,
            ByteLength: SIZE - offset,
          });
          expect(r.ReturnValue).toBe(0);
          const offs = r["ChangedByteOffsets"] as number[];
          const lens = r["ChangedByteLengths"] as number[];
          offs.forEach((o, i) => {
            image!.set(truth.subarray(o, o + lens[i]!), o);
            changed += lens[i]!;
          });
          offset += Number(r["ProcessedByteLength"]);
        }
        // Exact and .rct-grained answers stay small; after a crash the .mrt grain may cover it all.
        if (event !== "crash") expect(changed, `round ${round}`).toBeLessThan(SIZE / 2);
      }
      expect(Buffer.from(image).equals(Buffer.from(truth)), `round ${round} (${event})`).toBe(true);
      const converted = await invokeAndWait(lab, snapSvc!.__PATH, "ConvertToReferencePoint", { AffectedSnapshot: snap.__PATH });
      const rp = one(converted.filter((x) => x.__CLASS === "Msvm_VirtualSystemReferencePoint"));
      if (previousRp) await invokeAndWait(lab, rpSvc!.__PATH, "DestroyReferencePoint", { AffectedReferencePoint: previousRp.__PATH });
      previousRp = rp; // the next increment is relative to this checkpoint, which `image` now equals
    }
    expect(await lab.session.query("SELECT * FROM Msvm_VirtualSystemReferencePoint")).toHaveLength(1);
    expect(await lab.session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toHaveLength(0);
  });

  it("waitForJob gives up after its timeout and reports a purged job as not found", async () => {
    const lab = newLab({ jobDurationMs: 5_000 });
    addVm(lab, { name: "a" });
    const [vm] = await lab.session.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'");
    const r = await lab.session.invokeMethod(vm!.__PATH, "RequestStateChange", { RequestedState: 9 });
    await expect(waitForJob(lab.session, String(r["Job"]), { pollMs: 10, timeoutMs: 50 })).rejects.toThrow(/did not finish/);
    lab.session.now = () => Date.now() + 10 * 60_000;
    await expect(waitForJob(lab.session, String(r["Job"]))).rejects.toMatchObject({ code: "CimNotFound" });
  });
});
