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
export { acquireLock, acquireSharedLock, readLock, type Lock, type LockInfo, type SharedLock } from "./lock";
export { readJsonDocument, writeJsonDocument, withSelfChecksum, checkSelfChecksum, type JsonDocument } from "./json_document";
export { checkPoints, requireConsistent, pointsUsingFolder, type CheckProblem, type CheckReport, type CheckOptions } from "./checker";
export { realFileInside, realFolderInside, isInside, readDiskFacts, type DiskFacts } from "./file_facts";
export { RealPaths } from "./real_paths";
export { fieldTable, fieldTableMarkdown, type FieldRow, type DocumentSchema } from "./schema_kit";
export { CatalogSchema, CatalogObjectSchema, PointRecordSchema, PointDiskSchema, OurReferencePointSchema, PendingMergeSchema } from "./catalog_schema";
export { SetSchema, SetObjectSchema, SetMemberSchema, SharedDiskSchema, SharedAttachmentSchema } from "./set_schema";
export { ManifestSchema, ManifestObjectSchema, ManifestDiskSchema, ManifestFileSchema } from "./manifest_schema";
