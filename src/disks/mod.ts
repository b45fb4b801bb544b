/**
 * Disks of any format: opening a file whatever its format, raw images, and conversion between
 * formats. The one place that dispatches on the file format.
 *
 * @module
 */
export { openDisk, detectDiskFormat, type DiskFileFormat, type OpenDiskOptions } from "./open_disk";
export { RawDisk, RawWriter } from "./raw_disk";
export { convertDisk, isVhdxName, openSource, isAllZero, forEachChunk, forEachNonZero, forEachDifference, type ConvertOptions, type ConvertResult } from "./convert";
