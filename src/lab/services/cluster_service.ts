/**
 * MSCluster_Cluster.AddVirtualMachine (root\MSCluster, Windows Server 2012+): gives an existing
 * VM a cluster role, making it highly available, owned by the node it runs on. The method page
 * says only "the virtual machine to add" (a string); the lab takes the VM's id or name
 * (assumption in docs/lab-fidelity.md). Cluster provider methods return nothing; failures of a
 * real one surface as WMI errors, which the lab answers with ReturnValue 2 (Failed).
 */
import { A, type MethodHandler, sync } from "./method_support";
import { nodeOf } from "../host/volumes";

export const addVirtualMachine: MethodHandler = (ctx, args) => {
  const wanted = String(args.string("VirtualMachine") ?? "").trim().replace(/^\{|\}$/g, "").toLowerCase();
  if (!wanted) return sync(A.InvalidParameter);
  const vm = ctx.state.vms.find((v) => v.id.toLowerCase() === wanted) ?? ctx.state.vms.find((v) => v.name.toLowerCase() === wanted);
  if (!vm || (ctx.state.nodes?.length ?? 0) === 0) return sync(A.Failed);
  // A VM with a role already: adding it again fails (a role of that name exists).
  if (vm.clusterRole === true) return sync(A.Failed);
  vm.node = nodeOf(ctx.state, vm);
  vm.clusterRole = true;
  return sync(A.Ok);
};
