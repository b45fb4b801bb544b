/**
 * What every layer shares and nothing in it depends on another layer: the one error type users
 * see ({@link HvbError}, with a stable code and a PowerShell-style category), byte ranges,
 * atomic files, named crash points and the process-alive check.
 *
 * @module
 */
export { HvbError, UsageError, isHvbError, toHvbError, type HvbCategory, type HvbErrorDetails } from "./hvb_error";
export type { HvbErrorCode } from "./error_codes";
export { type ByteRange, mergeRanges, pushRange, totalLength } from "./ranges";
export { stagingPathFor, fsyncDir, publishFile, writeFileAtomic } from "./atomic_file";
export { crashPoint } from "./crash_point";
export { processAlive } from "./process_alive";
export { stripLongPathPrefix, windowsPathParts, windowsBaseName, isDrivePath, isUncPath, isRootedWindowsPath, relativeWindowsPath } from "./windows_path";
export { type MappedDrive, driveLetterOf, mappedDriveOf, onShare } from "./mapped_path";
export { openRegularFile, readRegularFile } from "./regular_file";
