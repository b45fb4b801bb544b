/**
 * Jobs where the docs allow them, and long merges (issue 13 A2, A6), on the lab in process:
 * queries answered with a job (with or without their data), a job that stops moving, and a
 * job stopped by the user.
 */
import { describe, expect, it } from "vitest";
import type { CimSession } from "../../../src/cim/mod";
import { HyperVClient, HyperVMethodError, rctIdAt } from "../../../src/hyperv/mod";
import { mutateLab, readLabState } from "../../../src/lab/mod";
import { GUEST_VSS_DETAIL } from "../../../src/lab/mod";
import { MiB, addVm, newLab } from "../../support/lab";

/** Counts method calls and their ReturnValues. */
function recording(inner: CimSession, log: Array<{ method: string; returnValue: number }>): CimSession {
  return {
    query: (w) => inner.query(w),
    getInstance: (p) => inner.getInstance(p),
    getClass: (c) => inner.getClass(c),
    associators: (p, o) => inner.associators(p, o),
    invokeMethod: async (p, m, a) => {
      const r = await inner.invokeMethod(p, m, a);
      log.push({ method: m, returnValue: r.ReturnValue });
      return r;
    },
  };
}

describe("jobs where the docs allow them", () => {
  it("reads disk settings and changed ranges when every query answers 4096 + Job, with or without its data", async () => {
    const lab = newLab({ jobShare: 100, jobDurationMs: 5, seed: 99 });
    addVm(lab, { name: "a", diskSizes: [32 * MiB] });
    const log: Array<{ method: string; returnValue: number }> = [];
    const hv = new HyperVClient(recording(lab.session, log), { pollMs: 1 });
    const vm = await hv.findVm("a");
    const rp = await hv.convertToReferencePoint(await hv.createRecoveryCheckpoint(vm, "crash"));
    const cp = await hv.createRecoveryCheckpoint(await hv.refreshVm(vm), "crash");
    const disk = cp.disks[0]!;
    expect((await hv.getVhdSettings(disk.path)).virtualSize).toBe(32 * MiB);
    expect(await hv.getChangedRanges(disk.path, rctIdAt(rp, disk.location)!)).toEqual([]);
    const queries = log.filter((c) => c.method === "GetVirtualDiskChanges" || c.method === "GetVirtualHardDiskSettingData");
    // Every first ask was answered with a job; some of them without data, asked again.
    expect(queries.some((c) => c.returnValue === 4096)).toBe(true);
    expect(queries.length).toBeGreaterThan(queries.filter((c) => c.returnValue === 4096).length);
    await hv.destroyCheckpoint(cp);
  });
});

describe("long jobs", () => {
  it("waits on a job that keeps moving, and gives up only on one that stops moving, naming it", async () => {
    const lab = newLab({ jobDurationMs: 400 });
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    // Moving for 400 ms with a 150 ms stall period: completes.
    const patient = new HyperVClient(lab.session, { pollMs: 5, jobStallMs: 150 });
    const vm = await patient.findVm("a");
    const cp = await patient.createRecoveryCheckpoint(vm, "crash");
    mutateLab(lab.dir, (s) => {
      s.config.stallMethods = ["ConvertToReferencePoint"];
    });
    const e = (await patient.convertToReferencePoint(cp).catch((x: unknown) => x)) as HyperVMethodError;
    expect(e).toBeInstanceOf(HyperVMethodError);
    expect(e.code).toBe("HyperVJobTimeout");
    expect(e.message).toMatch(/made no progress for 150 ms \(still Running at 50%; it may yet finish: '.*Msvm_ConcreteJob/);
    expect(e.jobPath).toBeDefined();
    // The job is still there, still running: the client only stopped waiting.
    expect((await lab.session.getInstance(e.jobPath!))["JobState"]).toBe(4);
  });

  it("terminates the job it waits for when the user stops the run (RequestStateChange 4)", async () => {
    const lab = newLab({ jobDurationMs: 50, stallMethods: ["ConvertToReferencePoint"] });
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    const cancel = { requested: false };
    const hv = new HyperVClient(lab.session, { pollMs: 5, cancel });
    const cp = await hv.createRecoveryCheckpoint(await hv.findVm("a"), "crash");
    const waiting = hv.convertToReferencePoint(cp).catch((x: unknown) => x);
    while (!readLabState(lab.dir).jobs.list().some((j) => j.method === "ConvertToReferencePoint")) await new Promise((r) => setTimeout(r, 5));
    cancel.requested = true;
    const e = (await waiting) as HyperVMethodError;
    expect(e.code).toBe("HyperVJobCancelled");
    // Shutting Down (6) while it stops (lab `jobTerminateMs`), then Terminated (8).
    expect([6, 8]).toContain((await lab.session.getInstance(e.jobPath!))["JobState"]);
    while ((await lab.session.getInstance(e.jobPath!))["JobState"] !== 8) await new Promise((r) => setTimeout(r, 20));
    // Delivered once: the next call (e.g. the cleanup) runs normally.
    expect(cancel.requested).toBe(false);
  });

  it("a stop that comes while a job ends on its own is not carried over to the next job (the cleanup's merge completes and the checkpoint goes)", async () => {
    const lab = newLab({ jobDurationMs: 30 });
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    const cancel: { requested: boolean; waiting?: number } = { requested: false };
    // The stop comes on the last progress report of CreateSnapshot's job, the poll that sees it completed.
    const hv = new HyperVClient(lab.session, {
      pollMs: 5,
      cancel,
      onJobProgress: (percent) => {
        if (percent === 100 && (cancel.waiting ?? 0) > 0) cancel.requested = true;
      },
    });
    const cp = await hv.createRecoveryCheckpoint(await hv.findVm("a"), "crash");
    // The run's cleanup: its DestroySnapshot must merge, not be terminated (a terminated merge leaves the checkpoint).
    await hv.destroyCheckpoint(cp);
    const jobs = readLabState(lab.dir).jobs.list().filter((j) => j.method === "DestroySnapshot");
    expect(jobs.map((j) => j.terminatedAt)).toEqual([undefined]);
    expect(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toEqual([]);
  });
});

describe("failure detail (issue 13 A11)", () => {
  it("brings the reason GetErrorEx gives (the guest VSS writer's) into the error the user sees", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    mutateLab(lab.dir, (s) => {
      s.vms[0]!.integration = "failing";
    });
    const hv = new HyperVClient(lab.session, { pollMs: 1 });
    const e = (await hv.createRecoveryCheckpoint(await hv.findVm("a"), "application").catch((x: unknown) => x)) as HyperVMethodError;
    expect(e).toBeInstanceOf(HyperVMethodError);
    expect(e.jobErrors).toEqual([GUEST_VSS_DETAIL]);
    expect(e.message).toContain(`; ${GUEST_VSS_DETAIL})`);
    expect(e.message).toContain(String(e.jobErrorDescription));
  });
});

