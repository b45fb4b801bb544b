/**
 * Which volume a file is on, for limits per volume and for shadow copies: the host's volumes
 * from root\cimv2 Win32_Volume (Name is the drive root or mount-point folder, e.g. `C:\` or
 * `C:\ClusterStorage\Volume1\`, with a trailing backslash), the longest Name a path starts with.
 */
import type { CimSession } from "../cim/mod";

/** A volume as a backup uses it. */
export interface HostVolume {
  /** The root folder (Win32_Volume.Name), with its trailing separator. */
  name: string;
  /** `\\?\Volume{GUID}\` (Win32_Volume.DeviceID): what Win32_ShadowCopy.Create takes. */
  deviceId: string;
  /** "CSVFS" on a cluster shared volume. */
  fileSystem: string;
}

/** Every volume of the host with a mount point or drive letter (Win32_Volume in root\cimv2). */
export async function listVolumes(cimv2: CimSession): Promise<HostVolume[]> {
  const rows = await cimv2.query("SELECT DeviceID, Name, FileSystem FROM Win32_Volume");
  return rows
    .filter((r) => typeof r["Name"] === "string" && r["Name"] !== "")
    .map((r) => ({ name: String(r["Name"]), deviceId: String(r["DeviceID"] ?? ""), fileSystem: String(r["FileSystem"] ?? "") }));
}

function isWindowsPath(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || p.startsWith("\\\\");
}

/** `p` compared the way its platform does: Windows paths without case, with either separator. */
function comparable(p: string): string {
  return isWindowsPath(p) ? p.replace(/\//g, "\\").toLowerCase() : p;
}

/**
 * The root of the volume holding `file`: the longest volume name it starts with; without a
 * match, what the path itself says (a CSV folder `X:\ClusterStorage\Name\`, a volume GUID path,
 * a UNC share `\\server\share\`, a drive `X:\`, or `/`).
 */
export function volumeRootOf(file: string, volumes: readonly Pick<HostVolume, "name">[]): string {
  const f = comparable(file);
  let best: string | undefined;
  for (const v of volumes) {
    const n = comparable(v.name);
    const root = /[\\/]$/.test(n) ? n : `${n}${isWindowsPath(n) ? "\\" : "/"}`;
    if ((f.startsWith(root) || `${f}${root.slice(-1)}` === root) && (best === undefined || v.name.length > best.length)) best = v.name;
  }
  if (best !== undefined) return best;
  const w = file.replace(/\//g, "\\");
  const patterns = [/^[A-Za-z]:\\ClusterStorage\\[^\\]+\\/i, /^\\\\\?\\Volume\{[^}]+\}\\/i, /^\\\\[^\\?]+\\[^\\]+\\/, /^[A-Za-z]:\\/];
  for (const re of patterns) {
    const m = re.exec(w);
    if (m) return m[0];
  }
  return "/";
}
