import { isHvbError } from "../../base/mod";
import type { HostApi, HostCheckpoint } from "../host_api";

/**
 * DestroySnapshot, tried again after a pause when the host refuses (a VM busy with another
 * operation refuses for a moment): a checkpoint left behind makes the VM's disks grow and
 * blocks later backups, so it is worth a few seconds.
 */
export async function destroyCheckpointPatiently(host: HostApi, checkpoint: HostCheckpoint): Promise<void> {
  const pauses = [500, 2000];
  for (let attempt = 0; ; attempt++) {
    try {
      await host.destroyCheckpoint(checkpoint);
      return;
    } catch (e) {
      if (attempt >= pauses.length || !isHvbError(e)) throw e;
      await new Promise((r) => setTimeout(r, pauses[attempt]));
      // Already gone (e.g. the failed call did remove it): done.
      const still = await host.listCheckpoints({ id: checkpoint.vmId, name: checkpoint.vmName, path: checkpoint.vmPath }, "recovery").catch(() => undefined);
      if (still && !still.some((c) => c.instanceId === checkpoint.instanceId)) return;
    }
  }
}
