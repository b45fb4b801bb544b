/** `backup --group`: each group backed up as one set, one after the other; one group's failure does not stop the others. */
import { toHvbError } from "../base/mod";
import { backupGroup, type BackupOptions, type EngineEvents, type GroupBackupResult, type HostApi } from "../engine/mod";
import type { Repository } from "../repository/mod";
import { formatBytes } from "./format";

export type GroupOutcome = { group: string; ok: true; result: GroupBackupResult } | { group: string; ok: false; error: unknown };

export async function backupGroups(host: HostApi, repo: Repository, groups: readonly string[], options: BackupOptions, events: EngineEvents): Promise<GroupOutcome[]> {
  const out: GroupOutcome[] = [];
  for (const group of groups) {
    try {
      out.push({ group, ok: true, result: await backupGroup(host, repo, group, options, events) });
    } catch (e) {
      out.push({ group, ok: false, error: e });
      if (groups.length > 1) events.warning(`Backup of group '${group}' failed: ${(e as Error).message}`, "BackupFailed");
    }
  }
  return out;
}

/** The JSON and human forms of group results: per group its set id and each member's point. */
export function groupSummaries(results: readonly GroupOutcome[]): { data: Record<string, unknown>[]; human: string } {
  const data = results.map((r) => {
    if (!r.ok) {
      const e = toHvbError(r.error);
      return { group: r.group, ok: false, error: e.message, code: e.code, category: e.category };
    }
    const g = r.result;
    return {
      group: g.groupName,
      groupId: g.groupId,
      ok: true,
      setId: g.setId,
      points: g.members.map((m) => ({ id: m.point.id, vmName: m.vmName, setId: g.setId, vmId: m.vmId, time: m.point.time, kind: m.point.kind, consistency: m.point.consistency, sizeBytes: m.point.sizeBytes, parentId: m.point.parentId, disks: m.point.disks, warnings: m.warnings })),
      warnings: g.warnings,
    };
  });
  const human = results
    .map((r) =>
      r.ok
        ? [`group ${r.result.groupName}: set ${r.result.setId}`, ...r.result.members.map((m) => `  ${m.vmName}: ${m.point.kind} backup ${m.point.id} (${m.point.consistency}-consistent), ${formatBytes(m.point.sizeBytes)} added`)].join("\n")
        : `group ${r.group}: FAILED (no member got a new point): ${(r.error as Error).message}`,
    )
    .join("\n");
  return { data, human };
}
