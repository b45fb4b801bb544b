/**
 * The product's use cases over a Hyper-V host and a repository: backup, restore, verify, prune,
 * export-disk (via flatten), cleanup and readiness.
 *
 * @module
 */
export { backupVm, type BackupOptions, type BackupResult } from "./backup/backup";
export { type PassThroughPolicy } from "./backup/passthrough";
export { backupSet, type BackupSetOptions, type BackupSetReport, type VmOutcome } from "./backup/backup_set";
export { type HostFleet, singleHostFleet } from "./backup/fleet";
export { type VmSelection, type SelectedVm, type ResolvedSelection, type SelectionFailure, findOnFleet, resolveSelection } from "./backup/selection";
export { hasWildcard, wildcardRegExp } from "./backup/wildcard";
export { runScheduled, type ScheduledTask, type SchedulerLimits, type SchedulerPeaks, type ScheduledRun, type TaskOutcome, type TaskResource, type SchedulerOptions } from "./scheduler";
export { restoreVm, type RestoreOptions, type RestoreResult } from "./restore";
export { verifyRepository, type VerifyReport, type VerifyProblem } from "./verify";
export { pruneVm, type PruneResult } from "./prune";
export { flattenPointDisk, type FlattenResult } from "./flatten";
export { cleanupVm, type CleanupResult } from "./cleanup";
export { readiness, rctUnavailableReason, type ReadinessReport } from "./readiness";
export { chainOf, requireRestorable, selectPoint, unitStateAt, usableBase } from "./point_chain";
export { unitSizeFor } from "./units";
export type { EngineEvents, ProgressEvent } from "./events";
export type { HostApi, HostVm, HostDisk, HostCheckpoint, HostReferencePoint, HostPlanned } from "./host_api";
export { backupGroup, type GroupBackupResult } from "./group_backup/backup_group";
export { restoreGroup, restoreVmOrMember, type GroupRestoreOptions, type GroupRestoreResult } from "./group_backup/restore_group";
export { selectSet, setsOfGroup } from "./group_backup/select_set";
export { dropBrokenSets, pruneGroup, verifySets, type GroupPruneResult } from "./group_backup/set_retention";
export { type HostPathFacts, pathForHost, repositoryAccessWarning } from "./host_paths";
