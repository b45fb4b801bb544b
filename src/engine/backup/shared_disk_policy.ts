/**
 * What the backup does with shared disks (docs/design/repository.md "Shared disks of a set"):
 * a VHD Set (.vhds) is backed up only with its guest cluster, as a VM group, so it is copied
 * once at the moment every node is; a shared VHDX (the 2012 R2 way) cannot be checkpointed at
 * all. Either way a VM is refused with a message that says why and what to do, before anything
 * is made on the host.
 */
import { HvbError } from "../../base/mod";
import type { HostVm } from "../host_api";

/** Refuses a shared VHDX on any VM (alone or in a group). */
export function refuseSharedVhdx(vm: HostVm): void {
  const d = (vm.sharedDisks ?? []).find((x) => x.kind === "shared-vhdx");
  if (!d) return;
  const target = d.path.replace(/\.vhdx$/i, ".vhds");
  throw new HvbError(
    "SharedDiskNotSupported",
    `VM '${vm.name}' has the shared VHDX '${d.path}' (virtual hard disk sharing): Hyper-V cannot checkpoint a shared VHDX, so it cannot be backed up. ` +
      `Convert it to a VHD Set (with the VMs off: Convert-VHD -Path '${d.path}' -DestinationPath '${target}'), attach the .vhds to every node of the guest cluster, ` +
      `put the nodes in a VM group (New-VMGroup) and back up the group with 'hvbackup backup --group NAME'`,
    { category: "InvalidOperation", target: vm.name },
  );
}

/** Refuses a VM backed up alone that has a shared disk of either kind. */
export function refuseSharedDisksAlone(vm: HostVm): void {
  refuseSharedVhdx(vm);
  const d = (vm.sharedDisks ?? []).find((x) => x.kind === "vhdset");
  if (!d) return;
  throw new HvbError(
    "SharedDiskNotSupported",
    `VM '${vm.name}' shares the VHD Set '${d.path}' with a guest cluster: back up the guest cluster as a VM group ` +
      `(New-VMGroup with every VM that attaches it, then 'hvbackup backup --group NAME'), so the shared disk is copied once, at the moment every node is`,
    { category: "InvalidOperation", target: vm.name },
  );
}
