/**
 * The paths of a backup or restore as the host must be given them (src/engine/host_paths.ts):
 * asks root\cimv2 of the host (the lab's, the module's channel, or local WMI) for the caller's
 * mapped drives and the host's computer account.
 */
import { type HostPathFacts, pathForHost, repositoryAccessWarning } from "../engine/mod";
import type { EngineEvents } from "../engine/mod";
import { hostComputerAccount, listMappedDrives } from "../hyperv/mod";
import { openCimv2 } from "./host";

/** What the host says about drives and its account; nothing when it cannot be asked. */
export async function hostPathFacts(labDir: string | undefined): Promise<HostPathFacts> {
  const cimv2 = await openCimv2(labDir).catch(() => undefined);
  return { drives: await listMappedDrives(cimv2), account: await hostComputerAccount(cimv2) };
}

/** The repository path to use (UNC for a mapped drive), warning when it is on a share. */
export function repositoryForHost(text: string, facts: HostPathFacts, events: EngineEvents): string {
  const resolved = pathForHost(text, facts, "repository", events);
  const warning = repositoryAccessWarning(text, resolved, facts);
  if (warning) events.warning(warning, "RepositoryOnShare");
  return resolved;
}
