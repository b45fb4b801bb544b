/**
 * Legacy VHD (Virtual PC / Hyper-V v1) disks: read fixed, dynamic and differencing chains;
 * create fixed, dynamic and differencing (.avhd) files; write guest data; merge a child into
 * its parent. Format notes: docs/format/vhd.md.
 *
 * @module
 */
export { VhdImage, type VhdOpenOptions } from "./vhd_image";
export { createVhd, createVhdDifferencing, type CreateVhdOptions, type CreateVhdDifferencingOptions } from "./create";
export { mergeVhdIntoParent, type VhdMergeResult } from "./merge";
export { isVhdFile } from "./is_vhd";
export type { VhdFooter } from "./footer";
export type { VhdDynamicHeader } from "./dynamic_header";
export { type ParentLocatorEntry, EMPTY_LOCATOR } from "./parent_locator";
export type { ChsGeometry } from "./geometry";
export { vhdChecksum } from "./checksum";
