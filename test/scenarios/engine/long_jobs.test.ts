/**
 * Long merges (issue 13 A6) through the CLI: a ConvertToReferencePoint job that stops moving is
 * given up on after the stall period and its checkpoint is left alone; a user's SIGINT while
 * the job runs terminates the job the documented way and the run ends in order.
 */
import { rmSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backupAsync, cimQuery, events, hvbAsync, newWorldAsync, okAsync, readCatalogOf, spawnCli, vmFolder } from "../../support/engine_harness";

let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});

const convertJobs = (lab: string) => cimQuery(lab, "SELECT * FROM Msvm_ConcreteJob WHERE Name='ConvertToReferencePoint'");

describe("long merges", () => {
  it("gives up on a merge that stops moving without touching its checkpoint, and terminates one the user stops", async () => {
    const w = await newWorldAsync("longjobs", ["--job-ms", "20"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "ConvertToReferencePoint"]);

    // Stalled: the point is published, the checkpoint left alone while its job may still run.
    const r = await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"], { env: { HYPERVBACKUP_JOB_STALL_SECONDS: "0.3" } });
    const p = events(r.stdout).find((e) => e.type === "result")!.data as { warnings: string[] };
    expect(p.warnings.join("\n")).toMatch(/did not finish here \(ConvertToReferencePoint failed on .*made no progress for 300 ms.*left alone while its job may still run/);
    expect(p.warnings.join("\n")).not.toMatch(/Could not remove the recovery checkpoint/);
    expect((await convertJobs(w.lab)).map((j) => j["JobState"])).toEqual([4]);
    // While that job runs, the next backup touches nothing (pending_jobs.ts); once it ended,
    // the next one takes the reference point it made: an incremental.
    const busy = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect((events(busy.stdout).find((e) => e.type === "error") as { code?: string } | undefined)?.code).toBe("HostJobRunning");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    expect((await backupAsync(w, "v")).kind).toBe("incremental");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "ConvertToReferencePoint"]);

    // Stopped by the user while waiting: the job is terminated, the run ends normally.
    const child = spawnCli(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    let stdout = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    while ((await convertJobs(w.lab)).filter((j) => j["JobState"] === 4).length < 1) await new Promise((res) => setTimeout(res, 50));
    child.kill("SIGINT");
    expect(await closed).toBe(0);
    const warnings = (events(stdout).find((e) => e.type === "result")!.data as { warnings: string[] }).warnings.join("\n");
    expect(warnings).toMatch(/stopped by the user; the job was asked to terminate at 50%/);
    expect((await convertJobs(w.lab)).map((j) => j["JobState"]).sort()).toContain(8);
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    expect((await backupAsync(w, "v")).kind).toBe("full");
  });
});

describe("a stop while a job on the checkpoint runs", () => {
  it("terminates the export job and, once the host shows it ended, removes the checkpoint: nothing is left", async () => {
    const w = await newWorldAsync("longjobs-stop", ["--job-ms", "20"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "ExportSystemDefinition"]);
    const exportJobs = () => cimQuery(w.lab, "SELECT * FROM Msvm_ConcreteJob WHERE Name='ExportSystemDefinition'");

    const child = spawnCli(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    let stdout = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    while ((await exportJobs()).filter((j) => j["JobState"] === 4).length < 1) await new Promise((res) => setTimeout(res, 50));
    child.kill("SIGINT");
    expect(await closed).not.toBe(0);
    const error = events(stdout).find((e) => e.type === "error") as { code?: string; message?: string } | undefined;
    expect(error?.code).toBe("HyperVJobCancelled");
    // The job was terminated (JobState 8): it no longer works on the checkpoint, which is removed.
    expect((await exportJobs()).map((j) => j["JobState"])).toEqual([8]);
    expect(events(stdout).filter((e) => e.type === "warning").map((e) => e.message).join("\n")).not.toMatch(/Could not remove the recovery checkpoint/);
    expect(await cimQuery(w.lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toEqual([]);
    // The next backup starts clean: no checkpoint left by the stopped run is reported.
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    const next = await backupAsync(w, "v");
    expect(next.kind).toBe("full");
    expect(next.warnings.join("\n")).not.toMatch(/recovery checkpoint/);
  });
});

describe("long jobs and VM groups", () => {
  async function groupWorld(name: string): Promise<{ dir: string; lab: string; repo: string; cleanup(): void }> {
    const w = await newWorldAsync(name, ["--job-ms", "20"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "a", "--disk", "16MiB"]);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "b", "--disk", "8MiB"]);
    await okAsync(["lab", "group", "new", "--lab", w.lab, "--name", "g", "--vm", "a", "--vm", "b"]);
    return w;
  }
  const groupBackup = (w: { lab: string; repo: string }, env?: Record<string, string>) =>
    hvbAsync(["backup", "--group", "g", "--repo", w.repo, "--lab", w.lab, "--json"], env ? { env } : {});
  const errorCode = (stdout: string) => (events(stdout).find((e) => e.type === "error") as { code?: string } | undefined)?.code;

  it("a group backup waits for a job a backup of one member left running, and builds on it once it ended", async () => {
    const w = await groupWorld("longjobs-group-pending");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "ConvertToReferencePoint"]);
    await okAsync(["backup", "--vm", "a", "--repo", w.repo, "--lab", w.lab, "--json"], { env: { HYPERVBACKUP_JOB_STALL_SECONDS: "0.3" } });
    // While the member's job runs, the group's backup makes nothing on the host.
    const busy = await groupBackup(w);
    expect(errorCode(busy.stdout), busy.stdout + busy.stderr).toBe("HostJobRunning");
    expect(await cimQuery(w.lab, "SELECT * FROM Msvm_SnapshotCollection")).toEqual([]);
    expect((await convertJobs(w.lab)).map((j) => j["JobState"])).toEqual([4]);
    // Once it completed, its reference point is the member's base: an incremental for 'a'.
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    const r = await groupBackup(w);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const set = events(r.stdout).find((e) => e.type === "result")!.data as { points: Array<{ vmName: string; kind: string }> };
    expect(Object.fromEntries(set.points.map((p) => [p.vmName, p.kind]))).toEqual({ a: "incremental", b: "full" });
  });

  it("a group's ConvertToReferencePoint that stops moving leaves the group's checkpoint to its job: no member checkpoint is removed behind it", async () => {
    const w = await groupWorld("longjobs-group-stall");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "ConvertToReferencePoint"]);
    const r = await groupBackup(w, { HYPERVBACKUP_JOB_STALL_SECONDS: "0.3" });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(errorCode(r.stdout)).toBe("HyperVJobTimeout");
    const warnings = events(r.stdout).filter((e) => e.type === "warning");
    expect(warnings.map((e) => e.code)).toContain("CheckpointJobRunning");
    // Before: the group's DestroySnapshot, then each member's, were called while the merge ran.
    expect(warnings.map((e) => e.message).join("\n")).not.toMatch(/removing each member's checkpoint instead|Could not remove the recovery checkpoint/);
  });
});

describe("every job given up on is recorded and settled by the next run", () => {
  const errorCode = (stdout: string) => (events(stdout).find((e) => e.type === "error") as { code?: string } | undefined)?.code;
  const warningsOf = (stdout: string) => events(stdout).filter((e) => e.type === "warning") as Array<{ code?: string; message?: string }>;
  const recovery = (lab: string) => cimQuery(lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'");
  const STALL = { HYPERVBACKUP_JOB_STALL_SECONDS: "0.3" };

  it("a DestroySnapshot that stops moving: the next backup and cleanup wait for it, then the backup goes on", async () => {
    const w = await newWorldAsync("longjobs-destroy", ["--job-ms", "20"]);
    worlds.push(w);
    // Without RCT the checkpoint is destroyed after the publish (no reference point).
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--config-version", "5.0"]);
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "DestroySnapshot"]);
    const first = await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"], { env: STALL });
    expect(warningsOf(first.stdout).map((x) => x.code)).toContain("CheckpointJobRunning");
    // While the merge runs: no backup, no cleanup.
    const busy = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(errorCode(busy.stdout), busy.stdout + busy.stderr).toBe("HostJobRunning");
    const cleaning = await hvbAsync(["cleanup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(errorCode(cleaning.stdout), cleaning.stdout + cleaning.stderr).toBe("HostJobRunning");
    // readiness says what the backup does: not now, and why.
    const ready = events((await okAsync(["readiness", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"])).stdout).find((e) => e.type === "result")!.data as { ready: boolean; notReady?: { code: string } };
    expect(ready.ready).toBe(false);
    expect(ready.notReady?.code).toBe("HostJobRunning");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    expect((events((await okAsync(["readiness", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"])).stdout).find((e) => e.type === "result")!.data as { ready: boolean }).ready).toBe(true);
    const next = await backupAsync(w, "v");
    expect(next.warnings.join("\n")).not.toMatch(/recovery checkpoint/);
    expect(await recovery(w.lab)).toEqual([]);
  });

  it("a CreateSnapshot that stops moving: the next backup waits for it, then removes the checkpoint it made", async () => {
    const w = await newWorldAsync("longjobs-create", ["--job-ms", "20"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "CreateSnapshot"]);
    const first = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"], { env: STALL });
    expect(errorCode(first.stdout), first.stdout + first.stderr).toBe("HyperVJobTimeout");
    expect(warningsOf(first.stdout).map((x) => x.code)).toContain("CheckpointJobRunning");
    const busy = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(errorCode(busy.stdout), busy.stdout + busy.stderr).toBe("HostJobRunning");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    const r = await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    const codes = warningsOf(r.stdout).map((x) => x.code);
    expect(codes).toContain("HostJobSettled");
    expect(codes).not.toContain("CheckpointLingering");
    expect((events(r.stdout).find((e) => e.type === "result")!.data as { kind: string }).kind).toBe("full");
    // The job's checkpoint went; the run's own became its reference point.
    expect(await recovery(w.lab)).toEqual([]);
  });

  it("a GetVirtualDiskChanges job that stops moving is no answer: no full copy behind it, the run fails and the next one waits for it", async () => {
    const w = await newWorldAsync("longjobs-query", ["--job-ms", "20"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
    await backupAsync(w, "v");
    await okAsync(["lab", "write", "--lab", w.lab, "--vm", "v", "--disk", "0", "--offset", "1MiB", "--length", "4096", "--seed", "q"]);
    // Every query answers with a job; those of GetVirtualDiskChanges stall.
    await okAsync(["lab", "jobs", "--lab", w.lab, "--share", "100", "--stall", "GetVirtualDiskChanges"]);
    const r = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"], { env: STALL });
    // Before: the disk was copied in full (RctIdInvalid) and the checkpoint converted while the query job ran.
    expect(errorCode(r.stdout), r.stdout + r.stderr).toBe("HyperVJobTimeout");
    expect(warningsOf(r.stdout).map((x) => x.code)).toEqual(["CheckpointJobRunning"]);
    const busy = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(errorCode(busy.stdout), busy.stdout + busy.stderr).toBe("HostJobRunning");
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    const next = await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(warningsOf(next.stdout).map((x) => x.code)).toEqual(["HostJobSettled"]);
    const point = events(next.stdout).find((e) => e.type === "result")!.data as { kind: string; disks: Array<{ method: string }> };
    expect(point.kind).toBe("incremental");
    expect(point.disks.map((d) => d.method)).toEqual(["rct"]);
    expect(await recovery(w.lab)).toEqual([]);
  });
});

describe("the host refuses what the product holds back while a merge runs", () => {
  const errorOf = (stdout: string) => events(stdout).find((e) => e.type === "error") as { code?: string; message?: string } | undefined;
  const STALL = { HYPERVBACKUP_JOB_STALL_SECONDS: "0.3" };

  it("a stalled ConvertToReferencePoint left by the last run: the next backup stops with HostJobRunning having called nothing; without the record it would be refused by the host (Invalid State)", async () => {
    const w = await newWorldAsync("longjobs-refused", ["--job-ms", "20"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB"]);
    await okAsync(["lab", "jobs", "--lab", w.lab, "--stall", "ConvertToReferencePoint"]);
    await okAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"], { env: STALL });
    const jobsBefore = (await cimQuery(w.lab, "SELECT * FROM Msvm_ConcreteJob")).length;
    expect((await convertJobs(w.lab)).map((j) => j["JobState"])).toEqual([4]);

    // The product knows of the job (pending-jobs.json) and asks the host for nothing but its state.
    const busy = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(errorOf(busy.stdout)?.code, busy.stdout + busy.stderr).toBe("HostJobRunning");
    expect((await cimQuery(w.lab, "SELECT * FROM Msvm_ConcreteJob")).length).toBe(jobsBefore);

    // Had it called anything on the VM's checkpoints, the host would have refused: a run that
    // does not know of the job (its record gone) fails on the host's answer and makes nothing.
    const catalogBefore = readCatalogOf(w.repo, "v");
    // The stalled merge has not happened: the host still lists the checkpoint it works on.
    const recoveryBefore = await cimQuery(w.lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'");
    expect(recoveryBefore).toHaveLength(1);
    rmSync(path.join(vmFolder(w.repo, "v"), "pending-jobs.json"));
    const unaware = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"], { env: STALL });
    expect(unaware.code, unaware.stdout + unaware.stderr).not.toBe(0);
    expect(errorOf(unaware.stdout)).toMatchObject({ code: "HyperVMethodFailed", message: "CreateSnapshot failed on VM 'v': 5 Invalid State" });
    expect((await cimQuery(w.lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).map((c) => c["InstanceID"])).toEqual(recoveryBefore.map((c) => c["InstanceID"]));
    expect(readCatalogOf(w.repo, "v")).toEqual(catalogBefore);

    // Once the job ended, the VM is free again (its reference point, unrecorded, is foreign now).
    await okAsync(["lab", "jobs", "--lab", w.lab, "--no-stall"]);
    while ((await convertJobs(w.lab)).some((j) => j["JobState"] === 4)) await new Promise((res) => setTimeout(res, 20));
    expect(await cimQuery(w.lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'")).toEqual([]);
    expect((await backupAsync(w, "v")).kind).toBe("full");
  });
});
