/**
 * Merges happen while their job runs (issue 13 B; src/lab/host/pending_merges.ts): until a
 * DestroySnapshot's or ConvertToReferencePoint's job completes, the host still lists the
 * checkpoint, the VM still runs on its .avhdx (guest writes land there and are merged), and the
 * reference point does not exist; a terminated merge, or one a host crash ends, leaves the
 * checkpoint as it was. A client that acted on the result before the job completed would fail
 * here.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { crashHost, createGroup, guestWriteInLab, mutateLab, readLabState } from "../../../src/lab/mod";
import { addVm, allChanges, call, invoke, jobState, untilEnded, MiB, newLab, one, readBytes, recoveryCheckpoint, servicePath, snapshotSettings, type TestLab } from "../../support/lab";

const SNAP_SVC = "Msvm_VirtualSystemSnapshotService";
const RECOVERY = "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'";


/** The file VM `name`'s first disk runs on now, as the lab records it. */
function runningOn(lab: TestLab, name: string): string {
  return readLabState(lab.dir).vms.find((v) => v.name === name)!.disks[0]!.path;
}

function setJobMs(lab: TestLab, ms: number): void {
  mutateLab(lab.dir, (s) => void (s.config.jobDurationMs = ms));
}

describe("merges happen while their job runs", () => {
  it("ConvertToReferencePoint: until its job completes the checkpoint, its .avhdx and the VM on it stay and a guest write lands in the merge; the first read after it completes sees the reference point and no .avhdx", async () => {
    const lab = newLab({ jobDurationMs: 0 });
    addVm(lab, { name: "a" });
    const cp = await recoveryCheckpoint(lab, "a");
    const base = readLabState(lab.dir).snapshots[0]!.disks[0]!.path;
    const avhdx = runningOn(lab, "a");
    expect(avhdx).not.toBe(base);

    // The session's clock stands still while the job runs, then jumps past its end.
    setJobMs(lab, 60_000);
    const t0 = Date.now();
    lab.session.now = () => t0;
    const merge = invoke(lab, servicePath(lab, SNAP_SVC), "ConvertToReferencePoint", { AffectedSnapshot: cp.__PATH });
    expect(merge["ReturnValue"]).toBe(4096);

    // While it runs: everything as before the merge, and the VM keeps writing to the .avhdx.
    guestWriteInLab(lab.dir, "a", 0, 3 * MiB, 64 * 1024, "during-the-merge");
    const written = readBytes(avhdx, 3 * MiB, 64 * 1024);
    expect(jobState(lab, merge["Job"])).toBe(4);
    expect(lab.session.querySync(RECOVERY).map((s) => s["InstanceID"])).toEqual([cp["InstanceID"]]);
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemReferencePoint")).toHaveLength(0);
    expect(fs.existsSync(avhdx)).toBe(true);
    expect(runningOn(lab, "a")).toBe(avhdx);

    // After its end, before anyone asks about the job: the first query sees the merge done.
    lab.session.now = () => t0 + 61_000;
    expect(lab.session.querySync(RECOVERY)).toHaveLength(0);
    expect(fs.existsSync(avhdx)).toBe(false);
    expect(runningOn(lab, "a")).toBe(base);
    expect(jobState(lab, merge["Job"])).toBe(7);
    const rp = one(lab.session.associatorsSync(String(merge["Job"]), { assocClass: "CIM_AffectedJobElement", resultClass: "Msvm_VirtualSystemReferencePoint" }));
    expect(one(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemReferencePoint"))["InstanceID"]).toBe(rp["InstanceID"]);
    // The write made during the merge is in the base disk, and it counts as a change since the reference point.
    expect(Buffer.from(readBytes(base, 3 * MiB, 64 * 1024)).equals(Buffer.from(written))).toBe(true);
    const rctId = (rp["ResilientChangeTrackingIdentifiers"] as string[])[0]!;
    const changes = allChanges(lab, base, rctId, 16 * MiB);
    expect(changes.code).toBe(0);
    expect(changes.ranges.some(([o, l]) => o <= 3 * MiB && o + l >= 3 * MiB + 64 * 1024)).toBe(true);
  });

  it("a DestroySnapshot terminated while it merges leaves the checkpoint, its .avhdx and the data as they were; the next DestroySnapshot merges it", async () => {
    const lab = newLab({ jobDurationMs: 0, jobTerminateMs: 50 });
    addVm(lab, { name: "a" });
    guestWriteInLab(lab.dir, "a", 0, 0, 64 * 1024, "before");
    const cp = await recoveryCheckpoint(lab, "a");
    const avhdx = runningOn(lab, "a");
    guestWriteInLab(lab.dir, "a", 0, 0, 64 * 1024, "after-the-checkpoint");
    const current = readBytes(avhdx, 0, 64 * 1024);

    setJobMs(lab, 60_000);
    const destroy = invoke(lab, servicePath(lab, SNAP_SVC), "DestroySnapshot", { AffectedSnapshot: cp.__PATH });
    expect(destroy["ReturnValue"]).toBe(4096);
    expect(invoke(lab, String(destroy["Job"]), "RequestStateChange", { RequestedState: 4 })["ReturnValue"]).toBe(0);
    expect(await untilEnded(lab, destroy["Job"])).toBe(8);
    expect(lab.session.querySync(RECOVERY).map((s) => s["InstanceID"])).toEqual([cp["InstanceID"]]);
    expect(fs.existsSync(avhdx)).toBe(true);
    expect(runningOn(lab, "a")).toBe(avhdx);
    expect(readLabState(lab.dir).pendingMerges).toBeUndefined();

    setJobMs(lab, 0);
    const again = await call(lab, servicePath(lab, SNAP_SVC), "DestroySnapshot", { AffectedSnapshot: cp.__PATH });
    expect(again.job?.["JobState"]).toBe(7);
    expect(lab.session.querySync(RECOVERY)).toHaveLength(0);
    expect(fs.existsSync(avhdx)).toBe(false);
    expect(Buffer.from(readBytes(runningOn(lab, "a"), 0, 64 * 1024)).equals(Buffer.from(current))).toBe(true);
  });

  it("a host crash during a merge ends the job and leaves the checkpoint; a merge whose job had completed before the crash is done", async () => {
    const lab = newLab({ jobDurationMs: 0 });
    addVm(lab, { name: "a" });
    addVm(lab, { name: "b" });
    const cpA = await recoveryCheckpoint(lab, "a");
    const cpB = await recoveryCheckpoint(lab, "b");
    const svc = servicePath(lab, SNAP_SVC);
    setJobMs(lab, 60_000);
    const t0 = Date.now();
    lab.session.now = () => t0;
    expect(invoke(lab, svc, "DestroySnapshot", { AffectedSnapshot: cpB.__PATH })["ReturnValue"]).toBe(4096);
    lab.session.now = () => t0 + 30_000;
    expect(invoke(lab, svc, "DestroySnapshot", { AffectedSnapshot: cpA.__PATH })["ReturnValue"]).toBe(4096);
    // At t0 + 61 s, b's job has completed unobserved and a's still runs when the host crashes.
    mutateLab(lab.dir, (s) => crashHost(s, t0 + 61_000), () => t0 + 61_000);
    lab.session.now = () => t0 + 61_000;
    expect(lab.session.querySync(RECOVERY).map((s) => s["InstanceID"])).toEqual([cpA["InstanceID"]]);
    expect(readLabState(lab.dir).pendingMerges).toBeUndefined();
  });

  it("a group's ConvertToReferencePoint: every member keeps its checkpoint until the job completes, then the reference point collection and each member's reference point exist", async () => {
    const lab = newLab({ jobDurationMs: 0 });
    for (const n of ["a", "b"]) addVm(lab, { name: n });
    mutateLab(lab.dir, (s) => createGroup(s, "g", ["a", "b"], Date.now()));
    const group = one(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemCollection WHERE ElementName='g'")).__PATH;
    const collSvc = servicePath(lab, "Msvm_CollectionSnapshotService");
    const taken = await call(lab, collSvc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(1), SnapshotType: 2 });
    expect(taken.job?.["JobState"]).toBe(7);

    setJobMs(lab, 60_000);
    const t0 = Date.now();
    lab.session.now = () => t0;
    const merge = invoke(lab, collSvc, "ConvertToReferencePoint", { AffectedSnapshotCollection: taken.result["ResultingSnapshotCollection"] });
    expect(merge["ReturnValue"]).toBe(4096);
    const resulting = String(merge["ResultingReferencePointCollection"]);
    expect(lab.session.querySync(RECOVERY)).toHaveLength(2);
    expect(lab.session.querySync("SELECT * FROM Msvm_ReferencePointCollection")).toHaveLength(0);
    expect(() => lab.session.getInstanceSync(resulting)).toThrow();

    lab.session.now = () => t0 + 61_000;
    expect(jobState(lab, merge["Job"])).toBe(7);
    expect(lab.session.querySync(RECOVERY)).toHaveLength(0);
    expect(lab.session.getInstanceSync(resulting).__CLASS).toBe("Msvm_ReferencePointCollection");
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemReferencePoint")).toHaveLength(2);
  });
});
