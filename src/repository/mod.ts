/**
 * Where backups live: catalogs, restore points, manifests, locks and atomic publishing.
 *
 * @module
 */
export { Repository, VmStore, syncTree } from "./repository";
export * from "./catalog";
export * from "./manifest";
export * from "./layout";
export { acquireLock, readLock, type Lock, type LockInfo } from "./lock";
export { readJsonDocument, writeJsonDocument, withSelfChecksum, checkSelfChecksum, type JsonDocument } from "./json_document";
