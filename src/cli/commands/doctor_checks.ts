/**
 * Doctor's checks of the host itself and of where the repository is: the Windows release and
 * build (Hyper-V of Windows Server 2016, build 14393, or later: RCT, production checkpoints,
 * VM groups), the rights of the account (Hyper-V's namespace readable and a method call allowed),
 * and whether the host's computer account can reach the repository (a local path, or a UNC path's
 * share; a mapped drive letter belongs to one logon session and is refused).
 */
import { isUncPath, mappedDriveOf, onShare, toHvbError, windowsPathParts } from "../../base/mod";
import { hostComputerAccount, listMappedDrives } from "../../hyperv/mod";
import type { CimSession } from "../../cim/mod";

/** Records one check's outcome (doctor.ts keeps the list). */
export type AddCheck = (name: string, passed: boolean, detail: string, remedy?: string) => void;

/** Windows Server 2016 (1607): the first release with RCT, production checkpoints and VM groups. */
export const MIN_HOST_BUILD = 14393;

/** A status of Msvm_ImageManagementService methods: "Access denied" (family B). */
const ACCESS_DENIED = 32769;

/** "Operating system" and "Hyper-V host version" from root\cimv2 Win32_OperatingSystem. */
export async function checkOperatingSystem(cimv2: CimSession | undefined, add: AddCheck): Promise<void> {
  try {
    if (cimv2 === undefined) throw new Error("root\\cimv2 is not reachable");
    const os = (await cimv2.query("SELECT Caption, Version, BuildNumber FROM Win32_OperatingSystem"))[0];
    if (os === undefined) throw new Error("Win32_OperatingSystem has no instance");
    const build = Number(os["BuildNumber"]);
    add("Operating system", true, `${String(os["Caption"] ?? "Windows")} ${String(os["Version"] ?? "")} (build ${Number.isNaN(build) ? "unknown" : build})`);
    add(
      "Hyper-V host version",
      build >= MIN_HOST_BUILD,
      build >= MIN_HOST_BUILD ? `build ${build}: Windows Server 2016 (build ${MIN_HOST_BUILD}) or later` : `build ${Number.isNaN(build) ? "unknown" : build} is older than Windows Server 2016 (build ${MIN_HOST_BUILD})`,
      "Upgrade the host to Windows Server 2016 or later: resilient change tracking, production checkpoints and VM groups came with it",
    );
  } catch (e) {
    add("Operating system", false, `cannot read Win32_OperatingSystem: ${toHvbError(e).message}`, "Check that WMI (winmgmt) runs and that this account may read root\\cimv2");
  }
}

/**
 * "Rights": Hyper-V's namespace readable (the management service was listed) and a method call
 * allowed. The call is GetVirtualHardDiskSettingData of a file that does not exist: it changes
 * nothing, and a caller without rights gets "Access denied" instead of "File not found".
 */
export async function checkRights(session: CimSession, add: AddCheck): Promise<void> {
  const remedy = "Run as a member of Administrators (elevated) or Hyper-V Administrators on the host";
  try {
    const ims = (await session.query("SELECT * FROM Msvm_ImageManagementService"))[0];
    if (ims === undefined) throw new Error("Msvm_ImageManagementService has no instance");
    const probe = `C:\\HyperVBackup-doctor-${process.pid}-does-not-exist.vhdx`;
    const r = await session.invokeMethod(ims.__PATH, "GetVirtualHardDiskSettingData", { Path: probe });
    const denied = Number(r.ReturnValue) === ACCESS_DENIED;
    add("Rights", !denied, denied ? "Hyper-V's namespace is readable, but a method call was refused (Access denied)" : `Hyper-V's namespace is readable and a method call is allowed (GetVirtualHardDiskSettingData answered ${String(r.ReturnValue)})`, remedy);
  } catch (e) {
    const err = toHvbError(e);
    add("Rights", false, `a method call failed: ${err.message}`, err.code === "HyperVAccessDenied" ? remedy : `${remedy}; check that WMI (winmgmt) runs`);
  }
}

/**
 * "Repository location": whether backups running as the host (its computer account, HOST$) reach
 * the repository. A local path: yes. A UNC path: through its share, which must grant the computer
 * account modify rights. A drive letter that is a mapped network drive (Win32_LogicalDisk
 * DriveType 4; the same lookup backup and restore make, hyperv/mapped_drives.ts): no, a mapping
 * exists only in the logon session that made it; the remedy names the share's path.
 */
export async function checkRepositoryLocation(repo: string, cimv2: CimSession | undefined, add: AddCheck): Promise<void> {
  const account = await hostComputerAccount(cimv2);
  if (isUncPath(repo)) {
    const [server, share] = windowsPathParts(repo);
    add("Repository location", server !== undefined && share !== undefined, `UNC path: the share \\\\${server ?? "?"}\\${share ?? "?"} is written by the host's computer account (${account}) when backups run as a service`, "Give the repository as \\\\server\\share\\folder");
    return;
  }
  const drive = mappedDriveOf(repo, await listMappedDrives(cimv2));
  if (drive !== undefined) {
    const unc = drive.target === "" ? undefined : onShare(repo, drive);
    add("Repository location", false, `${drive.letter} is a mapped network drive${drive.target ? ` (${drive.target})` : ""}: a mapping belongs to one logon session, so a scheduled or remote backup does not see it`, `Give the UNC path instead${unc ? ` (${unc})` : ""}, and grant the host's computer account (${account}) modify rights on the share`);
    return;
  }
  add("Repository location", true, `a local path on the host: reached by the host itself (${account})`);
}
