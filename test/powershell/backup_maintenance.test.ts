/**
 * Test-VMBackup, Remove-VMBackup, Export-VMBackupDisk, Get-VMBackupReadiness and Clear-VMBackupCheckpoint on a real PowerShell engine (build/pwsh, the Microsoft.PowerShell.SDK engine unless HVB_USE_REAL_PWSH is
 * set), against a lab host made with the CLI in a temporary folder (_backup_lab.ts). The tests
 * of a describe block run in order and share the lab and repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { keyValues, psQuote } from "./_pwsh";
import { defaultVmConfigVersion } from "../support/lab";
import { cli, diskBytes, lab, labVms, listPoints, ps, repo, seedBackups, setUpLab, snapshot, work } from "./_backup_lab";

beforeAll(() => {
  setUpLab();
  seedBackups();
}, 300_000);

afterAll(() => work?.remove());

describe("verifying, pruning, exporting and cleaning up on a lab host", () => {
  it("Test-VMBackup -Deep finds every point intact; -Quiet answers $true", () => {
    const count = listPoints().length;
    const r = ps(`
$report = Test-VMBackup -Path ./repo -Deep
"COUNT=$(@($report).Count)"
"TYPE=$($report.PSObject.TypeNames[0])"
"VALID=$($report.IsValid) DEEP=$($report.Deep) CHECKED=$($report.PointsChecked) DAMAGED=$(@($report.DamagedPoints).Count) PROBLEMS=$(@($report.Problems).Count)"
"QUIET=$(Test-VMBackup -Path ./repo -VMName web01 -Quiet) $((Test-VMBackup -Path ./repo -Quiet).GetType().Name)"
"PERVM=$(@(Get-VMBackup -Path ./repo | Test-VMBackup | ForEach-Object { "$($_.VMName):$($_.IsValid)" }) -join ',')"
$report
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["COUNT"]).toBe("1");
    expect(kv["TYPE"]).toBe("HyperVBackup.VerifyReport");
    expect(kv["VALID"]).toBe(`True DEEP=True CHECKED=${count} DAMAGED=0 PROBLEMS=0`);
    expect(kv["QUIET"]).toBe("True Boolean");
    // Each VM is checked once however many of its points are piped.
    expect(kv["PERVM"]).toBe("sql01:True,web01:True");
    expect(r.stdout).toMatch(/IsValid\s+VMName\s+Deep\s+Points\s+Damaged\s+Problems\s+Repository/);
  });

  it("Test-VMBackup reports damage in its report and as one ErrorRecord per damaged point, which -ErrorAction Stop catches", () => {
    const copy = join(work.dir, "repo-damaged");
    cpSync(repo, copy, { recursive: true });
    const vmDir = readdirSync(copy).find((d) => d.startsWith("web01_"))!;
    const pointsDir = join(copy, vmDir, "points");
    const full = readdirSync(pointsDir).find((d) => d.endsWith("-full"))!;
    const disk = join(pointsDir, full, "Virtual Hard Disks", readdirSync(join(pointsDir, full, "Virtual Hard Disks"))[0]!);
    const bytes = readFileSync(disk);
    // Flip bytes in the last block of data (payload, not metadata).
    for (let i = bytes.length - 4096; i < bytes.length - 2048; i++) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(disk, bytes);
    const r = ps(`
$report = Test-VMBackup -Path ./repo-damaged -VMName web01 -Deep -ErrorVariable damaged -ErrorAction SilentlyContinue -WarningVariable warned
"VALID=$($report.IsValid)"
"DAMAGED=$(@($report.DamagedPoints).Count -gt 0)"
"PROBLEMS=$(@($report.Problems).Count -gt 0) $(@($report.Problems)[0].PSObject.TypeNames[0])"
"ERRORS=$(@($damaged).Count -eq @($report.DamagedPoints).Count) $(@($damaged)[0].FullyQualifiedErrorId) $(@($damaged)[0].CategoryInfo.Category)"
"TARGETS=$((@($damaged | ForEach-Object { "web01/$($_.TargetObject)" }) -join ',') -eq (@($report.DamagedPoints) -join ','))"
"WARNED=$(@($warned).Count)"
$caught = 'nothing'
try { $null = Test-VMBackup -Path ./repo-damaged -VMName web01 -Deep -ErrorAction Stop; } catch { $caught = $_.FullyQualifiedErrorId }
"CAUGHT=$caught"
$Error.Clear()
"QUIET=$(Test-VMBackup -Path ./repo-damaged -Deep -Quiet) $($Error.Count)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["VALID"]).toBe("False");
    expect(kv["DAMAGED"]).toBe("True");
    expect(kv["PROBLEMS"]).toBe("True HyperVBackup.VerifyProblem");
    expect(kv["ERRORS"]).toBe("True RestorePointDamaged,Test-VMBackup InvalidData");
    expect(kv["TARGETS"]).toBe("True");
    expect(kv["WARNED"]).toBe("0");
    expect(kv["CAUGHT"]).toBe("RestorePointDamaged,Test-VMBackup");
    expect(kv["QUIET"]).toBe("False 0");
  });

  it("without -Confirm:$false a non-interactive session cannot confirm: Remove-VMBackup and Restore-VMFromBackup change nothing and say why", () => {
    const before = snapshot(repo);
    const vmsBefore = labVms().length;
    const r = ps(`
Remove-VMBackup -Path ./repo -VMName web01 -KeepLast 1 -ErrorVariable removeErrors -ErrorAction SilentlyContinue
"REMOVE=$($?) $($removeErrors[-1].FullyQualifiedErrorId)"
"MESSAGE=$($removeErrors[-1].Exception.Message)"
Get-VMBackup -Path ./repo -VMName web01 -Latest | Restore-VMFromBackup -NewVMId -NewName web01-ni -LabPath ./lab -ErrorVariable restoreErrors -ErrorAction SilentlyContinue
"RESTORE=$($?) $($restoreErrors[-1].FullyQualifiedErrorId)"
`);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    // -ErrorVariable also holds the host's own refusal (PSInvalidOperationException), which the
    // module catches; the record the cmdlet writes is the last one.
    expect(kv["REMOVE"]).toBe("False ConfirmationUnavailable,Remove-VMBackup");
    expect(kv["RESTORE"]).toBe("False ConfirmationUnavailable,Restore-VMFromBackup");
    expect(kv["MESSAGE"]).toContain("so nothing was changed");
    expect(kv["MESSAGE"]).toContain("-Confirm:$false");
    expect(snapshot(repo)).toBe(before);
    expect(labVms().length).toBe(vmsBefore);
  });

  it("Remove-VMBackup -WhatIf names the points that would go and changes nothing", () => {
    const before = snapshot(repo);
    const listed = listPoints("web01");
    const r = ps(`Remove-VMBackup -Path ./repo -VMName web01 -KeepLast 2 -WhatIf\n"DONE=yes"\n`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const doomed = listed.slice(0, listed.length - 2).map((p) => p.id);
    expect(r.stdout).toContain(`What if: Performing the operation "Merge ${doomed.length} restore point(s) (${doomed.join(", ")}) into newer ones, keeping the newest 2" on target "backups of virtual machine 'web01' in '${repo}'".`);
    expect(snapshot(repo)).toBe(before);
  });

  it("Remove-VMBackup -KeepLast merges the oldest points; what is kept still restores", () => {
    const listed = listPoints("web01");
    const r = ps(`
$result = Get-VMBackup -Path ./repo -VMName web01 | Remove-VMBackup -KeepLast 2 -Confirm:$false -PassThru
"COUNT=$(@($result).Count)"
"TYPE=$($result.PSObject.TypeNames[0])"
"REMOVED=$(@($result.Removed) -join ',')"
"KEPT=$(@($result.Kept) -join ',')"
"NOTHING=$(@(Remove-VMBackup -Path ./repo -VMName web01 -KeepLast 2 -Confirm:$false).Count)"
"DEEP=$(Test-VMBackup -Path ./repo -VMName web01 -Deep -Quiet)"
Remove-VMBackup -Path ./repo -VMName nope -KeepLast 1 -Confirm:$false -ErrorVariable e1 -ErrorAction SilentlyContinue
"UNKNOWN=$($e1[0].FullyQualifiedErrorId)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["COUNT"]).toBe("1"); // each VM once, however many of its points are piped
    expect(kv["TYPE"]).toBe("HyperVBackup.PruneResult");
    expect(kv["REMOVED"]!.split(",").sort()).toEqual(listed.slice(0, listed.length - 2).map((p) => p.id).sort());
    expect(kv["KEPT"]!.split(",").sort()).toEqual(listed.slice(-2).map((p) => p.id).sort());
    expect(kv["NOTHING"]).toBe("0");
    expect(kv["DEEP"]).toBe("True");
    expect(kv["UNKNOWN"]).toBe("VmNotInRepository,Remove-VMBackup");
    expect(listPoints("web01").map((p) => p.id)).toEqual(listed.slice(-2).map((p) => p.id));
  });

  it("Remove-VMBackup takes piped restore points: the oldest goes, a newer one or the last one is refused with one ErrorRecord", () => {
    const listed = listPoints("web01");
    expect(listed.length).toBe(2);
    const before = snapshot(repo);
    const refused = ps(`
Remove-VMBackup -Path ./repo -VMName web01 -KeepSince ([datetime]::UtcNow.AddDays(1)) -WhatIf
$points = @(Get-VMBackup -Path ./repo -VMName web01)
$points[0] | Remove-VMBackup -Confirm:$false -ErrorVariable e1 -ErrorAction SilentlyContinue
"NEWER=$(@($e1).Count) $($e1[0].FullyQualifiedErrorId) $($e1[0].TargetObject)"
`);
    expect(refused.stderr).toBe("");
    expect(refused.stdout).toContain(`What if: Performing the operation "Merge 1 restore point(s) (${listed[0]!.id}) into newer ones, keeping those taken since `);
    expect(keyValues(refused.stdout)["NEWER"]).toBe(`1 PointNotOldest,Remove-VMBackup ${listed[1]!.id}`);
    expect(snapshot(repo)).toBe(before);

    const r = ps(`
$points = @(Get-VMBackup -Path ./repo -VMName web01)
$result = $points[1] | Remove-VMBackup -Confirm:$false -PassThru
"REMOVED=$(@($result.Removed) -join ',') KEPT=$(@($result.Kept) -join ',')"
"DEEP=$(Test-VMBackup -Path ./repo -VMName web01 -Deep -Quiet)"
Get-VMBackup -Path ./repo -VMName web01 | Remove-VMBackup -Confirm:$false -ErrorVariable e2 -ErrorAction SilentlyContinue
"LAST=$(@($e2).Count) $($e2[0].FullyQualifiedErrorId)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["REMOVED"]).toBe(`${listed[0]!.id} KEPT=${listed[1]!.id}`);
    expect(kv["DEEP"]).toBe("True");
    expect(kv["LAST"]).toBe("1 PointNotOldest,Remove-VMBackup");
    expect(listPoints("web01").map((p) => p.id)).toEqual([listed[1]!.id]);
  });

  it("Export-VMBackupDisk writes one disk of a point as a standalone VHDX", () => {
    const newest = listPoints("sql01").at(-1)!;
    const r = ps(`
[void][System.IO.Directory]::CreateDirectory(${psQuote(join(work.dir, "exports"))})
$exported = Get-VMBackup -Path ./repo -VMName sql01 -Latest | Export-VMBackupDisk -DiskIndex 1 -DestinationPath ./exports
"TYPE=$($exported.PSObject.TypeNames[0])"
"PATH=$($exported.Path)"
"POINT=$($exported.RestorePointId) DISK=$($exported.DiskIndex) SIZE=$($exported.VirtualSize)"
"INFO=$((Get-VhdxFileInfo -Path $exported.Path).VirtualSize) $(Test-VhdxFile -Path $exported.Path)"
"PIPED=$(($exported | Get-VhdxFileInfo).Type)"
Export-VMBackupDisk -Path ./repo -VMName sql01 -DiskIndex 1 -DestinationPath ./exports -ErrorVariable e1 -ErrorAction SilentlyContinue
"EXISTS=$($e1[0].FullyQualifiedErrorId)"
Export-VMBackupDisk -Path ./repo -VMName sql01 -DestinationPath ./exports/whatif.vhdx -WhatIf
"WHATIF=$([System.IO.File]::Exists(${psQuote(join(work.dir, "exports", "whatif.vhdx"))}))"
Export-VMBackupDisk -Path ./repo -VMName sql01 -DiskIndex 7 -DestinationPath ./exports/nodisk.vhdx -ErrorVariable e2 -ErrorAction SilentlyContinue
"NODISK=$($e2[0].FullyQualifiedErrorId)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    const file = join(work.dir, "exports", `sql01_${newest.id}_disk1.vhdx`);
    expect(kv["TYPE"]).toBe("HyperVBackup.ExportedDisk");
    expect(kv["PATH"]).toBe(file);
    expect(kv["POINT"]).toBe(`${newest.id} DISK=1 SIZE=${8 * 1024 * 1024}`);
    expect(kv["INFO"]).toBe(`${8 * 1024 * 1024} True`);
    expect(kv["PIPED"]).toBe("dynamic");
    expect(kv["EXISTS"]).toBe("DestinationExists,Export-VMBackupDisk");
    expect(r.stdout).toMatch(/What if: .*whatif\.vhdx/);
    expect(kv["WHATIF"]).toBe("False");
    expect(kv["NODISK"]).toBe("DiskNotInPoint,Export-VMBackupDisk");
    // What the guest wrote to sql01's second disk is in the exported file.
    const want = diskBytes(labVms().find((v) => v.name === "sql01")!.disks[1]!.path, "sql01-1-now");
    expect(diskBytes(file, "sql01-1-exported").equals(want)).toBe(true);
  });

  it("Get-VMBackupReadiness says what the next backup will do", () => {
    const r = ps(`
$ready = Get-VMBackupReadiness -VMName web01 -Path ./repo -LabPath ./lab
"TYPE=$($ready.PSObject.TypeNames[0])"
"NEXT=$($ready.NextBackup) $($ready.ExpectedConsistency) $($ready.ConfigurationVersion) $($ready.VMId.GetType().Name)"
"METHODS=$(@($ready.Disks | ForEach-Object { $_.Method }) -join ',')"
"FIRST=$((Get-VMBackupReadiness web01 -LabPath ./lab).NextBackup)"
"PIPED=$(@([pscustomobject]@{ Name = 'sql01' }, 'web01' | Get-VMBackupReadiness -Path ./repo -LabPath ./lab | ForEach-Object { "$($_.VMName):$($_.NextBackup)" }) -join ',')"
Get-VMBackupReadiness -VMName nope -LabPath ./lab -ErrorVariable e1 -ErrorAction SilentlyContinue
"UNKNOWN=$($e1[0].FullyQualifiedErrorId) $($e1[0].TargetObject)"
$ready
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["TYPE"]).toBe("HyperVBackup.BackupReadiness");
    expect(kv["NEXT"]).toBe(`Incremental Application ${defaultVmConfigVersion()} Guid`);
    expect(kv["METHODS"]).toBe("rct");
    expect(kv["FIRST"]).toBe("Full");
    expect(kv["PIPED"]).toBe("sql01:Incremental,web01:Incremental");
    expect(kv["UNKNOWN"]).toBe("VmNotFound,Get-VMBackupReadiness nope");
    expect(r.stdout).toMatch(/VMName\s+State\s+Version\s+NextBackup\s+Consistency\s+DiskMethods\s+Warnings/);
  });

  it("Clear-VMBackupCheckpoint removes a stale reference point; -WhatIf names it and changes nothing", () => {
    // A backup whose removal of the previous reference point fails leaves that one behind.
    cli(["lab", "fail", "--lab", lab, "--method", "DestroyReferencePoint", "--code", "32775", "--times", "1"], work.dir);
    cli(["backup", "--vm", "sql01", "--repo", repo, "--lab", lab, "--json"], work.dir);
    const plan = () => JSON.parse(cli(["cleanup", "--vm", "sql01", "--repo", repo, "--lab", lab, "--what-if", "--json"], work.dir).split("\n").filter((l) => l.includes('"result"'))[0]!).data as { removedReferencePoints: string[] };
    const stale = plan().removedReferencePoints;
    expect(stale).toHaveLength(1);

    const r = ps(`
Clear-VMBackupCheckpoint -VMName sql01 -Path ./repo -LabPath ./lab -WhatIf
"AFTERWHATIF=yes"
$result = Clear-VMBackupCheckpoint -VMName sql01 -Path ./repo -LabPath ./lab -Confirm:$false -PassThru
"TYPE=$($result.PSObject.TypeNames[0])"
"REMOVED=$(@($result.RemovedReferencePoints) -join ',') CHECKPOINTS=$(@($result.RemovedCheckpoints).Count) KEPT=$(@($result.KeptReferencePoints).Count -ge 1)"
"AGAIN=$(@(Clear-VMBackupCheckpoint -VMName sql01 -Path ./repo -LabPath ./lab -Confirm:$false).Count)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`What if: Performing the operation "Remove 1 reference point(s) (${stale[0]})" on target "virtual machine 'sql01'".`);
    const kv = keyValues(r.stdout);
    expect(kv["TYPE"]).toBe("HyperVBackup.CleanupResult");
    expect(kv["REMOVED"]).toBe(`${stale[0]} CHECKPOINTS=0 KEPT=True`);
    expect(kv["AGAIN"]).toBe("0");
    expect(plan().removedReferencePoints).toEqual([]);
    // The next backup is still an RCT incremental.
    const next = JSON.parse(cli(["readiness", "--vm", "sql01", "--repo", repo, "--lab", lab, "--json"], work.dir).trim().split("\n").at(-1)!).data as { nextBackup: string; disks: Array<{ method: string }> };
    expect(next.nextBackup).toBe("incremental");
    expect(next.disks.map((d) => d.method)).toEqual(["rct", "rct"]);
  });

  it("completes -VMName from the repository, the lab or the host, and -RestorePointId from the repository", () => {
    const ids = listPoints("sql01").map((p) => p.id).reverse();
    const r = ps(`
function Complete([string] $Line) { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | ForEach-Object { $_.CompletionText }) -join ',' }
"REPO=$(Complete 'Get-VMBackup -Path ./repo -VMName ')"
"REPOPREFIX=$(Complete 'Remove-VMBackup -Path ./repo -VMName s')"
"LAB=$(Complete 'New-RecoveryBackup -LabPath ./lab -VMName ')"
"IDS=$(Complete 'Restore-VMFromBackup -Path ./repo -VMName sql01 -RestorePointId ')"
"NOREPO=$(Complete 'Get-VMBackup -Path ./no-such-repo -VMName ' | Where-Object { $_ -notlike './*' })"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["REPO"]!.split(",").sort()).toEqual(["sql01", "web01"]);
    expect(kv["REPOPREFIX"]).toBe("sql01");
    expect(kv["LAB"]!.split(",").sort()).toEqual(labVms().map((v) => v.name).sort());
    expect(kv["IDS"]).toBe(ids.join(","));
    expect(kv["NOREPO"]).toBe("");
  });

  it("Remove-VMBackup takes piped middle points: each is merged into the next one, and every kept point still restores bit-exact", () => {
    const mid = join(work.dir, "repo-mid");
    const exported = (id: string, tag: string): Buffer => {
      const out = join(work.dir, `mid-${tag}.vhdx`);
      cli(["export-disk", "--repo", mid, "--vm", "web01", "--point", id, "--disk", "0", "--out", out], work.dir);
      return diskBytes(out, `mid-${tag}`);
    };
    for (let i = 0; i < 4; i++) {
      cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", String((4 + i * 5) * 1024 * 1024), "--length", String(1536 * 1024), "--seed", String(40 + i)], work.dir);
      cli(["backup", "--vm", "web01", "--repo", mid, "--lab", lab, "--json"], work.dir);
    }
    const ids = listPoints("web01", mid).map((p) => p.id);
    expect(ids).toHaveLength(4);
    const before = new Map(ids.map((id, i) => [id, exported(id, `before-${i}`)]));
    const r = ps(`
$result = Get-VMBackup -Path ./repo-mid -VMName web01 | Where-Object { $_.RestorePointId -in @('${ids[1]}', '${ids[2]}') } | Remove-VMBackup -Confirm:$false -PassThru
"REMOVED=$(@($result | ForEach-Object { $_.Removed }) -join ',')"
"KEPT=$(@($result)[-1].Kept -join ',')"
"DEEP=$(Test-VMBackup -Path ./repo-mid -VMName web01 -Deep -Quiet)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["REMOVED"]).toBe(`${ids[1]},${ids[2]}`);
    expect(kv["KEPT"]).toBe(`${ids[0]},${ids[3]}`);
    expect(kv["DEEP"]).toBe("True");
    expect(listPoints("web01", mid).map((p) => p.id)).toEqual([ids[0], ids[3]]);
    for (const id of [ids[0]!, ids[3]!]) expect(exported(id, `after-${id}`).equals(before.get(id)!), `point ${id}`).toBe(true);
  });

  it("Remove-VMBackup -KeepSince keeps every point taken at or after a point's Time; the older ones are merged, the kept ones verify", () => {
    const since = join(work.dir, "repo-since");
    for (let i = 0; i < 3; i++) {
      cli(["lab", "write", "--lab", lab, "--vm", "sql01", "--disk", "0", "--offset", String((2 + i * 3) * 1024 * 1024), "--length", "65536", "--seed", String(70 + i)], work.dir);
      cli(["backup", "--vm", "sql01", "--repo", since, "--lab", lab, "--json"], work.dir);
    }
    const ids = listPoints("sql01", since).map((p) => p.id);
    expect(ids).toHaveLength(3);
    const r = ps(`
$second = Get-VMBackup -Path ./repo-since -VMName sql01 -RestorePointId ${psQuote(ids[1]!)}
$result = Remove-VMBackup -Path ./repo-since -VMName sql01 -KeepSince $second.Time -Confirm:$false -PassThru
"REMOVED=$(@($result.Removed) -join ',')"
"KEPT=$(@($result.Kept) -join ',')"
"DEEP=$(Test-VMBackup -Path ./repo-since -VMName sql01 -Deep -Quiet)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["REMOVED"]).toBe(ids[0]);
    expect(kv["KEPT"]).toBe(`${ids[1]},${ids[2]}`);
    expect(kv["DEEP"]).toBe("True");
    expect(listPoints("sql01", since).map((p) => p.id)).toEqual([ids[1], ids[2]]);
  });

  it("a stale lock (a run that was killed) is named with the cmdlets' remedy, and -ClearStaleLock on New-RecoveryBackup and Remove-VMBackup clears it", () => {
    const stale = join(work.dir, "repo-stale");
    cli(["backup", "--vm", "sql01", "--repo", stale, "--lab", lab, "--json"], work.dir);
    const store = join(stale, readdirSync(stale).find((d) => d.startsWith("sql01_"))!);
    // The lock a killed run leaves: its process no longer runs on this host.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const leaveLock = (operation: string) =>
      writeFileSync(join(store, ".lock"), JSON.stringify({ pid: dead, host: hostname(), operation, started: new Date(Date.now() - 60_000).toISOString() }));
    leaveLock("backup");
    let r = ps(`
New-RecoveryBackup -VMName sql01 -Path ./repo-stale -LabPath ./lab -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
"STALE=$(@($e).Count) $($e[0].FullyQualifiedErrorId)"
"REMEDY=$($e[0].Exception.Message)"
$point = New-RecoveryBackup -VMName sql01 -Path ./repo-stale -LabPath ./lab -ClearStaleLock -Confirm:$false
"CLEARED=$($point.Kind)"
`);
    expect(r.status).toBe(0);
    let kv = keyValues(r.stdout);
    expect(kv["STALE"]).toBe("1 LockStale,New-RecoveryBackup");
    expect(kv["REMEDY"]).toContain("-ClearStaleLock");
    expect(kv["CLEARED"]).toBe("Incremental");
    expect(listPoints("sql01", stale)).toHaveLength(2);
    expect(existsSync(join(store, ".lock"))).toBe(false);

    leaveLock("prune");
    r = ps(`
Remove-VMBackup -Path ./repo-stale -VMName sql01 -KeepLast 1 -Confirm:$false -ErrorVariable e -ErrorAction SilentlyContinue
"STALE=$(@($e).Count) $($e[0].FullyQualifiedErrorId)"
Remove-VMBackup -Path ./repo-stale -VMName sql01 -KeepLast 1 -ClearStaleLock -Confirm:$false
"LEFT=$(@(Get-VMBackup -Path ./repo-stale -VMName sql01).Count)"
`);
    expect(r.status).toBe(0);
    kv = keyValues(r.stdout);
    expect(kv["STALE"]).toBe("1 LockStale,Remove-VMBackup");
    expect(kv["LEFT"]).toBe("1");
    expect(listPoints("sql01", stale)).toHaveLength(1);
    expect(existsSync(join(store, ".lock"))).toBe(false);
  });
});
