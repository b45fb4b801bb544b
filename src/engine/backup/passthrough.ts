/**
 * Pass-through disks (issue 13 A10): a host disk given to the guest whole (drive RASD of subtype
 * `Microsoft:Hyper-V:Physical Disk Drive`). No checkpoint holds it: CreateSnapshot with
 * IgnoreNonSnapshottableDisks leaves it out, so a backup of the VM restores without its data.
 * By policy the backup names each such disk in a warning (default) or refuses the VM.
 */
import { HvbError } from "../../base/mod";
import type { HostVm } from "../host_api";
import type { Warn } from "./plan";

/** What to do with a VM that has pass-through disks. */
export type PassThroughPolicy = "warn" | "refuse";

/** The pass-through disks of a VM in words: where each is attached and the host disk it is. */
function described(vm: HostVm): string {
  return vm.passThroughDisks.map((d) => `at '${d.location}'${d.hostResource ? ` (host disk ${d.hostResource})` : ""}`).join(", ");
}

/**
 * Applies the policy before anything is made on the host: `refuse` stops the VM's backup
 * (`PassThroughDiskRefused`), `warn` says that the point holds none of these disks
 * (`PassThroughDiskSkipped`, also kept in the point's warnings).
 */
export function applyPassThroughPolicy(vm: HostVm, policy: PassThroughPolicy, warn: Warn): void {
  if (vm.passThroughDisks.length === 0) return;
  const n = vm.passThroughDisks.length;
  const what = `VM '${vm.name}' has ${n === 1 ? "a pass-through disk" : `${n} pass-through disks`} ${described(vm)}`;
  if (policy === "refuse") {
    throw new HvbError(
      "PassThroughDiskRefused",
      `${what}: no checkpoint can hold ${n === 1 ? "it" : "them"}, so a backup would restore without ${n === 1 ? "its" : "their"} data; not backed up (--passthrough refuse). Back ${n === 1 ? "it" : "them"} up another way, or use --passthrough warn to back up the virtual disks alone`,
      { category: "InvalidOperation", target: vm.name },
    );
  }
  warn(`${what}: it is not in this backup (no checkpoint can hold ${n === 1 ? "it" : "them"}); a restore brings back the virtual disks alone. Back ${n === 1 ? "it" : "them"} up another way`, "PassThroughDiskSkipped");
}
