/**
 * The host's default folders, from its Msvm_VirtualSystemManagementServiceSettingData
 * (msvm-virtualsystemmanagementservicesettingdata): DefaultExternalDataRoot (where new VMs'
 * configurations go) and DefaultVirtualHardDiskPath (where their disks go). A restore without a
 * destination uses them, never the current folder of the process (System32 for a scheduled task).
 */
import { HvbError } from "../base/mod";
import { stringOrUndefined } from "../cim/mod";
import type { ClientContext } from "./jobs";

/** The folders Hyper-V puts new VMs in on this host. */
export interface HostDefaultFolders {
  externalDataRoot: string;
  virtualHardDiskPath: string;
}

/** Reads the host's default folders; fails with a message naming the property when one is empty. */
export async function hostDefaultFolders(ctx: ClientContext): Promise<HostDefaultFolders> {
  const rows = await ctx.session.query("SELECT * FROM Msvm_VirtualSystemManagementServiceSettingData");
  const row = rows[0];
  const root = stringOrUndefined(row?.["DefaultExternalDataRoot"]);
  const vhd = stringOrUndefined(row?.["DefaultVirtualHardDiskPath"]);
  if (!root || !vhd) {
    throw new HvbError(
      "HostDefaultsMissing",
      `The host does not say where new VMs go (Msvm_VirtualSystemManagementServiceSettingData.${!root ? "DefaultExternalDataRoot" : "DefaultVirtualHardDiskPath"} is ${row ? "empty" : "missing"}); give the restore a destination (--dest)`,
      { category: "ObjectNotFound" },
    );
  }
  return { externalDataRoot: root, virtualHardDiskPath: vhd };
}
