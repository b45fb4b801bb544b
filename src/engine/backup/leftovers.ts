import type { Catalog, LockInfo } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostVm } from "../host_api";
import { destroyCheckpointPatiently } from "./checkpoints";

/**
 * After a backup process died (its stale lock just cleared with --clear-stale-lock): removes
 * what it had made on the host and not handed over to the catalog, as its lock recorded: the
 * recovery checkpoint it created (or, if it died before learning its id, the recovery
 * checkpoints that were not there when it started) and reference points made from it that the
 * catalog does not know. Nothing the lock does not account for is touched. True when a
 * checkpoint was removed (the VM's disk files then changed).
 */
export async function removeLeftovers(host: HostApi, catalog: Catalog, vm: HostVm, stale: LockInfo, events: EngineEvents): Promise<boolean> {
  const p = stale.progress;
  if (stale.operation !== "backup" || !p || String(p["vmId"] ?? "").toLowerCase() !== vm.id.toLowerCase()) return false;
  let removed = false;
  const made = typeof p["checkpoint"] === "string" ? p["checkpoint"] : undefined;
  const before = new Set(Array.isArray(p["checkpointsBefore"]) ? (p["checkpointsBefore"] as string[]) : []);
  for (const cp of await host.listCheckpoints(vm, "recovery")) {
    if (made ? cp.instanceId !== made : before.has(cp.instanceId)) continue;
    await destroyCheckpointPatiently(host, cp);
    removed = true;
    events.info(`Removed recovery checkpoint '${cp.name || cp.instanceId}' of '${vm.name}', left by the interrupted backup (process ${stale.pid}, ${stale.started})`);
  }
  const rpsBefore = new Set(Array.isArray(p["referencePointsBefore"]) ? (p["referencePointsBefore"] as string[]) : []);
  const catalogued = new Set(catalog.points.map((x) => x.referencePoint?.instanceId).filter((x): x is string => !!x));
  for (const rp of await host.listReferencePoints(vm)) {
    if (rpsBefore.has(rp.instanceId) || catalogued.has(rp.instanceId)) continue;
    await host.destroyReferencePoint(rp);
    events.info(`Removed reference point '${rp.instanceId}' of '${vm.name}', made by the interrupted backup but never recorded`);
  }
  return removed;
}
