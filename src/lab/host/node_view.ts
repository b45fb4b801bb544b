/**
 * What one node of a cluster lab shows in Hyper-V's namespace: only the VMs it owns now (with
 * their checkpoints and reference points), under its own host name, as root\virtualization\v2
 * on a real cluster node shows only the VMs running there. A standalone lab is shown whole.
 */
import { HvbError } from "../../base/mod";
import type { LabState } from "./model";
import { checkNode, nodeOf } from "./volumes";

/** The state as `node` (default: the first node) sees it; the whole state on a standalone lab. */
export function nodeView(state: LabState, node: string | undefined): LabState {
  const nodes = state.nodes ?? [];
  if (nodes.length === 0) {
    if (node !== undefined) throw new HvbError("LabNotCluster", `Cannot connect to node '${node}': this lab is not a cluster (lab init --nodes N)`, { category: "InvalidArgument", target: node });
    return state;
  }
  const me = node === undefined ? nodes[0]! : checkNode(state, node);
  const vms = state.vms.filter((v) => nodeOf(state, v) === me);
  const ids = new Set(vms.map((v) => v.id));
  return {
    ...state,
    hostName: me,
    vms,
    snapshots: state.snapshots.filter((s) => ids.has(s.vmId)),
    referencePoints: state.referencePoints.filter((r) => ids.has(r.vmId)),
  };
}
