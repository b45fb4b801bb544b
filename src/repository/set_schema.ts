import * as v from "valibot";
import { described, integer, isoTime, list, oneOf, text } from "./schema_kit";

/**
 * `sets/<id>.json`, a backup set record (backup_set.ts), described once (see catalog_schema.ts
 * for how the schemas are used).
 */

export const SET_FORMAT = "HyperVBackup.Set";
/** 2: a set of a guest cluster may carry `sharedDisks`; a set without them is still written as 1. */
export const SET_VERSION = 2;

const POINT_ID = /^\d{8}T\d{6}\.\d{3}Z-(full|incr)$/;
const SET_ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{1,8}$/;
/** A VM's id (its catalog's) and a VM group's (Msvm_VirtualSystemCollection CollectionID, Get-VMGroup's InstanceId) are GUIDs. */
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** Schema of one member's point of a set. */
export const SetMemberSchema = v.strictObject({
  vmId: described(text(36, "a GUID like 8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41", GUID), "The member VM's id (its catalog's)."),
  vmName: described(text(256, "a VM name of at most 256 characters"), "The member VM's name."),
  pointId: described(text(40, "a restore point id like 20261123T180000.123Z-full", POINT_ID), "The member's point of this set, in its catalog."),
});

/** Where one member attaches a shared disk. */
export const SharedAttachmentSchema = v.strictObject({
  vmId: described(text(36, "a GUID like 8d94e66b-1d2c-4f1e-9b7a-0c5e2b8f3a41", GUID), "The member that attaches it."),
  location: described(text(256, "a disk location of at most 256 characters"), "Where it is attached (the `<controller>\\<n>\\<lun>` part of its SASD InstanceID, lower case)."),
});

/**
 * A shared disk of the set (a VHD Set of a guest cluster), stored once for the whole set as a
 * VHDX stock tools open: the full data, or a differencing VHDX over the previous set's file.
 */
export const SharedDiskSchema = v.strictObject({
  sourcePath: described(text(1024, "a path of at most 1024 characters", /^.+$/), "The .vhds file on the host (never read by the product)."),
  file: described(text(512, "a repository-relative path like sets/<set id>.shared/<name>.vhdx", /^sets\/\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{1,8}\.shared\/[^/\\]+\.vhdx$/), "The VHDX holding the shared disk at the set's time (differencing over the parent set's for an incremental)."),
  kind: described(oneOf(["full", "incremental"] as const), "Whole disk, or only what changed since the parent set's VHD Set snapshot (RCT)."),
  parentSetId: described(v.nullable(text(40, "a set id", SET_ID)), "The set whose shared disk file is this file's parent (incremental); null for a full."),
  virtualSize: described(integer(1, Number.MAX_SAFE_INTEGER, "a positive whole number of bytes"), "The disk's virtual size."),
  size: described(integer(0, Number.MAX_SAFE_INTEGER, "a whole number of bytes"), "The file's size."),
  sha256: described(text(64, "a SHA-256 in hex", /^[0-9a-f]{64}$/), "SHA-256 of the file."),
  snapshotId: described(text(64, "a GUID", /^[0-9a-f-]{36}$/), "The VHD Set snapshot the data was read from (GetVHDSnapshotInformation)."),
  rctId: described(text(1024, "a string of at most 1024 characters"), "ResilientChangeTrackingId of that snapshot: the next set's LimitId (\"\" when none)."),
  attachments: described(list(SharedAttachmentSchema, 1, 1000, "a list of 1 to 1000 attachments"), "Every member that attaches it, and where."),
});

/** The fields of a set record. */
export const SetObjectSchema = v.strictObject({
  format: described(oneOf([SET_FORMAT] as const), "What this file is."),
  version: described(integer(1, SET_VERSION, `a format version from 1 to ${SET_VERSION}`), "Format version."),
  id: described(text(40, "a set id like 20261204T113000.123Z-1a2b3c4d", SET_ID), "The set's id: the group checkpoint's UTC time and the group id's first 8 hex digits; the file's name."),
  groupId: described(text(36, "a GUID like 4b2d84bc-8745-4b9c-ad2b-942ea3515674", GUID), "The VM group's id."),
  groupName: described(text(256, "a group name of at most 256 characters"), "The VM group's name."),
  time: described(isoTime(), "UTC time of the group's checkpoint."),
  state: described(oneOf(["committing", "committed"] as const), "'committed' once every member's point is in its catalog (the set's commit point)."),
  members: described(list(SetMemberSchema, 1, 1000, "a list of 1 to 1000 members"), "Every member's point."),
  sharedDisks: described(v.optional(list(SharedDiskSchema, 1, 64, "a list of 1 to 64 shared disks")), "Shared disks (VHD Sets) of the guest cluster, each stored once for the set (format version 2)."),
  referencePoint: described(v.nullable(v.strictObject({ id: described(text(1024, "a string of at most 1024 characters"), "Msvm_ReferencePointCollection CollectionID.") })), "The group's reference point collection made right after this set (newest set only)."),
  checksum: described(v.optional(text(64, "a SHA-256 in hex", /^[0-9a-f]{64}$/)), "SHA-256 of the compact JSON of the other fields."),
});

/** Schema of a set record. */
export const SetSchema = SetObjectSchema;
