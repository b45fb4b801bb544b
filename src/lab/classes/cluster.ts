/**
 * root\MSCluster as a cluster lab shows it (`lab init --nodes N`): MSCluster_Cluster,
 * MSCluster_Node, and per VM one resource group (a cluster role, GroupType 111 Virtual Machine)
 * holding one "Virtual Machine" resource whose PrivateProperties carry the VM's id (VmID), both
 * owned by the node the VM runs on. Only the properties a backup reads are filled; see
 * docs/lab-fidelity.md "Cluster".
 */
import type { CimInstance } from "../../cim/mod";
import { buildObjectPath } from "../../cim/mod";
import type { LabState, VmRecord } from "../host/model";
import { nodeOf } from "../host/volumes";

export const CLUSTER_NAMESPACE = "root\\MSCluster";
/** MSCluster_ResourceGroup.GroupType of a VM's role (CreateGroup method page: Virtual Machine (111)). */
export const GROUP_TYPE_VIRTUAL_MACHINE = 111;

function clusterPath(state: LabState, className: string, keys: Record<string, string>): string {
  return buildObjectPath({ host: state.hostName, namespace: CLUSTER_NAMESPACE, className, keys });
}

/** The cluster's name (the lab's host name stands for it). */
export function clusterInstance(state: LabState): CimInstance {
  return { __CLASS: "MSCluster_Cluster", __PATH: clusterPath(state, "MSCluster_Cluster", { Name: state.hostName }), Name: state.hostName };
}

export function nodeInstance(state: LabState, node: string): CimInstance {
  // State 0 = Up (MSCluster_Node.State).
  return { __CLASS: "MSCluster_Node", __PATH: clusterPath(state, "MSCluster_Node", { Name: node }), Name: node, State: 0 };
}

/** The VM's cluster role; its name is the VM's name, as Failover Cluster Manager makes it. */
export function resourceGroupInstance(state: LabState, vm: VmRecord): CimInstance {
  return {
    __CLASS: "MSCluster_ResourceGroup",
    __PATH: clusterPath(state, "MSCluster_ResourceGroup", { Name: vm.name }),
    Name: vm.name,
    Id: vm.id.toLowerCase(),
    GroupType: GROUP_TYPE_VIRTUAL_MACHINE,
    OwnerNode: nodeOf(state, vm),
    // 0 = Online (MSCluster_ResourceGroup.State).
    State: 0,
  };
}

/** The "Virtual Machine" resource of the VM's role. */
export function vmResourceInstance(state: LabState, vm: VmRecord): CimInstance {
  const name = `Virtual Machine ${vm.name}`;
  return {
    __CLASS: "MSCluster_Resource",
    __PATH: clusterPath(state, "MSCluster_Resource", { Name: name }),
    Name: name,
    Type: "Virtual Machine",
    OwnerGroup: vm.name,
    OwnerNode: nodeOf(state, vm),
    State: 2,
    PrivateProperties: { __CLASS: "MSCluster_Property", VmID: vm.id.toLowerCase() },
  };
}

/** VMs that have a cluster role: those made on a cluster lab, and those added since (AddVirtualMachine). */
export function clusteredVms(state: LabState): VmRecord[] {
  return (state.nodes?.length ?? 0) > 0 ? state.vms.filter((v) => v.clusterRole === true) : [];
}
