/**
 * The hosts a set of backups runs on: one standalone Hyper-V host, or every node of a failover
 * cluster, each reached through its own {@link HostApi}, with what the cluster knows about
 * whose VM runs where and the volumes the VMs' files are on.
 */
import type { CimSession } from "../../cim/mod";
import type { ClusteredVm, HostVolume } from "../../hyperv/mod";
import type { HostApi } from "../host_api";

export interface HostFleet {
  /** The node names (a standalone host: one entry, its name). */
  readonly nodes: readonly string[];
  /** True on a failover cluster (limits default to 1 per node and per volume there). */
  readonly clustered: boolean;
  /** The Hyper-V host of one node. */
  host(node: string): HostApi;
  /** VMs with a cluster role and the node owning each now (asked afresh on each call); empty when not clustered. */
  clusteredVms(): Promise<ClusteredVm[]>;
  /** The host's volumes (Win32_Volume); the same on every node of a cluster for its shared volumes. */
  volumes(): Promise<HostVolume[]>;
  /** root\cimv2 of the host (shadow copies); absent when the fleet cannot reach it. */
  cimv2?: CimSession;
}

/** A fleet of one standalone host. */
export function singleHostFleet(name: string, host: HostApi, volumes: () => Promise<HostVolume[]>): HostFleet {
  return { nodes: [name], clustered: false, host: () => host, clusteredVms: async () => [], volumes };
}
