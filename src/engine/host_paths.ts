/**
 * Paths Hyper-V's VMMS opens (issue 13 A9): the repository (exports are written into it) and a
 * restore's destination (definitions imported from it, disks attached from it). VMMS runs as
 * LocalSystem in session 0: a drive letter the user mapped does not exist there, so such a path
 * is given to the host as the share's UNC path, or refused when the host does not say which
 * share it is; on a share VMMS is the host's computer account, which the share and NTFS rights
 * must let in.
 */
import { HvbError, type MappedDrive, isUncPath, mappedDriveOf, onShare } from "../base/mod";
import type { EngineEvents } from "./events";

/** What the host said about drives and its account. */
export interface HostPathFacts {
  drives: readonly MappedDrive[];
  /** `DOMAIN\HOST$` (src/hyperv/mapped_drives.ts hostComputerAccount). */
  account: string;
}

/**
 * `text` as the host must be given it: on a mapped drive, its UNC path (said in an info event);
 * else unchanged. A mapping whose share the host does not name is refused (`PathOnMappedDrive`).
 */
export function pathForHost(text: string, facts: HostPathFacts, what: string, events: Pick<EngineEvents, "info">): string {
  const drive = mappedDriveOf(text, facts.drives);
  if (!drive) return text;
  if (!drive.target) {
    throw new HvbError(
      "PathOnMappedDrive",
      `The ${what} '${text}' is on ${drive.letter}, a network drive mapped in this logon session only: Hyper-V (VMMS runs as LocalSystem in session 0) cannot open it, and the host does not say which share it is. Give its UNC path (\\\\server\\share\\...)`,
      { category: "InvalidArgument", target: text },
    );
  }
  const unc = onShare(text, drive);
  events.info(`The ${what} '${text}' is on ${drive.letter}, a mapped network drive that Hyper-V (LocalSystem, session 0) does not see: using its UNC path '${unc}'`);
  return unc;
}

/**
 * A warning when the repository is on a share (a UNC path, or a mapped drive made one): VMMS
 * writes the exports there as the host's computer account, which the share and NTFS
 * permissions must grant modify rights. A local path needs nothing: the host reaches it itself.
 */
export function repositoryAccessWarning(original: string, resolved: string, facts: HostPathFacts): string | undefined {
  if (!isUncPath(resolved) && !mappedDriveOf(original, facts.drives)) return undefined;
  return `The repository '${resolved}' is on a network share: Hyper-V writes each backup's configuration export there as the host's computer account, so the share and NTFS permissions must grant ${facts.account} modify rights (the rights of the user running the backup are not enough)`;
}
