/**
 * Resilient Change Tracking queries (reference §5.1): Msvm_ImageManagementService.
 * GetVirtualDiskChanges(Path, LimitId, TargetSnapshotId, ByteOffset, ByteLength) answers the
 * extents changed since the RCT id `LimitId` within the region, but may cover only part of it
 * (ProcessedByteLength): the client calls again from ByteOffset + ProcessedByteLength until the
 * region is covered.
 *
 * A baseline the host cannot answer for (unknown, reset or destroyed RCT id; a VHD; a
 * configuration version without RCT) fails with a family-B code the docs leave open: which code
 * a reset or unknown id gives is not documented. So every failure of the call is raised as
 * `RctIdInvalid` (`RctNotSupported` for 32770 Not Supported) and the engine copies that disk in
 * full, with a warning naming the code; except 32769 Access denied, which stays
 * `HyperVAccessDenied`: a full copy would not get past it either, and the user must fix rights.
 *
 * TargetSnapshotId is sent only for a VHD Set (the page: "only valid for VHD Set files";
 * nxmBackup leaves it unset for plain disks too): the changes up to that snapshot of the set.
 */
import { HvbError } from "../base/mod";
import { type ClientContext, runQuery, servicePath, subjects } from "./jobs";
import { HyperVMethodError, type HyperVMethodErrorCode } from "./method_errors";
import type { ByteRange } from "./types";
import { mergeRanges } from "../base/mod";
import { IMAGE_MANAGEMENT_SERVICE, getVhdSettings } from "./vhd_settings";
import { numberArray, requireNumber, unexpected } from "../cim/mod";

/** The code of a GetVirtualDiskChanges failure: any code but access denied means "this baseline cannot be used". */
function baselineUnusable(code: number): HyperVMethodErrorCode | undefined {
  if (code === ACCESS_DENIED) return undefined;
  return code === NOT_SUPPORTED ? "RctNotSupported" : "RctIdInvalid";
}
const ACCESS_DENIED = 32769;
const NOT_SUPPORTED = 32770;

/**
 * True for an error after which an incremental backup of the disk must fall back to a full one:
 * any failure of GetVirtualDiskChanges or its job (a vanished job included), but not access
 * denied, nor a job given up on (no progress for the stall period, or stopped by the user): that
 * is no answer, the job may still read the checkpoint's file, and the run must not go on to act
 * on the checkpoint meanwhile (issue 13 A6); the backup fails and the job is recorded instead.
 */
export function isRctFallbackError(e: unknown): boolean {
  if (!(e instanceof HyperVMethodError)) return e instanceof HvbError && (e.code === "RctIdInvalid" || e.code === "RctNotSupported");
  return e.code !== "HyperVAccessDenied" && e.code !== "HyperVJobTimeout" && e.code !== "HyperVJobCancelled";
}

/**
 * The extents of the disk file `diskPath` changed since the RCT id `limitId`, merged and sorted,
 * within `range` (default: the whole virtual disk, from GetVirtualHardDiskSettingData).
 * Loops on ProcessedByteLength until the region is covered.
 */
export async function getChangedRanges(ctx: ClientContext, diskPath: string, limitId: string, range?: ByteRange, targetSnapshotId?: string): Promise<ByteRange[]> {
  const region = range ?? { offset: 0, length: (await getVhdSettings(ctx, diskPath)).virtualSize };
  if (!(region.offset >= 0 && region.length >= 0)) {
    throw new HvbError("InvalidArgument", `Cannot query changes of '${diskPath}': bad region ${region.offset}+${region.length}`, {
      category: "InvalidArgument",
      target: diskPath,
    });
  }
  const svc = await servicePath(ctx, IMAGE_MANAGEMENT_SERVICE);
  const end = region.offset + region.length;
  const found: ByteRange[] = [];
  let offset = region.offset;
  while (offset < end) {
    const { out } = await runQuery(
      ctx,
      svc,
      "GetVirtualDiskChanges",
      { Path: diskPath, LimitId: limitId, ...(targetSnapshotId === undefined ? {} : { TargetSnapshotId: targetSnapshotId }), ByteOffset: offset, ByteLength: end - offset },
      subjects.file("disk", diskPath),
      // WMI gives an empty array as null: only ProcessedByteLength says an answer came.
      ["ProcessedByteLength"],
      { errorCodeFor: baselineUnusable },
    );
    const processed = requireNumber(out["ProcessedByteLength"], "GetVirtualDiskChanges ProcessedByteLength");
    const offsets = numberArray(out["ChangedByteOffsets"], "ChangedByteOffsets");
    const lengths = numberArray(out["ChangedByteLengths"], "ChangedByteLengths");
    if (offsets.length !== lengths.length) {
      throw unexpected(`GetVirtualDiskChanges on '${diskPath}' returned ${offsets.length} offsets but ${lengths.length} lengths`, diskPath);
    }
    for (let i = 0; i < offsets.length; i++) found.push({ offset: offsets[i]!, length: lengths[i]! });
    if (!(processed > 0)) {
      throw unexpected(`GetVirtualDiskChanges on '${diskPath}' made no progress at byte ${offset} (ProcessedByteLength ${processed})`, diskPath);
    }
    offset += Math.min(processed, end - offset);
  }
  return mergeRanges(found, region);
}
