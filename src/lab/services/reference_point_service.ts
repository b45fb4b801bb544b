/** Msvm_VirtualSystemReferencePointService.DestroyReferencePoint (family B: 0, 4096, 32768..32778). */
import { B, EFFECT_CHANGE, type MethodHandler, sync } from "./method_support";
import { computerSystemPath, diskInstanceId } from "../host/paths";
import { forgetRctId } from "../host/rct";

export const destroyReferencePoint: MethodHandler = (ctx, args) => {
  const ref = args.ref("AffectedReferencePoint");
  const inst = ref ? ctx.resolve(ref) : undefined;
  if (!inst || inst.__CLASS !== "Msvm_VirtualSystemReferencePoint") return sync(B.InvalidParameter);
  const rp = ctx.state.referencePoints.find((r) => `Microsoft:${r.id}`.toLowerCase() === String(inst["InstanceID"]).toLowerCase());
  if (!rp) return sync(B.InvalidParameter);
  const vm = ctx.state.vms.find((v) => v.id === rp.vmId);
  if (vm) {
    rp.diskIds.forEach((diskId, i) => {
      const disk = vm.disks.find((d) => diskInstanceId(vm.id, d.deviceKey).toLowerCase() === diskId.toLowerCase());
      const rctId = rp.rctIds[i];
      if (disk && rctId) forgetRctId(disk.rct, rctId);
    });
  }
  ctx.state.referencePoints = ctx.state.referencePoints.filter((r) => r !== rp);
  return {
    kind: "job",
    description: "Destroying reference point",
    affected: [{ path: computerSystemPath(ctx.state.hostName, rp.vmId), effects: [EFFECT_CHANGE] }],
  };
};
