/**
 * Where backups live: catalogs, restore points, manifests, locks and atomic publishing.
 *
 * @module
 */
export { Repository, VmStore } from "./repository";
export { PointWriter, type PointDetails, type StagedFile, type CommitOptions } from "./point_writer";
export { syncTree, hashTree, treeSize } from "./tree";
export * from "./catalog";
export * from "./manifest";
export * from "./layout";
export * from "./backup_set";
export { acquireLock, readLock, type Lock, type LockInfo } from "./lock";
export { readJsonDocument, writeJsonDocument, withSelfChecksum, checkSelfChecksum, type JsonDocument } from "./json_document";
