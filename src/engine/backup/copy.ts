import { crashPoint } from "../../base/mod";
import type { Catalog, PointRecord, PointWriter, VmStore } from "../../repository/mod";
import { diskBaseName } from "../../repository/mod";
import { type DiskCopyResult, changedUnitsByHash, copyFull, copyUnits } from "../disk_copy";
import type { EngineEvents } from "../events";
import { unitStateAt } from "../point_chain";
import { unitsOf } from "../units";
import type { DiskPlan } from "./plan";

/** Where {@link copyDisks} reads the base from and reports to. */
export interface CopyContext {
  store: VmStore;
  /** The catalog as read at the start of the backup (for the base's chain). */
  catalog: Catalog;
  base: PointRecord | undefined;
  events: EngineEvents;
  activity: string;
}

/**
 * Writes every planned disk into the new point: a full VHDX of every allocated block, or a
 * differencing VHDX (parent: the base point's file) of the units RCT or the hashes name.
 * Progress covers 0-90 %. Disks of one VM are copied one after the other (each copy already
 * keeps every core busy); the copy waits for the workers without blocking the thread, so other
 * VMs of the run copy at the same time.
 */
export async function copyDisks(plans: readonly DiskPlan[], writer: PointWriter, ctx: CopyContext): Promise<void> {
  const { store, base, events, activity } = ctx;
  for (const [n, plan] of plans.entries()) {
    const name = diskBaseName(plan.disk.hostResource, plan.disk.index);
    const progress = (d: number, t: number): void =>
      events.progress({ activity, status: `disk ${plan.disk.index}: unit ${d} of ${t}`, percent: Math.floor(((n + (t ? d / t : 1)) / plans.length) * 90) });
    const { source, unitSize } = plan;
    let copy: DiskCopyResult;
    const file = writer.diskFile(name, plan.method !== "full");
    if (plan.method === "full") {
      copy = await copyFull(source, file.absolute, unitSize, progress);
    } else {
      const parentFile = store.pointFile(base!.id, plan.baseDisk!.file);
      const units = plan.method === "rct"
        ? unitsOf(plan.ranges!, unitSize, source.virtualSize)
        : await changedUnitsByHash(source, unitSize, unitStateAt(store, ctx.catalog, base!.id, plan.disk.index), progress);
      copy = await copyUnits(source, file.absolute, parentFile, unitSize, units, progress, plan.method === "rct" ? plan.ranges : undefined);
    }
    writer.addDisk({ index: plan.disk.index, location: plan.disk.location, file: file.relative, sourcePath: plan.disk.hostResource, virtualSize: source.virtualSize, unitSize, storedBytes: copy.storedBytes, method: plan.method }, copy.units);
    crashPoint("backup-disk-copied");
  }
}
