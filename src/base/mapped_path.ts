/**
 * Paths on mapped network drives (issue 13 A9). Hyper-V's VMMS runs as LocalSystem in session
 * 0, where the drive letters a user mapped do not exist: a path it must open (an export folder,
 * a definition to import, a restored disk) is given as the share's UNC path instead. Pure: the
 * mappings come from the host (Win32_LogicalDisk DriveType 4, src/hyperv/mapped_drives.ts).
 *
 * @module
 */
import { stripLongPathPrefix } from "./windows_path";

/** A drive letter mapped to a share: `letter` like `Z:`, `target` its ProviderName (`\\server\share`). */
export interface MappedDrive {
  letter: string;
  /** The share the letter stands for; "" when the host does not say (a disconnected mapping). */
  target: string;
}

/**
 * The drive letter a Windows path starts with, upper case with its colon (`Z:`), or undefined.
 *
 * @example driveLetterOf("z:\\backups") // "Z:"
 */
export function driveLetterOf(text: string): string | undefined {
  const m = /^([A-Za-z]):/.exec(stripLongPathPrefix(text));
  return m ? `${m[1]!.toUpperCase()}:` : undefined;
}

/** The mapping `text` is on, if its drive letter is one of `drives`. */
export function mappedDriveOf(text: string, drives: readonly MappedDrive[]): MappedDrive | undefined {
  const letter = driveLetterOf(text);
  return letter === undefined ? undefined : drives.find((d) => d.letter.toUpperCase() === letter);
}

/**
 * `text` with its drive letter replaced by the share it is mapped to: `Z:\backups\r` on
 * `\\nas\vm` becomes `\\nas\vm\backups\r`. The rest keeps its components; they are joined with
 * the target's separator (`\` for a UNC path, `/` for a target written with slashes).
 *
 * @example onShare("Z:\\b\\r", { letter: "Z:", target: "\\\\nas\\vm" }) // "\\\\nas\\vm\\b\\r"
 */
export function onShare(text: string, drive: MappedDrive): string {
  const rest = stripLongPathPrefix(text).slice(2).split(/[\\/]+/).filter((s) => s !== "");
  const sep = drive.target.includes("\\") || !drive.target.includes("/") ? "\\" : "/";
  const base = drive.target.replace(/[\\/]+$/, "");
  return rest.length === 0 ? base : `${base}${sep}${rest.join(sep)}`;
}
