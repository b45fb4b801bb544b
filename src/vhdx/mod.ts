/**
 * The VHDX format (MS-VHDX v1.0): open, read, write, create, merge and check fixed, dynamic and
 * differencing files, with log replay and parent chains.
 *
 * @module
 */
export { VhdxImage, type VhdxOpenOptions, type Extent, type ExtentKind, type PhysicalRun } from "./vhdx_image";
export { createVhdx, type CreateVhdxOptions } from "./create";
export { mergeVhdxIntoParent } from "./merge";
export { checkVhdx, type VhdxCheckReport } from "./check";
export { VhdxFormatError } from "./errors";
export { resolveParentPath, relativeLocatorPath } from "./parent_path";
export type { ParentLocatorEntries } from "./parent_locator";
export type { VhdxHeader } from "./header";
export type { BatGeometry } from "./bat";
export { relinkParent } from "./relink";
export type { MetadataEntry } from "./metadata_table";
export type { RegionEntry } from "./region_table";
export { redundantCopyProblems } from "./redundancy";
export { serializeParentLocator } from "./parent_locator";
