/**
 * The hosts a backup set runs on (see engine HostFleet): the lab (standalone, or a cluster lab
 * with one Hyper-V session per node), or on Windows the local host and, when it is a cluster
 * node, every node of its cluster over remote WMI. Volumes come from root\cimv2, owners of VM
 * roles from root\MSCluster.
 */
import { existsSync } from "node:fs";
import { type HostApi, type HostFleet, findOnFleet } from "../engine/mod";
import { HvbError } from "../base/mod";
import type { CimSession } from "../cim/mod";
import { type HyperVClient, listClusterNodes, listClusteredVms, listVolumes } from "../hyperv/mod";
import { channelRequested, channelSession } from "./control";
import { hostClientOptions } from "./host";

const CIMV2 = "root\\cimv2";
const MSCLUSTER = "root\\MSCluster";
const V2 = "root\\virtualization\\v2";

/**
 * root\MSCluster of the host when it is a cluster node (with its nodes), else undefined: the
 * lab's when it was made with --nodes, on Windows the local one when the namespace answers.
 */
export async function openCluster(labDir: string | undefined): Promise<{ session: CimSession; nodes: string[] } | undefined> {
  let session: CimSession;
  if (channelRequested()) {
    session = channelSession(MSCLUSTER, undefined);
  } else if (labDir !== undefined) {
    const { LabCimSession } = await import("../lab/mod");
    session = new LabCimSession(labDir, { namespace: MSCLUSTER });
  } else {
    if (process.platform !== "win32") return undefined;
    const { openWmiSession } = await import("../hyperv/mod");
    session = await openWmiSession(MSCLUSTER);
  }
  const nodes = await listClusterNodes(session).catch(() => [] as string[]);
  return nodes.length > 0 ? { session, nodes } : undefined;
}

/**
 * The host a one-VM command should talk to: on a cluster, the node that runs the VM named
 * `nameOrId` (found through root\MSCluster, then on every node); elsewhere, or when no node has
 * it, the host itself (whose "not found" the command then reports).
 */
export async function openHostOfVm(labDir: string | undefined, nameOrId: string): Promise<HostApi> {
  const fleet = await openFleet(labDir);
  if (!fleet.clustered) return fleet.host(fleet.nodes[0]!);
  try {
    return fleet.host((await findOnFleet(fleet, nameOrId)).node);
  } catch {
    return fleet.host(fleet.nodes[0]!);
  }
}

/** Opens the fleet: the lab in `labDir`, or the local host (and its cluster) over WMI. */
export async function openFleet(labDir: string | undefined): Promise<HostFleet> {
  const { HyperVClient } = await import("../hyperv/mod");
  let sessionFor: (namespace: string, node: string | undefined) => Promise<CimSession>;
  let pollMs: number | undefined;
  if (channelRequested()) {
    // The PowerShell module answers host requests itself (HVBACKUP_HOST=channel, see host.ts).
    sessionFor = async (namespace, node) => channelSession(namespace, node);
  } else if (labDir !== undefined) {
    if (!existsSync(labDir)) throw new HvbError("LabNotFound", `Lab '${labDir}' does not exist: create it with 'hvbackup lab init ${labDir}'`, { category: "ObjectNotFound", target: labDir });
    const { LabCimSession } = await import("../lab/mod");
    sessionFor = async (namespace, node) => new LabCimSession(labDir, { namespace, ...(node === undefined ? {} : { node }) });
    pollMs = 25;
  } else {
    if (process.platform !== "win32") {
      throw new HvbError("NoHyperVHost", "No Hyper-V host here: run on a Windows host with Hyper-V, or use --lab DIR (or HYPERVBACKUP_LAB) to work with a lab host", { category: "ResourceUnavailable" });
    }
    const { openWmiSession } = await import("../hyperv/mod");
    sessionFor = (namespace, node) => openWmiSession(namespace, node ?? ".");
  }
  const cluster = await sessionFor(MSCLUSTER, undefined);
  // A host that is no cluster node has no root\MSCluster (or no nodes in it).
  const nodes = await listClusterNodes(cluster).catch(() => [] as string[]);
  const volumeSession = await sessionFor(CIMV2, undefined);
  const volumes = () => listVolumes(volumeSession);
  const common = hostClientOptions();
  const clientFor = async (node: string | undefined): Promise<HyperVClient> => new HyperVClient(await sessionFor(V2, node), pollMs === undefined ? common : { ...common, pollMs });
  if (nodes.length === 0) {
    const host = await clientFor(undefined);
    return { nodes: ["localhost"], clustered: false, host: () => host, clusteredVms: async () => [], volumes, cimv2: volumeSession };
  }
  const hosts = new Map<string, HostApi>();
  for (const n of nodes) hosts.set(n, await clientFor(n));
  return {
    nodes,
    clustered: true,
    host: (node) => {
      const h = hosts.get(node);
      if (!h) throw new HvbError("ClusterOwnerUnknown", `Node '${node}' is not a node of this cluster (${nodes.join(", ")})`, { category: "ObjectNotFound", target: node });
      return h;
    },
    clusteredVms: () => listClusteredVms(cluster),
    volumes,
    cimv2: volumeSession,
  };
}
