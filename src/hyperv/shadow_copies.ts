/**
 * Volume shadow copies through root\cimv2 Win32_ShadowCopy: Create(Volume, Context) (a static
 * method; ReturnValue 0 and the new ShadowID), the instance's DeviceObject (the frozen volume,
 * `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN`), and DeleteInstance to remove it. One shadow
 * copy per volume freezes every VM's files on it at one instant, however many VMs there are.
 */
import { HvbError } from "../base/mod";
import type { CimSession } from "../cim/mod";
import { buildObjectPath } from "../cim/mod";

const CIMV2 = "root\\cimv2";

/** A shadow copy of one volume. */
export interface ShadowCopy {
  id: string;
  path: string;
  /** The volume's root as the backup names it (Win32_Volume.Name). */
  volume: string;
  /** Where the frozen volume's files are: DeviceObject + the path below the volume root. */
  deviceObject: string;
}

/** Win32_ShadowCopy.Create's documented return values. */
const CREATE_RESULTS: Record<number, string> = {
  1: "access denied",
  2: "invalid argument",
  3: "the volume was not found",
  4: "the volume is not supported",
  5: "the shadow copy context is not supported",
  6: "insufficient storage",
  7: "the volume is in use",
  8: "the maximum number of shadow copies is reached",
  9: "another shadow copy operation is in progress",
  10: "the shadow copy provider vetoed the operation",
  11: "the shadow copy provider is not registered (no VSS)",
  12: "the shadow copy provider failed",
  13: "unknown error",
};

/** Takes a shadow copy of the volume whose root is `volume` (Context "ClientAccessible"). */
export async function createShadowCopy(cimv2: CimSession, volume: string): Promise<ShadowCopy> {
  const classPath = buildObjectPath({ host: undefined, namespace: CIMV2, className: "Win32_ShadowCopy", keys: {} });
  const r = await cimv2.invokeMethod(classPath, "Create", { Volume: volume, Context: "ClientAccessible" });
  const id = typeof r["ShadowID"] === "string" ? r["ShadowID"] : undefined;
  if (r.ReturnValue !== 0 || id === undefined) {
    const why = CREATE_RESULTS[r.ReturnValue] ?? `ReturnValue ${r.ReturnValue}`;
    throw new HvbError("ShadowCopyFailed", `Cannot take a shadow copy of volume '${volume}': ${why}`, { category: "ResourceUnavailable", target: volume });
  }
  const path = buildObjectPath({ host: undefined, namespace: CIMV2, className: "Win32_ShadowCopy", keys: { ID: id } });
  const inst = await cimv2.getInstance(path);
  const deviceObject = String(inst["DeviceObject"] ?? "");
  if (!deviceObject) throw new HvbError("ShadowCopyFailed", `Shadow copy ${id} of '${volume}' has no DeviceObject`, { category: "InvalidData", target: volume });
  return { id, path: inst.__PATH || path, volume, deviceObject };
}

/** Removes a shadow copy (DeleteInstance). */
export async function deleteShadowCopy(cimv2: CimSession, shadow: ShadowCopy): Promise<void> {
  if (!cimv2.deleteInstance) {
    throw new HvbError("ShadowCopyFailed", `Cannot remove shadow copy ${shadow.id} of '${shadow.volume}': this connection to the host cannot delete WMI instances (remove it with 'vssadmin delete shadows /shadow=${shadow.id}')`, { category: "NotImplemented", target: shadow.id });
  }
  await cimv2.deleteInstance(shadow.path);
}

/**
 * The path of `file` inside the shadow copy of its volume: the part below the volume root,
 * under the shadow copy's DeviceObject, with the separator the DeviceObject uses.
 */
export function shadowPathOf(file: string, shadow: Pick<ShadowCopy, "volume" | "deviceObject">): string {
  const root = shadow.volume.replace(/[\\/]+$/, "");
  const windows = /^[A-Za-z]:|^\\\\/.test(root);
  const inside = windows ? file.slice(0, root.length).toLowerCase() === root.toLowerCase() : file.startsWith(root);
  if (!inside) throw new HvbError("ShadowCopyFailed", `'${file}' is not on volume '${shadow.volume}'`, { category: "InvalidArgument", target: file });
  const below = file.slice(root.length).replace(/^[\\/]+/, "");
  const sep = shadow.deviceObject.includes("\\") && !shadow.deviceObject.includes("/") ? "\\" : "/";
  return `${shadow.deviceObject.replace(/[\\/]+$/, "")}${sep}${below.replace(/[\\/]/g, sep)}`;
}
