/**
 * Resilient Change Tracking queries (reference §5.1): Msvm_ImageManagementService.
 * GetVirtualDiskChanges(Path, LimitId, TargetSnapshotId, ByteOffset, ByteLength) answers the
 * extents changed since the RCT id `LimitId` within the region, but may cover only part of it
 * (ProcessedByteLength): the client calls again from ByteOffset + ProcessedByteLength until the
 * region is covered.
 *
 * A baseline the host cannot answer for (unknown, reset or destroyed RCT id; a VHD; a
 * configuration version without RCT) fails with a family-B code the docs leave open; the ones
 * that mean "this baseline is unusable" are raised with code `RctIdInvalid` (32768 Failed,
 * 32773 Invalid parameter, 32775 Invalid state) or `RctNotSupported` (32770 Not Supported), so
 * the engine can fall back to a full backup. Other codes (access denied, file not found...)
 * stay `HyperVMethodFailed`: a full backup would not get past them either.
 */
import { HvbError } from "../base/mod";
import { type ClientContext, runMethod, servicePath, subjects } from "./jobs";
import type { HyperVMethodErrorCode } from "./method_errors";
import type { ByteRange } from "./types";
import { mergeRanges } from "../base/mod";
import { IMAGE_MANAGEMENT_SERVICE, getVhdSettings } from "./vhd_settings";
import { numberArray, requireNumber, unexpected } from "../cim/mod";

/** Return/job codes of GetVirtualDiskChanges that mean "this baseline cannot be used". */
const BASELINE_UNUSABLE: Record<number, HyperVMethodErrorCode> = {
  32768: "RctIdInvalid",
  32770: "RctNotSupported",
  32773: "RctIdInvalid",
  32775: "RctIdInvalid",
};

/** True for an error after which an incremental backup of the disk must fall back to a full one. */
export function isRctFallbackError(e: unknown): boolean {
  return e instanceof HvbError && (e.code === "RctIdInvalid" || e.code === "RctNotSupported");
}

/**
 * The extents of the disk file `diskPath` changed since the RCT id `limitId`, merged and sorted,
 * within `range` (default: the whole virtual disk, from GetVirtualHardDiskSettingData).
 * Loops on ProcessedByteLength until the region is covered.
 */
export async function getChangedRanges(ctx: ClientContext, diskPath: string, limitId: string, range?: ByteRange): Promise<ByteRange[]> {
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
    const { out } = await runMethod(
      ctx,
      svc,
      "GetVirtualDiskChanges",
      { Path: diskPath, LimitId: limitId, TargetSnapshotId: "", ByteOffset: offset, ByteLength: end - offset },
      subjects.file("disk", diskPath),
      { errorCodeFor: (code) => BASELINE_UNUSABLE[code] },
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
