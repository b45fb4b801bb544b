/**
 * The paths of a backup or restore as the host must be given them (src/engine/host_paths.ts):
 * asks root\cimv2 of the host (the lab's, the module's channel, or local WMI) for the caller's
 * mapped drives and the host's computer account.
 */
import { type HostPathFacts, pathForHost, repositoryAccessWarning } from "../engine/mod";
import type { EngineEvents } from "../engine/mod";
import { hostComputerAccount, listMappedDrives } from "../hyperv/mod";
import type { CimSession } from "../cim/mod";
import { channelRequested, channelSession } from "./control";

const CIMV2 = "root\\cimv2";

async function cimv2Of(labDir: string | undefined): Promise<CimSession | undefined> {
  if (channelRequested()) return channelSession(CIMV2, undefined);
  if (labDir !== undefined) {
    const { LabCimSession } = await import("../lab/mod");
    return new LabCimSession(labDir, { namespace: CIMV2 });
  }
  if (process.platform !== "win32") return undefined;
  const { openWmiSession } = await import("../hyperv/mod");
  return openWmiSession(CIMV2);
}

/** What the host says about drives and its account; nothing when it cannot be asked. */
export async function hostPathFacts(labDir: string | undefined): Promise<HostPathFacts> {
  const cimv2 = await cimv2Of(labDir).catch(() => undefined);
  return { drives: await listMappedDrives(cimv2), account: await hostComputerAccount(cimv2) };
}

/** The repository path to use (UNC for a mapped drive), warning when it is on a share. */
export function repositoryForHost(text: string, facts: HostPathFacts, events: EngineEvents): string {
  const resolved = pathForHost(text, facts, "repository", events);
  const warning = repositoryAccessWarning(text, resolved, facts);
  if (warning) events.warning(warning, "RepositoryOnShare");
  return resolved;
}
