import { existsSync, rmSync } from "node:fs";
import { HvbError } from "../base/mod";
import type { Catalog, PointRecord } from "../repository/mod";
import type { VmStore } from "../repository/mod";
import { publishFile, stagingPathFor } from "../base/mod";
import { createVhdx } from "../vhdx/mod";
import { VhdxImage } from "../vhdx/mod";
import { zeroHashOf } from "./disk_copy";
import { forEachUnit } from "./pipeline/unit_pipeline";
import { startSharedPool } from "./pipeline/worker_pool";
import { unitStateAt } from "./point_chain";
import { chainUnitsAnd } from "./units";

/** Result of flattening one disk of a restore point. */
export interface FlattenResult {
  destination: string;
  virtualSize: number;
  bytesWritten: number;
  unitsChecked: number;
}

/**
 * Writes one disk of a restore point as a standalone dynamic VHDX at `destination`, reading
 * through the point's chain in the repository and checking every unit against the manifests
 * (the hash the newest point in the chain recorded for it, or zero). A mismatch stops the
 * restore with an error naming the point, disk and offset: restore never produces silently
 * wrong data. The file is built under a temporary name and renamed into place when complete.
 */
export function flattenPointDisk(
  store: VmStore,
  catalog: Catalog,
  point: PointRecord,
  diskIndex: number,
  destination: string,
  progress?: (done: number, total: number) => void,
): FlattenResult {
  // The workers boot while the chain is opened and its manifests read (export-disk).
  startSharedPool();
  const disk = point.disks.find((d) => d.index === diskIndex);
  if (!disk) throw new HvbError("DiskNotInPoint", `Restore point '${point.id}' of '${catalog.vmName}' has no disk ${diskIndex} (it has ${point.disks.map((d) => d.index).join(", ")})`, { category: "ObjectNotFound", target: point.id });
  if (existsSync(destination)) throw new HvbError("DestinationExists", `Cannot restore disk ${diskIndex} to '${destination}': the file exists`, { category: "ResourceUnavailable", target: destination });
  const expected = unitStateAt(store, catalog, point.id, diskIndex);
  // A file of the chain that cannot be read as VHDX is a damaged backup: say so, and where.
  const damaged = (e: unknown): unknown =>
    e instanceof HvbError && e.category === "InvalidData" && e.code !== "RestorePointDamaged"
      ? new HvbError("RestorePointDamaged", `Restore point '${point.id}' of '${catalog.vmName}', disk ${diskIndex}: the backup is damaged (${e.message}) — run 'hvbackup verify --deep' and restore an older point`, { category: "InvalidData", target: point.id })
      : e;
  let source: VhdxImage;
  try {
    source = VhdxImage.open(store.pointFile(point.id, disk.file));
  } catch (e) {
    throw damaged(e);
  }
  const staging = stagingPathFor(destination);
  let bytesWritten = 0;
  let unitsChecked = 0;
  try {
    const unitSize = disk.unitSize;
    if (source.virtualSize !== disk.virtualSize) {
      throw new HvbError("RestorePointDamaged", `Restore point '${point.id}' disk ${diskIndex}: file '${disk.file}' is ${source.virtualSize} bytes, the catalog says ${disk.virtualSize}`, { category: "InvalidData", target: disk.file });
    }
    const sorted = chainUnitsAnd(source, unitSize, expected.keys());
    const dest = createVhdx(staging, { virtualSize: source.virtualSize, blockSize: unitSize, logicalSectorSize: source.logicalSectorSize as 512 | 4096, physicalSectorSize: source.physicalSectorSize as 512 | 4096, virtualDiskId: source.virtualDiskId });
    try {
      const zeroHash = new Map<number, string>();
      let done = 0;
      forEachUnit({
        source,
        unitSize,
        units: sorted,
        consume: (u, part, hash) => {
          const want = expected.get(u);
          const ok = want === undefined ? hash.zero : (hash.zero ? zeroHashOf(part.length, zeroHash) : hash.sha256) === want;
          if (!ok) {
            throw new HvbError("RestorePointDamaged", `Restore point '${point.id}' of '${catalog.vmName}', disk ${diskIndex}: data at offset ${u * unitSize} (${part.length} bytes) does not match the manifest; the backup is damaged — run 'hvbackup verify --deep' and restore an older point`, { category: "InvalidData", target: point.id });
          }
          unitsChecked++;
          // Each block is written once, from the newest point that holds it (the pipeline reads
          // through the chain's block map), never a full copy patched afterwards.
          progress?.(++done, sorted.length);
          if (hash.zero) return undefined;
          bytesWritten += part.length;
          // A worker writes the block; this thread only places it in the new file's BAT.
          const place = dest.placeBlock(u * unitSize, part.length);
          if (place) return { ...place, path: staging };
          dest.write(part, u * unitSize);
          return undefined;
        },
      });
    } finally {
      dest.close();
    }
    publishFile(staging, destination);
  } catch (e) {
    if (existsSync(staging)) rmSync(staging, { force: true });
    throw damaged(e);
  } finally {
    source.close();
  }
  return { destination, virtualSize: disk.virtualSize, bytesWritten, unitsChecked };
}
