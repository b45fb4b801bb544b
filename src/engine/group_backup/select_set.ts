import { HvbError } from "../../base/mod";
import { type Repository, type SetRecord, listSetRecords } from "../../repository/mod";

/** The committed sets of the group named `groupNameOrId` (name as recorded, or group id), oldest first. */
export function setsOfGroup(repo: Repository, groupNameOrId: string): SetRecord[] {
  const want = groupNameOrId.toLowerCase().replace(/^\{|\}$/g, "");
  const sets = listSetRecords(repo.root).filter((s) => s.state === "committed" && (s.groupName.toLowerCase() === want || s.groupId.toLowerCase() === want));
  if (sets.length === 0) {
    throw new HvbError("GroupNotInRepository", `Repository '${repo.root}' has no backup sets of VM group '${groupNameOrId}'`, { category: "ObjectNotFound", target: groupNameOrId });
  }
  const ids = new Set(sets.map((s) => s.groupId.toLowerCase()));
  if (ids.size > 1) {
    throw new HvbError("GroupAmbiguous", `Repository '${repo.root}' has backup sets of ${ids.size} VM groups named '${groupNameOrId}': use the group id (${[...ids].join(", ")})`, { category: "InvalidArgument", target: groupNameOrId });
  }
  return sets;
}

/** A set of the group: its id, `latest` (default), or a time (the newest set at or before it). */
export function selectSet(repo: Repository, groupNameOrId: string, selector: string | undefined): SetRecord {
  const sets = setsOfGroup(repo, groupNameOrId);
  if (selector === undefined || selector === "latest") return sets[sets.length - 1]!;
  const byId = sets.find((s) => s.id === selector);
  if (byId) return byId;
  const t = Date.parse(selector);
  if (Number.isNaN(t)) {
    throw new HvbError("SetNotFound", `'${selector}' is neither a backup set id of group '${groupNameOrId}', 'latest', nor a time`, { category: "InvalidArgument", target: selector });
  }
  const candidates = sets.filter((s) => Date.parse(s.time) <= t);
  if (candidates.length === 0) {
    throw new HvbError("SetNotFound", `Group '${groupNameOrId}' has no backup set at or before ${new Date(t).toISOString()} (the oldest is ${sets[0]!.time})`, { category: "ObjectNotFound", target: selector });
  }
  return candidates[candidates.length - 1]!;
}
