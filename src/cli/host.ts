import { existsSync } from "node:fs";
import * as path from "node:path";
import type { HostApi } from "../engine/mod";
import { HvbError } from "../base/mod";
import { type ParsedArgs, optionValue } from "./args";
import { channelRequested, channelSession } from "./control";

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
export async function openHost(labDir: string | undefined): Promise<HostApi> {
  const { HyperVClient } = await import("../hyperv/mod");
  // The module sets HVBACKUP_HOST=channel only when it answers host requests itself (never
  // with -LabPath), so it wins over a lab folder inherited through the environment.
  if (channelRequested()) return new HyperVClient(channelSession());
  if (labDir !== undefined) {
    if (!existsSync(labDir)) throw new HvbError("LabNotFound", `Lab '${labDir}' does not exist: create it with 'hvbackup lab init ${labDir}'`, { category: "ObjectNotFound", target: labDir });
    const { LabCimSession } = await import("../lab/mod");
    // Lab jobs last ~100 ms (lab init --job-ms): poll them more often than a real host's.
    return new HyperVClient(new LabCimSession(labDir), { pollMs: 25 });
  }
  if (process.platform !== "win32") {
    throw new HvbError("NoHyperVHost", "No Hyper-V host here: run on a Windows host with Hyper-V, or use --lab DIR (or HYPERVBACKUP_LAB) to work with a lab host", { category: "ResourceUnavailable" });
  }
  const { openWmiSession } = await import("../hyperv/mod");
  return new HyperVClient(await openWmiSession());
}
