/**
 * What every virtual disk format offers (`VirtualDisk`), opening a file of either format, raw
 * images, and conversion between them.
 *
 * @module
 */
export type { VirtualDisk, DiskType, ByteRange } from "./virtual_disk";
export { openDisk, detectDiskFormat, type DiskFileFormat, type OpenDiskOptions } from "./open_disk";
export { RawDisk, RawWriter } from "./raw_disk";
export { convertDisk, isVhdxName, openSource, isAllZero, mergeRanges, forEachChunk, forEachNonZero, forEachDifference, type ConvertOptions, type ConvertResult } from "./convert";
