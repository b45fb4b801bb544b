import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { describe, expect, it } from "vitest";
import { addFault } from "../../../src/lab/mod";
import { embeddedInstance } from "../../../src/cim/mod";
import { readLabState, mutateLab } from "../../../src/lab/mod";
import { addVm, call, newLab, one, servicePath, snapshotSettings, vmPath } from "../../support/lab";

describe("Msvm_ConcreteJob", () => {
  it("runs (JobState 4, growing PercentComplete) for the job duration, then completes (7, 100%)", async () => {
    const lab = newLab({ jobDurationMs: 400 });
    addVm(lab, { name: "a" });
    const r = lab.session.invokeMethodSync(servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", {
      AffectedSystem: vmPath(lab, "a"),
      SnapshotType: 32768,
      SnapshotSettings: snapshotSettings(2),
    });
    expect(r.ReturnValue).toBe(4096);
    const job1 = lab.session.getInstanceSync(String(r["Job"]));
    expect(job1["JobState"]).toBe(4);
    expect(Number(job1["PercentComplete"])).toBeLessThan(100);
    await new Promise((res) => setTimeout(res, 500));
    const job2 = lab.session.getInstanceSync(String(r["Job"]));
    expect(job2["JobState"]).toBe(7);
    expect(job2["PercentComplete"]).toBe(100);
    expect(job2["ErrorCode"]).toBe(0);
    expect(job2["TimeBeforeRemoval"]).toBe("00000000000500.000000:000");
  });

  it("is purged TimeBeforeRemoval (5 minutes) after it finished", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2 });
    const path = w.job!.__PATH;
    const t0 = Date.now();
    lab.session.now = () => t0 + 4 * 60_000;
    expect(lab.session.getInstanceSync(path)["JobState"]).toBe(7);
    lab.session.now = () => t0 + 6 * 60_000;
    expect(() => lab.session.getInstanceSync(path)).toThrow(/Cannot find instance/);
    expect(lab.session.querySync("SELECT * FROM Msvm_ConcreteJob")).toHaveLength(0);
  });

  it("the sweep that removes purged jobs' files also removes temp files a killed writer left in the jobs folder (a live writer's stay)", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const w = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2 });
    const jobs = nodePath.join(lab.dir, "jobs");
    const jobFiles = () => fs.readdirSync(jobs).filter((n) => n.endsWith(".json") && !n.startsWith("."));
    expect(jobFiles()).toHaveLength(1);
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const deadTemp = nodePath.join(jobs, `.${w.job!["InstanceID"]}.json.partial-${dead}`);
    const liveTemp = nodePath.join(jobs, `.${w.job!["InstanceID"]}.json.partial-${process.pid}`);
    fs.writeFileSync(deadTemp, "{");
    fs.writeFileSync(liveTemp, "{");
    const t0 = Date.now();
    lab.session.now = () => t0 + 6 * 60_000;
    // Any method call asks for the sweep; it is due once the job is past its removal time.
    await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2 });
    expect(fs.existsSync(deadTemp)).toBe(false);
    expect(fs.existsSync(liveTemp)).toBe(true);
    expect(jobFiles()).toHaveLength(1); // the purged job's file went, the new job's is there
  });
});

describe("fault injection", () => {
  it("makes the next K calls of a method return the given code, then behaves again", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    mutateLab(lab.dir, (s) => addFault(s, { method: "CreateSnapshot", code: 32775, times: 2 }));
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const args = { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768, SnapshotSettings: snapshotSettings(1) };
    expect((await call(lab, svc, "CreateSnapshot", args)).result.ReturnValue).toBe(32775);
    expect((await call(lab, svc, "CreateSnapshot", args)).result.ReturnValue).toBe(32775);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
    expect((await call(lab, svc, "CreateSnapshot", args)).job?.["JobState"]).toBe(7);
    expect(readLabState(lab.dir).faults).toHaveLength(0);
  });

  it("fails a job at a given percentage with the given ErrorCode and commits nothing", async () => {
    const lab = newLab({ jobDurationMs: 200 });
    addVm(lab, { name: "a" });
    mutateLab(lab.dir, (s) => addFault(s, { method: "CreateSnapshot", code: 32768, times: 1, atPercent: 50 }));
    const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", {
      AffectedSystem: vmPath(lab, "a"),
      SnapshotType: 32768,
    });
    expect(w.result.ReturnValue).toBe(4096);
    expect(w.job?.["JobState"]).toBe(10);
    expect(w.job?.["PercentComplete"]).toBe(50);
    expect(w.job?.["ErrorCode"]).toBe(32768);
    expect(w.affected).toHaveLength(0);
    expect(readLabState(lab.dir).snapshots).toHaveLength(0);
  });
});

describe("RequestStateChange", () => {
  it("moves a VM through Running, Paused, Saved and Off, and refuses transitions that do not apply (32775)", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const vm = vmPath(lab, "a");
    const go = async (s: number) => (await call(lab, vm, "RequestStateChange", { RequestedState: s })).result.ReturnValue;
    const state = () => lab.session.getInstanceSync(vm)["EnabledState"];
    expect(await go(2)).toBe(32775); // already running
    expect(await go(9)).toBe(4096);
    expect(state()).toBe(9);
    expect(await go(32777)).toBe(4096);
    expect(state()).toBe(2);
    expect(await go(6)).toBe(4096);
    expect(state()).toBe(6);
    expect(await go(3)).toBe(4096);
    expect(state()).toBe(3);
    expect(await go(9)).toBe(32775);
    expect(await go(4)).toBe(32775); // Shut Down is V1-only
    const host = one(lab.session.querySync("SELECT * FROM Msvm_ComputerSystem WHERE Caption='Hosting Computer System'"));
    expect((await call(lab, host.__PATH, "RequestStateChange", { RequestedState: 3 })).result.ReturnValue).toBe(32770);
  });
});

describe("Msvm_ConcreteJob.GetErrorEx", () => {
  it("returns an embedded Msvm_Error for a failed job and null for a good one", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    mutateLab(lab.dir, (s) => addFault(s, { method: "CreateSnapshot", code: 32768, times: 1, atPercent: 30 }));
    const svc = servicePath(lab, "Msvm_VirtualSystemSnapshotService");
    const bad = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768 });
    expect(bad.job?.["OperationalStatus"]).toEqual([6, 17]);
    const e = lab.session.invokeMethodSync(bad.job!.__PATH, "GetErrorEx", {});
    expect(e.ReturnValue).toBe(0);
    const errors = (e["Errors"] as unknown[]).map((x) => embeddedInstance(x, "Errors"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ __CLASS: "Msvm_Error", MessageID: "32768" });
    const good = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768 });
    expect(lab.session.invokeMethodSync(good.job!.__PATH, "GetErrorEx", {})["Errors"]).toBeNull();
    expect(() => lab.session.invokeMethodSync(good.job!.__PATH, "KillJob", {})).toThrow(/does not emulate/);
  });
});
