/** Shared setup for lab tests: a fresh lab in a temp dir and small WMI helpers. */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isJobActive, toCimDtd20, type CimInstance } from "../../src/cim/mod";
import { openDisk } from "../../src/disks/mod";
import { attachSharedDisks, createGroup, createVhdSet, createVm, type NewVmOptions, vmByName } from "../../src/lab/mod";
import type { LabConfig } from "../../src/lab/mod";
import { LabCimSession } from "../../src/lab/mod";
import { initLab, mutateLab, hostRunsConfigVersion, MAX_CONFIG_VERSION, defaultHostVersion } from "../../src/lab/mod";

export const MiB = 1024 * 1024;

/**
 * The configuration version a new lab VM gets on the release a new lab poses as (9.0, or the
 * highest the release runs: 8.0 on 2016), so tests hold on every HVB_HOST_VERSION.
 */
export function defaultVmConfigVersion(): string {
  const host = defaultHostVersion();
  return hostRunsConfigVersion(host, "9.0") ? "9.0" : MAX_CONFIG_VERSION[host];
}
export const CLI = path.resolve(__dirname, "../../module/bin/hvbackup.cjs");

export interface TestLab {
  dir: string;
  session: LabCimSession;
}

export function newLab(config: Partial<LabConfig> = {}): TestLab {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hvb-lab-"));
  // Protocol tests look at raw answers: queries answer at once unless a test asks for jobs.
  initLab(dir, { jobDurationMs: 0, jobShare: 0, ...config });
  return { dir, session: new LabCimSession(dir) };
}

export function addVm(lab: TestLab, o: Partial<NewVmOptions> & { name: string }): string {
  return mutateLab(lab.dir, (s) =>
    createVm(s, lab.dir, { diskSizes: [16 * MiB], configVersion: hostRunsConfigVersion(s.config.hostVersion, "9.0") ? "9.0" : MAX_CONFIG_VERSION[s.config.hostVersion], generation: 2, guest: "windows", scsi: true, format: "vhdx", ...o }, Date.now()),
  ).id;
}

export function one(rows: CimInstance[]): CimInstance {
  if (rows.length !== 1) throw new Error(`expected exactly one instance, got ${rows.length}`);
  return rows[0]!;
}

export function servicePath(lab: TestLab, className: string): string {
  return one(lab.session.querySync(`SELECT * FROM ${className}`)).__PATH;
}

export function vmPath(lab: TestLab, name: string): string {
  return one(lab.session.querySync(`SELECT * FROM Msvm_ComputerSystem WHERE ElementName='${name}'`)).__PATH;
}

export interface Waited {
  result: Record<string, unknown>;
  job: CimInstance | undefined;
  affected: CimInstance[];
}

/** Invokes a method; when it started a job, waits for it and returns the job and its affected elements. */
export async function call(lab: TestLab, path: string, method: string, args: Record<string, unknown>): Promise<Waited> {
  const result = lab.session.invokeMethodSync(path, method, asText(lab, args)) as Record<string, unknown>;
  if (result["ReturnValue"] !== 4096) return { result, job: undefined, affected: [] };
  let job = lab.session.getInstanceSync(String(result["Job"]));
  while (isJobActive(Number(job["JobState"]))) {
    await new Promise((r) => setTimeout(r, 5));
    job = lab.session.getInstanceSync(String(result["Job"]));
  }
  const affected = lab.session.associatorsSync(job.__PATH, { assocClass: "CIM_AffectedJobElement" });
  return { result, job, affected };
}

/** Invokes without waiting: the raw ReturnValue (and Job) of the call. */
export function invoke(lab: TestLab, target: string, method: string, args: Record<string, unknown>): Record<string, unknown> {
  return lab.session.invokeMethodSync(target, method, asText(lab, args)) as Record<string, unknown>;
}

export function jobState(lab: TestLab, job: unknown): number {
  return Number(lab.session.getInstanceSync(String(job))["JobState"]);
}

/** Polls a job until it leaves the active states; returns its final JobState. */
export async function untilEnded(lab: TestLab, job: unknown): Promise<number> {
  for (;;) {
    const state = jobState(lab, job);
    if (!isJobActive(state)) return state;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A lab with VMs a and b sharing the VHD Set cs/Data.vhds, in group g (a guest cluster). */
export function clusterLab(config: Partial<LabConfig> = {}): { lab: TestLab; vhds: string; group: string } {
  const lab = newLab(config);
  const vhds = path.join(lab.dir, "cs", "Data.vhds");
  mutateLab(lab.dir, (s) => createVhdSet(s, vhds, 8 * MiB, Date.now()));
  for (const n of ["a", "b"]) {
    addVm(lab, { name: n });
    mutateLab(lab.dir, (s) => attachSharedDisks(s, vmByName(s, n), [vhds]));
  }
  mutateLab(lab.dir, (s) => createGroup(s, "g", ["a", "b"], Date.now()));
  return { lab, vhds, group: one(lab.session.querySync("SELECT * FROM Msvm_VirtualSystemCollection WHERE ElementName='g'")).__PATH };
}

/**
 * Arguments as the WMI transport sends them: embedded instances given as objects become
 * CIM-DTD 2.0 text typed by the lab's schema (strings pass through: a test may send raw text).
 */
export function asText(lab: TestLab, args: Record<string, unknown>): Record<string, unknown> {
  const one = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v) && typeof (v as { __CLASS?: unknown }).__CLASS === "string"
      ? toCimDtd20(lab.session.getClassSync((v as { __CLASS: string }).__CLASS), v as Record<string, unknown>)
      : v;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = Array.isArray(v) ? v.map(one) : one(v);
  return out;
}

/** Msvm_VirtualSystemSnapshotSettingData as CIM-DTD 2.0 text (the two properties every host version has). */
export function snapshotSettings(level: 1 | 2): string {
  return toCimDtd20(
    { className: "Msvm_VirtualSystemSnapshotSettingData", properties: [{ name: "ConsistencyLevel", type: "uint8", isArray: false }, { name: "IgnoreNonSnapshottableDisks", type: "boolean", isArray: false }] },
    { __CLASS: "Msvm_VirtualSystemSnapshotSettingData", ConsistencyLevel: level, IgnoreNonSnapshottableDisks: true },
  );
}

/** Takes a recovery checkpoint of `vm` and returns its VSSD (asserting the job completed). */
export async function recoveryCheckpoint(lab: TestLab, vm: string, level: 1 | 2 = 1): Promise<CimInstance> {
  const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "CreateSnapshot", {
    AffectedSystem: vmPath(lab, vm),
    SnapshotSettings: snapshotSettings(level),
    SnapshotType: 32768,
  });
  if (w.job?.["JobState"] !== 7) throw new Error(`CreateSnapshot failed: ${JSON.stringify(w.result)} ${JSON.stringify(w.job)}`);
  return one(w.affected.filter((a) => a.__CLASS === "Msvm_VirtualSystemSettingData"));
}

export async function convert(lab: TestLab, snapshot: CimInstance): Promise<CimInstance> {
  const w = await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "ConvertToReferencePoint", { AffectedSnapshot: snapshot.__PATH });
  if (w.job?.["JobState"] !== 7) throw new Error(`ConvertToReferencePoint failed: ${JSON.stringify(w.result)}`);
  return one(w.affected.filter((a) => a.__CLASS === "Msvm_VirtualSystemReferencePoint"));
}

/**
 * The disk files of a configuration, ordered by the disks' locations (the InstanceID after its
 * configuration part, the same in a VM and its checkpoints): the lab answers in no set order.
 */
export function diskFilesOf(lab: TestLab, vssdPath: string): string[] {
  const location = (s: CimInstance) => String(s["InstanceID"]).split("\\").slice(1).join("\\");
  return lab.session
    .associatorsSync(vssdPath, { resultClass: "Msvm_StorageAllocationSettingData" })
    .filter((s) => s["ResourceSubType"] === "Microsoft:Hyper-V:Virtual Hard Disk")
    .sort((a, b) => location(a).localeCompare(location(b)))
    .map((s) => (s["HostResource"] as string[])[0]!);
}

export function readBytes(file: string, offset: number, length: number): Uint8Array {
  const d = openDisk(file);
  try {
    const buf = new Uint8Array(length);
    d.read(buf, offset);
    return buf;
  } finally {
    d.close();
  }
}

/** Runs the bundled CLI; returns exit code and output. */
export function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** {@link cli} without blocking: for runs that overlap, or that a crash point kills (exit 128 for a signal). */
export function cliAsync(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

export function cliOk(args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
}

/** Loops GetVirtualDiskChanges over [0, size) as a real client must, following ProcessedByteLength. */
export function allChanges(lab: TestLab, file: string, limitId: string, size: number): { ranges: [number, number][]; calls: number; code: number } {
  const svc = servicePath(lab, "Msvm_ImageManagementService");
  const ranges: [number, number][] = [];
  let offset = 0;
  let calls = 0;
  while (offset < size) {
    const r = lab.session.invokeMethodSync(svc, "GetVirtualDiskChanges", { Path: file, LimitId: limitId, ByteOffset: offset, ByteLength: size - offset });
    calls++;
    if (r.ReturnValue !== 0) return { ranges, calls, code: r.ReturnValue };
    const offs = r["ChangedByteOffsets"] as number[];
    const lens = r["ChangedByteLengths"] as number[];
    offs.forEach((o, i) => ranges.push([o, lens[i]!]));
    const processed = Number(r["ProcessedByteLength"]);
    if (processed <= 0) throw new Error("no progress");
    offset += processed;
  }
  return { ranges: mergeTouching(ranges), calls, code: 0 };
}

function mergeTouching(r: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [o, l] of [...r].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && o <= last[0] + last[1]) last[1] = Math.max(last[0] + last[1], o + l) - last[0];
    else out.push([o, l]);
  }
  return out;
}
