/**
 * Guest writes armed for right after a host call (`lab write --after METHOD`): a test's way to
 * have the guest write at a moment inside a backup it cannot otherwise reach, e.g. after the
 * shadow copy is taken (Win32_ShadowCopy.Create: the write lands on the checkpoint's
 * differencing disk and is merged into the base disk by the conversion) or after
 * ConvertToReferencePoint (the VM writes to its base disk while the backup copies from the
 * shadow copy). The write happens in the same commit as the call, so it is as if the guest wrote
 * the instant the call returned.
 */
import { guestWrite } from "./host_ops";
import type { LabState, VmRecord } from "./model";

/**
 * The VMs with writes armed for `method` that the call concerns (asked before the call, while
 * the checkpoint it names still exists): its arguments name the VM's id, one of its
 * checkpoints, one of its files (or a checkpoint's), or a folder one of them is in (a volume root).
 */
export function armedFor(state: LabState, method: string, args: Record<string, unknown>): string[] {
  const named = JSON.stringify(args).toUpperCase();
  const folders = Object.values(args).filter((v): v is string => typeof v === "string" && v.length > 1);
  return state.vms.filter((vm) => (vm.writeAfter ?? []).some((w) => w.method.toLowerCase() === method.toLowerCase()) && concerns(state, vm, named, folders)).map((vm) => vm.id);
}

/** Runs, after the call, the writes armed for `method` of the VMs {@link armedFor} found. */
export function writeArmed(state: LabState, vmIds: readonly string[], method: string): void {
  for (const vm of state.vms.filter((v) => vmIds.includes(v.id))) {
    const due = (vm.writeAfter ?? []).filter((w) => w.method.toLowerCase() === method.toLowerCase());
    vm.writeAfter = (vm.writeAfter ?? []).filter((w) => !due.includes(w));
    if (vm.writeAfter.length === 0) delete vm.writeAfter;
    for (const w of due) guestWrite(state, vm, w.disk, w.offset, w.length, w.seed);
  }
}

function concerns(state: LabState, vm: VmRecord, namedUpper: string, folders: string[]): boolean {
  if (namedUpper.includes(vm.id.toUpperCase())) return true;
  const snapshots = state.snapshots.filter((x) => x.vmId === vm.id);
  if (snapshots.some((x) => namedUpper.includes(x.id.toUpperCase()))) return true;
  const files = [...vm.disks.map((d) => d.path), ...snapshots.flatMap((x) => x.disks.map((d) => d.path))];
  const under = (f: string, dir: string) => f.startsWith(/[\\/]$/.test(dir) ? dir : `${dir}/`) || f.startsWith(`${dir}\\`);
  return files.some((f) => namedUpper.includes(JSON.stringify(f).slice(1, -1).toUpperCase()) || folders.some((d) => under(f, d)));
}
