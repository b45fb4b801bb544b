/**
 * Msvm_CollectionReferencePointService.DestroyReferencePoint (family A, 0..6 and 4096, per the
 * method page): every member's reference point goes, with the RCT ids it issued.
 */
import { referencePointCollectionsOf } from "../host/groups";
import { forgetRctId } from "../host/rct";
import { dropVhdSetSnapshots } from "../host/vhd_sets";
import { computerSystemPath, diskInstanceId } from "../host/paths";
import { A, EFFECT_CHANGE, type MethodHandler, sync } from "./method_support";

export const destroyReferencePointCollection: MethodHandler = (ctx, args) => {
  const ref = args.ref("AffectedReferencePointCollection");
  const inst = ref ? ctx.resolve(ref) : undefined;
  if (!inst || inst.__CLASS !== "Msvm_ReferencePointCollection") return sync(A.InvalidParameter);
  const c = referencePointCollectionsOf(ctx.state).find((x) => x.id.toLowerCase() === String(inst["CollectionID"]).toLowerCase());
  if (!c) return sync(A.InvalidParameter);
  const vmIds = new Set<string>();
  for (const rp of ctx.state.referencePoints.filter((r) => c.referencePointIds.includes(r.id))) {
    const vm = ctx.state.vms.find((v) => v.id === rp.vmId);
    if (vm) {
      vmIds.add(vm.id);
      rp.diskIds.forEach((diskId, i) => {
        const disk = vm.disks.find((d) => diskInstanceId(vm.id, d.deviceKey).toLowerCase() === diskId.toLowerCase());
        const rctId = rp.rctIds[i];
        if (disk && rctId) forgetRctId(disk.rct, rctId);
      });
    }
  }
  // The reference-only snapshots of the VHD Sets the members share go with it.
  ctx.deleteAfterCommit(dropVhdSetSnapshots(ctx.state, c.vhdSetSnapshots, false));
  ctx.state.referencePoints = ctx.state.referencePoints.filter((r) => !c.referencePointIds.includes(r.id));
  ctx.state.referencePointCollections = referencePointCollectionsOf(ctx.state).filter((x) => x !== c);
  return {
    kind: "job",
    description: "Destroying reference point of group",
    affected: [...vmIds].map((id) => ({ path: computerSystemPath(ctx.state.hostName, id), effects: [EFFECT_CHANGE] })),
  };
};
