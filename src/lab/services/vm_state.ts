/**
 * Msvm_ComputerSystem.RequestStateChange (family B; 32775 for a state change that does not
 * apply to the VM's current state, as the method page names it).
 */
import { setVmState } from "../host/host_ops";
import { B, EFFECT_CHANGE, type MethodHandler, sync } from "./method_support";
import { EnabledState } from "../host/model";

const { Running, Off, Saved, Paused } = EnabledState;

/** RequestedState → [allowed current states, resulting state]. */
const TRANSITIONS: Record<number, [number[], number]> = {
  2: [[Off, Saved, Paused], Running], // Enabled (start / turn on / resume)
  3: [[Running, Paused, Saved], Off], // Disabled (turn off)
  6: [[Running, Paused], Saved], // Offline (save)
  9: [[Running], Paused], // Quiesce (pause)
  32777: [[Paused], Running], // Resuming
  10: [[Running], Running], // Reboot
  11: [[Running], Running], // Reset
};

export const requestStateChange: MethodHandler = (ctx, args) => {
  const target = ctx.target;
  if (target.__CLASS !== "Msvm_ComputerSystem") return sync(B.NotSupported);
  const vm = ctx.state.vms.find((v) => v.id.toLowerCase() === String(target["Name"]).toLowerCase());
  if (!vm) return sync(B.NotSupported); // the host itself
  const requested = args.uint("RequestedState");
  if (requested === undefined) return sync(B.InvalidParameter);
  const t = TRANSITIONS[requested];
  if (!t || !t[0].includes(vm.state)) return sync(B.InvalidState);
  setVmState(vm, t[1], ctx.now);
  return { kind: "job", description: "Changing virtual machine state", affected: [{ path: target.__PATH, effects: [EFFECT_CHANGE] }] };
};
