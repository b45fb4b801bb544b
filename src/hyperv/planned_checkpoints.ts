/**
 * Checkpoints an imported configuration still references (issue 13 A8). ImportSystemDefinition's
 * page: "Any referenced snapshots not found in this location must be deleted using
 * DestroySnapshot, or imported using ImportSnapshotDefinitions prior to realizing the planned
 * system". A restore point holds the VM's configuration and its disks as they were, never the
 * files of its standard checkpoints, so a restore deletes them from the planned VM before
 * ValidatePlannedSystem. The planned VM's checkpoints are its VSSDs through
 * Msvm_SnapshotOfVirtualSystem, as a VM's are.
 */
import { stringOrUndefined } from "../cim/mod";
import { SNAPSHOT_SERVICE } from "./checkpoints";
import { VSSD_CLASS } from "./configuration";
import { type ClientContext, runMethod, servicePath, subjects } from "./jobs";
import type { PlannedSystem } from "./types";

/** One checkpoint of a planned VM. */
export interface PlannedCheckpoint {
  path: string;
  instanceId: string;
  name: string;
}

/** The checkpoints a planned VM's configuration references. */
export async function listPlannedCheckpoints(ctx: ClientContext, planned: Pick<PlannedSystem, "path">): Promise<PlannedCheckpoint[]> {
  const vssds = await ctx.session.associators(planned.path, { resultClass: VSSD_CLASS, assocClass: "Msvm_SnapshotOfVirtualSystem" });
  return vssds.map((v) => ({ path: v.__PATH, instanceId: String(v["InstanceID"] ?? ""), name: stringOrUndefined(v["ElementName"]) ?? "" }));
}

/**
 * Deletes every checkpoint the planned VM references (DestroySnapshot), children before their
 * parents, and returns their names. Only the planned VM's configuration changes: the
 * checkpoints of a VM still on the host are other instances and are not touched.
 */
export async function removePlannedCheckpoints(ctx: ClientContext, planned: Pick<PlannedSystem, "path" | "name">): Promise<string[]> {
  const removed: string[] = [];
  // Leaves first: each round deletes what no remaining checkpoint names as its parent.
  for (let round = 0; round < 64; round++) {
    const vssds = await ctx.session.associators(planned.path, { resultClass: VSSD_CLASS, assocClass: "Msvm_SnapshotOfVirtualSystem" });
    if (vssds.length === 0) return removed;
    const parents = new Set(vssds.map((v) => String(v["Parent"] ?? "").toLowerCase()).filter((p) => p !== ""));
    const leaves = vssds.filter((v) => ![...parents].some((p) => p.includes(String(v["InstanceID"] ?? "").toLowerCase())));
    const svc = await servicePath(ctx, SNAPSHOT_SERVICE);
    for (const leaf of leaves.length > 0 ? leaves : vssds.slice(0, 1)) {
      const name = stringOrUndefined(leaf["ElementName"]) ?? String(leaf["InstanceID"] ?? "");
      await runMethod(ctx, svc, "DestroySnapshot", { AffectedSnapshot: leaf.__PATH }, subjects.checkpoint(name, planned.name));
      removed.push(name);
    }
  }
  return removed;
}
