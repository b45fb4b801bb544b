import { existsSync } from "node:fs";
import * as path from "node:path";
import type { CimSession } from "../cim/mod";
import type { CancelRequest, HyperVClient } from "../hyperv/mod";
import { HvbError } from "../base/mod";
import { type ParsedArgs, optionValue } from "./args";
import { channelRequested, channelSession, stopSignal } from "./control";

/**
 * The lab folder a command should use: `--lab DIR`, else the HYPERVBACKUP_LAB environment
 * variable, else undefined (the local Hyper-V host).
 */
export function labDirFrom(args: ParsedArgs): string | undefined {
  const dir = optionValue(args, "lab") ?? (process.env["HYPERVBACKUP_LAB"] || undefined);
  return dir === undefined ? undefined : path.resolve(dir);
}

/**
 * Connects to the Hyper-V host: the lab host when a lab folder is given; else the host the
 * PowerShell module reaches with its CIM cmdlets, when it started the core with
 * `HVBACKUP_HOST=channel` (control.ts, transports/channel_session.ts); else the local Hyper-V
 * host over WMI (Windows only, through edge-js: the standalone command).
 */
export async function openHost(labDir: string | undefined): Promise<HyperVClient> {
  const { HyperVClient } = await import("../hyperv/mod");
  const common = hostClientOptions();
  // The module sets HVBACKUP_HOST=channel only when it answers host requests itself (never
  // with -LabPath), so it wins over a lab folder inherited through the environment.
  if (channelRequested()) return new HyperVClient(channelSession(), common);
  if (labDir !== undefined) {
    if (!existsSync(labDir)) throw new HvbError("LabNotFound", `Lab '${labDir}' does not exist: create it with 'hvbackup lab init ${labDir}'`, { category: "ObjectNotFound", target: labDir });
    const { LabCimSession } = await import("../lab/mod");
    // Lab jobs last ~100 ms (lab init --job-ms): poll them more often than a real host's.
    return new HyperVClient(new LabCimSession(labDir), { pollMs: 25, ...common });
  }
  if (process.platform !== "win32") {
    throw new HvbError("NoHyperVHost", "No Hyper-V host here: run on a Windows host with Hyper-V, or use --lab DIR (or HYPERVBACKUP_LAB) to work with a lab host", { category: "ResourceUnavailable" });
  }
  const { openWmiSession } = await import("../hyperv/mod");
  return new HyperVClient(await openWmiSession(), common);
}

/**
 * root\cimv2 of the host (Win32_OperatingSystem, Win32_LogicalDisk), reached the way
 * {@link openHost} reaches Hyper-V's namespace; undefined off Windows without a lab.
 */
export async function openCimv2(labDir: string | undefined): Promise<CimSession | undefined> {
  const CIMV2 = "root\\cimv2";
  if (channelRequested()) return channelSession(CIMV2, undefined);
  if (labDir !== undefined) {
    const { LabCimSession } = await import("../lab/mod");
    return new LabCimSession(labDir, { namespace: CIMV2 });
  }
  if (process.platform !== "win32") return undefined;
  const { openWmiSession } = await import("../hyperv/mod");
  return openWmiSession(CIMV2);
}

/**
 * What every Hyper-V client of one run shares: the stop request the signal handlers set, and
 * the stall period for jobs. Made once per process (one pair of signal handlers).
 */
export function hostClientOptions(): { cancel: CancelRequest; jobStallMs?: number } {
  shared ??= { cancel: cancelOnStop(), ...jobStallFromEnvironment() };
  return shared;
}
let shared: { cancel: CancelRequest; jobStallMs?: number } | undefined;

/**
 * The stall period for Hyper-V jobs: HYPERVBACKUP_JOB_STALL_SECONDS (a job showing no progress
 * that long is given up on; default 30 minutes). A merge that keeps moving is never cut short.
 */
function jobStallFromEnvironment(): { jobStallMs?: number } {
  const text = process.env["HYPERVBACKUP_JOB_STALL_SECONDS"];
  if (text === undefined || text === "") return {};
  const seconds = Number(text);
  if (!(Number.isFinite(seconds) && seconds > 0)) {
    throw new HvbError("InvalidArgument", `HYPERVBACKUP_JOB_STALL_SECONDS must be a positive number of seconds, got '${text}'`, { category: "InvalidArgument", target: "HYPERVBACKUP_JOB_STALL_SECONDS" });
  }
  return { jobStallMs: Math.round(seconds * 1000) };
}

/**
 * The stop request (a cancel line from the module, SIGINT or SIGTERM: control.ts) reaches the
 * Hyper-V job being waited for, if any: it is terminated the documented way
 * (Msvm_ConcreteJob.RequestStateChange 4) instead of being left to run after the core stops.
 * When no job is being waited for, the run stops at its next safe point and nothing is
 * terminated: the next job waited for would be the cleanup's own (the DestroySnapshot removing
 * the run's checkpoint), and a terminated merge leaves the checkpoint on the VM.
 */
function cancelOnStop(): CancelRequest {
  const cancel: CancelRequest = { requested: false };
  const onStop = (): void => {
    cancel.reason = "stopped by the user";
    if ((cancel.waiting ?? 0) > 0) cancel.requested = true;
  };
  if (stopSignal.aborted) onStop();
  else stopSignal.addEventListener("abort", onStop, { once: true });
  return cancel;
}
