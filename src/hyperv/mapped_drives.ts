/**
 * What the host says about drive letters and its own account (root\cimv2): the mapped network
 * drives of the caller's logon session (Win32_LogicalDisk with DriveType 4 "Network Drive", whose
 * ProviderName is the share), and the computer account VMMS uses on the network
 * (Win32_ComputerSystem Domain\Name$).
 */
import type { MappedDrive } from "../base/mod";
import type { CimSession } from "../cim/mod";
import { stringOrUndefined } from "../cim/mod";

/** Win32_LogicalDisk.DriveType of a network drive. */
const DRIVE_TYPE_NETWORK = 4;

/** The mapped network drives the host shows this caller; [] when it cannot be asked. */
export async function listMappedDrives(cimv2: CimSession | undefined): Promise<MappedDrive[]> {
  if (!cimv2) return [];
  try {
    const rows = await cimv2.query(`SELECT DeviceID, DriveType, ProviderName FROM Win32_LogicalDisk WHERE DriveType=${DRIVE_TYPE_NETWORK}`);
    return rows
      .filter((r) => Number(r["DriveType"]) === DRIVE_TYPE_NETWORK && /^[A-Za-z]:$/.test(String(r["DeviceID"] ?? "")))
      .map((r) => ({ letter: String(r["DeviceID"]).toUpperCase(), target: stringOrUndefined(r["ProviderName"]) ?? "" }));
  } catch {
    return [];
  }
}

/** The host's computer account as a share sees it (`DOMAIN\HOST$`), or `HOST$` / a description when unknown. */
export async function hostComputerAccount(cimv2: CimSession | undefined): Promise<string> {
  try {
    const cs = cimv2 ? (await cimv2.query("SELECT Name, Domain, PartOfDomain FROM Win32_ComputerSystem"))[0] : undefined;
    const name = stringOrUndefined(cs?.["Name"]);
    if (!name) return "the host's computer account (HOST$)";
    const domain = stringOrUndefined(cs?.["Domain"]);
    return domain && cs?.["PartOfDomain"] !== false ? `${domain.split(".")[0]!.toUpperCase()}\\${name}$` : `${name}$`;
  } catch {
    return "the host's computer account (HOST$)";
  }
}
