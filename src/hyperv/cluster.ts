/**
 * Failover clustering as a backup needs it, through root\MSCluster: which node owns each VM's
 * cluster role now (the "Virtual Machine" resource's OwnerNode and its PrivateProperties.VmID),
 * the nodes, and making a restored VM highly available again (MSCluster_Cluster.AddVirtualMachine).
 */
import { HvbError } from "../base/mod";
import type { CimSession } from "../cim/mod";
import { normalizeGuid } from "../cim/mod";

/** A VM with a cluster role. */
export interface ClusteredVm {
  vmId: string;
  /** The role (resource group) name. */
  group: string;
  ownerNode: string;
}

/** The cluster's nodes (MSCluster_Node.Name), or an empty list when the host is not clustered. */
export async function listClusterNodes(cluster: CimSession): Promise<string[]> {
  const rows = await cluster.query("SELECT Name FROM MSCluster_Node");
  return rows.map((r) => String(r["Name"]));
}

/** Every VM with a cluster role and its owner node now. */
export async function listClusteredVms(cluster: CimSession): Promise<ClusteredVm[]> {
  const rows = await cluster.query("SELECT * FROM MSCluster_Resource WHERE Type='Virtual Machine'");
  const out: ClusteredVm[] = [];
  for (const r of rows) {
    const props = r["PrivateProperties"] as Record<string, unknown> | null | undefined;
    const vmId = props && typeof props["VmID"] === "string" ? normalizeGuid(props["VmID"]) : undefined;
    const ownerNode = typeof r["OwnerNode"] === "string" ? r["OwnerNode"] : undefined;
    if (!vmId || !ownerNode) {
      throw new HvbError("ClusterOwnerUnknown", `Cluster resource '${String(r["Name"])}' does not say its VM (PrivateProperties.VmID) or owner node (OwnerNode)`, {
        category: "InvalidData",
        target: String(r["Name"]),
      });
    }
    out.push({ vmId, group: String(r["OwnerGroup"] ?? ""), ownerNode });
  }
  return out;
}

/**
 * Makes a VM highly available: MSCluster_Cluster.AddVirtualMachine (Windows Server 2012 and
 * later) with the VM's id, which creates its role on the node that runs it.
 */
export async function addVmToCluster(cluster: CimSession, vmId: string): Promise<void> {
  const clusters = await cluster.query("SELECT Name FROM MSCluster_Cluster");
  const c = clusters[0];
  if (!c) throw new HvbError("ClusterOwnerUnknown", "Cannot add the VM to the cluster: this host is not part of a cluster", { category: "InvalidOperation", target: vmId });
  const r = await cluster.invokeMethod(c.__PATH, "AddVirtualMachine", { VirtualMachine: vmId });
  if (r.ReturnValue !== 0) {
    throw new HvbError("HyperVMethodFailed", `MSCluster_Cluster.AddVirtualMachine of VM '${vmId}' failed with ${r.ReturnValue}`, { category: "InvalidOperation", target: vmId });
  }
}
