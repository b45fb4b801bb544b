/**
 * The lab's jobs live in DIR/jobs/, one file each, committed with lab.json by its generation
 * (src/lab/host/job_store.ts): lab.json stays the same size however many jobs the host keeps,
 * and a process killed between a job file and lab.json leaves the lab as it was.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { crashHost, mutateLab, readLabState } from "../../../src/lab/mod";
import { addVm, call, cliAsync, cliOk, newLab, servicePath, snapshotSettings, vmPath } from "../../support/lab";

const SNAPSHOTS = "Msvm_VirtualSystemSnapshotService";

const jobFiles = (dir: string): string[] => (fs.existsSync(path.join(dir, "jobs")) ? fs.readdirSync(path.join(dir, "jobs")).filter((n) => !n.startsWith(".")) : []);
const labJsonSize = (dir: string): number => fs.statSync(path.join(dir, "lab.json")).size;

describe("jobs in files of their own", () => {
  it("keeps lab.json the same size however many jobs the host keeps, and still answers for every job", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, SNAPSHOTS);
    const vm = vmPath(lab, "a");
    const pair = async (): Promise<string[]> => {
      const made = await call(lab, svc, "CreateSnapshot", { AffectedSystem: vm, SnapshotType: 2, SnapshotSettings: snapshotSettings(2) });
      const gone = await call(lab, svc, "DestroySnapshot", { AffectedSnapshot: made.affected.find((i) => i.__CLASS === "Msvm_VirtualSystemSettingData")!.__PATH });
      return [made.job!.__PATH, gone.job!.__PATH];
    };
    const first = await pair();
    const size = labJsonSize(lab.dir);
    const paths = [...first];
    for (let i = 0; i < 20; i++) paths.push(...(await pair()));
    // Only counters grow (a digit or two); 40 more jobs in lab.json were about 40 × 600 bytes.
    expect(labJsonSize(lab.dir) - size).toBeLessThan(100);
    const text = fs.readFileSync(path.join(lab.dir, "lab.json"), "utf8");
    expect(JSON.parse(text)).not.toHaveProperty("jobs");
    // Jobs of 0 ms end as they start: none is listed as unfinished.
    expect(JSON.parse(text).jobFiles).not.toHaveProperty("unfinished");
    expect(jobFiles(lab.dir)).toHaveLength(42);
    expect(lab.session.querySync("SELECT * FROM Msvm_ConcreteJob")).toHaveLength(42);
    for (const p of paths) expect(lab.session.getInstanceSync(p)["JobState"]).toBe(7);
    expect(readLabState(lab.dir).jobs.list()).toHaveLength(42);
  });

  it("purges a job's file once its removal time has passed, and a host crash drops every job", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const svc = servicePath(lab, SNAPSHOTS);
    const args = { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2, SnapshotSettings: snapshotSettings(2) };
    const old = (await call(lab, svc, "CreateSnapshot", args)).job!.__PATH;
    expect(jobFiles(lab.dir)).toHaveLength(1);
    const t0 = Date.now();
    lab.session.now = () => t0 + 6 * 60_000;
    const young = (await call(lab, svc, "CreateSnapshot", args)).job!.__PATH;
    expect(() => lab.session.getInstanceSync(old)).toThrow(/Cannot find instance/);
    expect(jobFiles(lab.dir)).toEqual([`${String(lab.session.getInstanceSync(young)["InstanceID"])}.json`]);
    mutateLab(lab.dir, (s) => crashHost(s, Date.now()));
    expect(() => lab.session.getInstanceSync(young)).toThrow(/Cannot find instance/);
    expect(lab.session.querySync("SELECT * FROM Msvm_ConcreteJob")).toHaveLength(0);
    expect(jobFiles(lab.dir)).toHaveLength(0);
    // Jobs after the crash are there again.
    expect((await call(lab, svc, "CreateSnapshot", args)).job!["JobState"]).toBe(7);
    expect(lab.session.querySync("SELECT * FROM Msvm_ConcreteJob")).toHaveLength(1);
  });

  it("a damaged job file is named, with what the lab expected in it, never taken as no job", async () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    const made = await call(lab, servicePath(lab, SNAPSHOTS), "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 2, SnapshotSettings: snapshotSettings(2) });
    const id = String(made.job!["InstanceID"]);
    const file = path.join(lab.dir, "jobs", `${id}.json`);
    const good = fs.readFileSync(file, "utf8");
    const named = (text: string) => {
      fs.writeFileSync(file, text);
      expect(() => lab.session.getInstanceSync(made.job!.__PATH)).toThrow(`Cannot read lab job '${file}'`);
      expect(() => lab.session.querySync("SELECT * FROM Msvm_ConcreteJob")).toThrow(/expected \{"gen": <generation>, "job": <the job, its id '[0-9A-F-]{36}'>/);
    };
    named("{");
    named(JSON.stringify({ gen: 1 }));
    named(JSON.stringify({ ...JSON.parse(good), job: { ...JSON.parse(good).job, id: "8C1D2E3F-0000-4000-8000-000000000000" } }));
    named(JSON.stringify({ ...JSON.parse(good), before: { gen: "1" } }));
    fs.writeFileSync(file, good);
    expect(lab.session.getInstanceSync(made.job!.__PATH)["JobState"]).toBe(7);
  });

  it("a change of a job whose commit fails is put back whole: a reader whose lab.json predates the change before it still sees the job", () => {
    const lab = newLab();
    addVm(lab, { name: "a" });
    mutateLab(lab.dir, (s) => void (s.config.stallMethods = ["CreateSnapshot"]));
    const job = lab.session.invokeMethodSync(servicePath(lab, SNAPSHOTS), "CreateSnapshot", { AffectedSystem: vmPath(lab, "a"), SnapshotType: 32768 })["Job"];
    const id = String(lab.session.getInstanceSync(String(job))["InstanceID"]);
    const reader = readLabState(lab.dir);
    const change = (text: string) => mutateLab(lab.dir, (s) => s.jobs.save({ ...s.jobs.get(id)!, description: text }));
    change("changed once");
    // lab.json cannot be written (a folder where its temp file goes): the call fails and puts the job's file back.
    const blocker = path.join(lab.dir, `.lab.json.partial-${process.pid}`);
    fs.mkdirSync(blocker);
    expect(() => change("changed twice")).toThrow();
    fs.rmdirSync(blocker);
    expect(reader.jobs.get(id)?.description).toBe("Creating recovery checkpoint");
    expect(readLabState(lab.dir).jobs.get(id)?.description).toBe("changed once");
  });

  it("refuses a lab made by the previous format (jobs inside lab.json), naming what to do", () => {
    const lab = newLab();
    const file = path.join(lab.dir, "lab.json");
    const { jobFiles: _book, ...v1 } = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...v1, version: 1, jobs: [] }));
    expect(() => readLabState(lab.dir)).toThrow(/format version 1, jobs inside lab\.json.*hvbackup lab init/);
  });
});

describe("a process killed while it writes jobs", () => {
  function cliLab(): { dir: string; svc: string; vm: string } {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hvb-jobfiles-")), "lab");
    cliOk(["lab", "init", dir, "--job-ms", "50"]);
    cliOk(["lab", "vm", "new", "--lab", dir, "--name", "a", "--disk", "16MiB"]);
    const first = (wql: string): string => JSON.parse(cliOk(["lab", "cim", "query", "--lab", dir, wql]))[0].__PATH;
    return { dir, svc: first(`SELECT * FROM ${SNAPSHOTS}`), vm: first("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='a'") };
  }
  const jobs = (dir: string): Array<Record<string, unknown>> => JSON.parse(cliOk(["lab", "cim", "query", "--lab", dir, "SELECT * FROM Msvm_ConcreteJob"]));

  it("after its job file and before lab.json: the job and its work never happened, and the next call does not commit them", async () => {
    const { dir, svc, vm } = cliLab();
    const args = JSON.stringify({ AffectedSystem: vm, SnapshotType: 32768 });
    for (const point of ["lab.job-written", "lab.before-rename"]) {
      const r = await cliAsync(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", args], { ...process.env, HVBACKUP_CRASH_AT: point });
      expect(r.code, point).not.toBe(0);
      // The dead call's job file is there, but no commit names it.
      expect(jobFiles(dir)).toHaveLength(1);
      expect(readLabState(dir).snapshots).toHaveLength(0);
      expect(jobs(dir)).toHaveLength(0);
      expect(readLabState(dir).jobs.list()).toHaveLength(0);
    }
    // The next call (breaking the dead lock) rolls the dead call's file back before it commits its own job.
    const ok = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", args, "--wait"]));
    expect(ok.Job.JobState).toBe(7);
    expect(jobs(dir).map((j) => j["InstanceID"])).toEqual([ok.Job.InstanceID]);
    expect(jobFiles(dir)).toEqual([`${ok.Job.InstanceID}.json`]);
    expect(fs.existsSync(path.join(dir, "jobs", ".uncommitted.json"))).toBe(false);
    expect(readLabState(dir).snapshots).toHaveLength(1);
  });

  it("terminating a job: killed before lab.json, the job runs on; the next call terminates it", async () => {
    const { dir, svc, vm } = cliLab();
    cliOk(["lab", "jobs", "--lab", dir, "--stall", "CreateSnapshot"]);
    const started = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", JSON.stringify({ AffectedSystem: vm, SnapshotType: 32768 })]));
    const job = String(started.Job);
    const stop = ["lab", "cim", "invoke", "--lab", dir, "--path", job, "--method", "RequestStateChange", "--args", JSON.stringify({ RequestedState: 4 })];
    const killed = await cliAsync(stop, { ...process.env, HVBACKUP_CRASH_AT: "lab.job-written" });
    expect(killed.code).not.toBe(0);
    const running = JSON.parse(cliOk(["lab", "cim", "get", "--lab", dir, "--path", job]));
    expect(running.JobState).toBe(4);
    expect(running.PercentComplete).toBe(50);
    // lab.json lists the jobs that may still run, so asking which do reads only theirs.
    expect(readLabState(dir).jobFiles.unfinished).toEqual([{ id: running.InstanceID, endsAt: null }]);
    expect(readLabState(dir).jobs.unfinished(Date.now()).map((j) => j.id)).toEqual([running.InstanceID]);
    expect(JSON.parse(cliOk(stop)).ReturnValue).toBe(0);
    expect([6, 8]).toContain(JSON.parse(cliOk(["lab", "cim", "get", "--lab", dir, "--path", job])).JobState);
    expect(jobs(dir)).toHaveLength(1);
    expect(readLabState(dir).jobs.unfinished(Date.now() + 1000)).toEqual([]);
  });

  it("a change of a job rolled back after another committed: a reader whose lab.json predates both still sees the job", async () => {
    const { dir, svc, vm } = cliLab();
    cliOk(["lab", "jobs", "--lab", dir, "--stall", "CreateSnapshot", "--job-ms", "60000"]);
    const job = String(JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", JSON.stringify({ AffectedSystem: vm, SnapshotType: 32768 })])).Job);
    const id = String(JSON.parse(cliOk(["lab", "cim", "get", "--lab", dir, "--path", job])).InstanceID);
    // A reader (session.ts: no lock) has read lab.json and reads the job's file only later.
    const reader = readLabState(dir);
    // One call commits a new version of the job (it moves again); the next dies before its commit of another.
    cliOk(["lab", "jobs", "--lab", dir, "--no-stall"]);
    const stop = ["lab", "cim", "invoke", "--lab", dir, "--path", job, "--method", "RequestStateChange", "--args", JSON.stringify({ RequestedState: 4 })];
    expect((await cliAsync(stop, { ...process.env, HVBACKUP_CRASH_AT: "lab.job-written" })).code).not.toBe(0);
    // A call that writes other jobs rolls the dead call's file back.
    cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", JSON.stringify({ AffectedSystem: vm, SnapshotType: 32768 })]);
    // The reader sees the job as its lab.json committed it: stalled.
    expect(reader.jobs.get(id)?.stallAtPercent).toBe(50);
    expect(jobs(dir).find((j) => j["InstanceID"] === id)?.["JobState"]).toBe(4);
  });

  it("a damaged record of what a dead call wrote: the next call still rolls back every file no commit names", async () => {
    const { dir, svc, vm } = cliLab();
    const args = JSON.stringify({ AffectedSystem: vm, SnapshotType: 32768 });
    const r = await cliAsync(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", args], { ...process.env, HVBACKUP_CRASH_AT: "lab.job-written" });
    expect(r.code).not.toBe(0);
    expect(jobFiles(dir)).toHaveLength(1);
    // Never by a kill (it is written by rename), but a record can be damaged: it cannot say which files to roll back.
    fs.writeFileSync(path.join(dir, "jobs", ".uncommitted.json"), "{");
    const ok = JSON.parse(cliOk(["lab", "cim", "invoke", "--lab", dir, "--path", svc, "--method", "CreateSnapshot", "--args", args, "--wait"]));
    expect(jobs(dir).map((j) => j["InstanceID"])).toEqual([ok.Job.InstanceID]);
    expect(jobFiles(dir)).toEqual([`${ok.Job.InstanceID}.json`]);
    expect(readLabState(dir).snapshots).toHaveLength(1);
  });
});
