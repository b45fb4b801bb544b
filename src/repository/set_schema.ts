import * as v from "valibot";
import { described, integer, isoTime, list, oneOf, text } from "./schema_kit";

/**
 * `sets/<id>.json`, a backup set record (backup_set.ts), described once (see catalog_schema.ts
 * for how the schemas are used).
 */

export const SET_FORMAT = "HyperVBackup.Set";
export const SET_VERSION = 1;

const POINT_ID = /^\d{8}T\d{6}\.\d{3}Z-(full|incr)$/;
const SET_ID = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{1,8}$/;

/** Schema of one member's point of a set. */
export const SetMemberSchema = v.strictObject({
  vmId: described(text(64, "a VM id of 1 to 64 characters", /^.+$/), "The member VM's id (its catalog's)."),
  vmName: described(text(256, "a VM name of at most 256 characters"), "The member VM's name."),
  pointId: described(text(40, "a restore point id like 20261123T180000.123Z-full", POINT_ID), "The member's point of this set, in its catalog."),
});

/** The fields of a set record. */
export const SetObjectSchema = v.strictObject({
  format: described(oneOf([SET_FORMAT] as const), "What this file is."),
  version: described(integer(1, SET_VERSION, `a format version from 1 to ${SET_VERSION}`), "Format version."),
  id: described(text(40, "a set id like 20261204T113000.123Z-1a2b3c4d", SET_ID), "The set's id: the group checkpoint's UTC time and the group id's first 8 hex digits; the file's name."),
  groupId: described(text(64, "a group id of 1 to 64 characters", /^.+$/), "The VM group's id."),
  groupName: described(text(256, "a group name of at most 256 characters"), "The VM group's name."),
  time: described(isoTime(), "UTC time of the group's checkpoint."),
  state: described(oneOf(["committing", "committed"] as const), "'committed' once every member's point is in its catalog (the set's commit point)."),
  members: described(list(SetMemberSchema, 1, 1000, "a list of 1 to 1000 members"), "Every member's point."),
  referencePoint: described(v.nullable(v.strictObject({ id: described(text(1024, "a string of at most 1024 characters"), "Msvm_ReferencePointCollection CollectionID.") })), "The group's reference point collection made right after this set (newest set only)."),
  checksum: described(v.optional(text(64, "a SHA-256 in hex", /^[0-9a-f]{64}$/)), "SHA-256 of the compact JSON of the other fields."),
});

/** Schema of a set record. */
export const SetSchema = SetObjectSchema;
