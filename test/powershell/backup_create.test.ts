/**
 * New-RecoveryBackup (full, incremental, several VMs, pipeline binding, errors) on a real PowerShell engine (build/pwsh, the Microsoft.PowerShell.SDK engine unless HVB_USE_REAL_PWSH is
 * set), against a lab host made with the CLI in a temporary folder (_backup_lab.ts). The tests
 * of a describe block run in order and share the lab and repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyValues, runScript } from "./_pwsh";
import { cli, IMPORT, lab, listPoints, ps, repo, setUpLab, work } from "./_backup_lab";

beforeAll(() => setUpLab(), 300_000);

afterAll(() => work?.remove());

describe("New-RecoveryBackup on a lab host", () => {
  let fullId = "";

  it("New-RecoveryBackup takes a full backup, then an RCT incremental", () => {
    let r = ps(`
$point = New-RecoveryBackup -VMName web01 -Path ./repo -LabPath ./lab
"COUNT=$(@($point).Count)"
"TYPE=$($point.PSObject.TypeNames[0])"
"VMNAME=$($point.VMName)"
"KIND=$($point.Kind)"
"CONSISTENCY=$($point.ConsistencyLevel)"
"ID=$($point.RestorePointId) ALIAS=$($point.Id)"
"TIMETYPE=$($point.Time.GetType().FullName)"
"TIMEUTC=$($point.Time.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ'))"
"VMIDTYPE=$($point.VMId.GetType().Name)"
"SIZE=$($point.SizeBytes.GetType().Name) $($point.SizeBytes -gt 0)"
"PARENT=$($point.ParentId)"
"DISKS=$(@($point.Disks).Count) $(@($point.Disks)[0].PSObject.TypeNames[0]) $(@($point.Disks)[0].Method) $(@($point.Disks)[0].VirtualSize)"
"REPOSITORY=$($point.Repository)"
"WARNINGSTYPE=$($point.Warnings.GetType().Name)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    let kv = keyValues(r.stdout);
    const listed = listPoints("web01");
    expect(listed).toHaveLength(1);
    fullId = listed[0]!.id;
    expect(kv["COUNT"]).toBe("1");
    expect(kv["TYPE"]).toBe("HyperVBackup.RestorePoint");
    expect(kv["VMNAME"]).toBe("web01");
    expect(kv["KIND"]).toBe("Full");
    expect(kv["CONSISTENCY"]).toBe("Application");
    expect(kv["ID"]).toBe(`${fullId} ALIAS=${fullId}`);
    expect(kv["TIMETYPE"]).toBe("System.DateTime");
    expect(kv["TIMEUTC"]).toBe(listed[0]!.time);
    expect(kv["VMIDTYPE"]).toBe("Guid");
    expect(kv["SIZE"]).toBe("Int64 True");
    expect(kv["PARENT"]).toBe("");
    expect(kv["DISKS"]).toBe(`1 HyperVBackup.RestorePointDisk full ${32 * 1024 * 1024}`);
    expect(kv["REPOSITORY"]).toBe(repo);
    expect(kv["WARNINGSTYPE"]).toBe("String[]");

    cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", String(8 * 1024 * 1024), "--length", "65536", "--seed", "3"], work.dir);
    r = ps(`
$point = New-RecoveryBackup web01 ./repo -LabPath ./lab
"KIND=$($point.Kind)"
"PARENT=$($point.ParentId)"
"METHOD=$(@($point.Disks)[0].Method) STORED=$(@($point.Disks)[0].StoredBytes)"
$point
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    kv = keyValues(r.stdout);
    expect(kv["KIND"]).toBe("Incremental");
    expect(kv["PARENT"]).toBe(fullId);
    expect(kv["METHOD"]).toBe("rct STORED=65536");
    // The table view from HyperVBackup.Format.ps1xml.
    expect(r.stdout).toMatch(/VMName\s+Time\s+Kind\s+Consistency\s+Size\s+Disks\s+RestorePointId/);
    expect(r.stdout).toMatch(/web01\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Incremental Application\s+[\d.]+ KiB\s+1 \d{8}T/);
  });

  it("New-RecoveryBackup backs up every VM of the pipeline in one run, in the order given, with progress per VM", () => {
    const r = runScript(work.dir, IMPORT + `
$points = 'web01', 'sql01' | New-RecoveryBackup -Path ./repo -LabPath ./lab -ThrottleLimit 2 -Verbose 4>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.VerboseRecord]) { if ($_.Message -like 'Running:*') { "RUN=$($_.Message)" } } else { $_ }
}
foreach ($item in $points) { if ($item -is [string]) { $item } }
$points = @($points | Where-Object { $_ -isnot [string] })
"COUNT=$($points.Count)"
"ORDER=$(@($points | ForEach-Object { "$($_.VMName):$($_.Kind)" }) -join ',')"
"TYPES=$(@($points | ForEach-Object { $_.PSObject.TypeNames[0] }) -join ',')"
"SQLDISKS=$(@($points[1].Disks).Count)"
`, [], { HVB_PSHOST_PROGRESS: "1" });
    const progress = r.stderr.split(/\r?\n/).filter((l) => l.startsWith("PROGRESS: "));
    expect(r.stderr.split(/\r?\n/).filter((l) => l.length > 0 && !l.startsWith("PROGRESS: "))).toEqual([]);
    expect(progress.some((l) => l.startsWith("PROGRESS: Backing up web01: "))).toBe(true);
    expect(progress.some((l) => l.startsWith("PROGRESS: Backing up sql01: "))).toBe(true);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["COUNT"]).toBe("2");
    expect(kv["ORDER"]).toBe("web01:Incremental,sql01:Full");
    expect(kv["TYPES"]).toBe("HyperVBackup.RestorePoint,HyperVBackup.RestorePoint");
    expect(kv["SQLDISKS"]).toBe("2");
    // One run of the core for both VMs, with the concurrency limit.
    // (and one `nodes` run before it, asking which cluster node runs each VM: none here)
    expect(r.stdout.match(/^RUN=.* backup /gm)).toHaveLength(1);
    expect(r.stdout.match(/^RUN=.* nodes --vm web01 --vm sql01 /gm)).toHaveLength(1);
    expect(kv["RUN"]).toMatch(/ backup --vm web01 --vm sql01 --repo .* --parallel 2 --lab /);
    expect(listPoints("sql01")).toHaveLength(1);
  });

  it("New-RecoveryBackup binds VMs of Get-VM by Name/VMName, and VMId, never their Path", () => {
    const r = ps(`
# Shaped like Get-VM's output: Name, VMName, Id, VMId and a Path of the VM's own.
$vm = [pscustomobject]@{ Name = 'web01'; VMName = 'web01'; Id = [guid]::NewGuid(); VMId = [guid]::NewGuid(); Path = 'C:\\ProgramData\\Microsoft\\Windows\\Hyper-V' }
$vm | New-RecoveryBackup -Path ./repo -LabPath ./lab -WhatIf
[pscustomobject]@{ VMName = 'sql01' } | New-RecoveryBackup -Path ./repo -LabPath ./lab -WhatIf
[pscustomobject]@{ VMId = [guid]'11111111-2222-3333-4444-555555555555' } | New-RecoveryBackup -Path ./repo -LabPath ./lab -WhatIf
New-RecoveryBackup -VMName web01 -Path ./repo -Full -ConsistencyLevel CrashConsistent -LabPath ./lab -WhatIf
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const whatIf = r.stdout.split(/\r?\n/).filter((l) => l.startsWith("What if:"));
    expect(whatIf).toEqual([
      `What if: Performing the operation "Back up to '${repo}'" on target "virtual machine 'web01'".`,
      `What if: Performing the operation "Back up to '${repo}'" on target "virtual machine 'sql01'".`,
      `What if: Performing the operation "Back up to '${repo}'" on target "virtual machine '11111111-2222-3333-4444-555555555555'".`,
      `What if: Performing the operation "Take a full backup to '${repo}' (crash consistent)" on target "virtual machine 'web01'".`,
    ]);
    expect(listPoints("web01")).toHaveLength(3);
  });

  it("an unknown VM is an ErrorRecord with the core's code; -EnableException makes it terminating", () => {
    const r = ps(`
New-RecoveryBackup -VMName nope -Path ./repo -LabPath ./lab -ErrorVariable failures -ErrorAction SilentlyContinue
"STATUS=$?"
"FAILURES=$(@($failures).Count)"
"FQID=$($failures[0].FullyQualifiedErrorId)"
"CATEGORY=$($failures[0].CategoryInfo.Category)"
"TARGET=$($failures[0].TargetObject)"
"CODE=$($failures[0].Exception.Data['HvbCode'])"
try { New-RecoveryBackup -VMName nope -Path ./repo -LabPath ./lab -EnableException; "THROWN=no" } catch { "THROWN=$($_.FullyQualifiedErrorId)" }
try { New-RecoveryBackup -VMName nope -Path ./repo -LabPath ./lab -ErrorAction Stop; "STOPPED=no" } catch { "STOPPED=$($_.FullyQualifiedErrorId)" }
`);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["STATUS"]).toBe("False");
    expect(kv["FAILURES"]).toBe("1");
    expect(kv["FQID"]).toBe("VmNotFound,New-RecoveryBackup");
    expect(kv["CATEGORY"]).toBe("ObjectNotFound");
    expect(kv["TARGET"]).toBe("nope");
    expect(kv["CODE"]).toBe("VmNotFound");
    expect(kv["THROWN"]).toBe("VmNotFound,New-RecoveryBackup");
    expect(kv["STOPPED"]).toBe("VmNotFound,New-RecoveryBackup");
  });

  it("one failed VM of several is a non-terminating error for that VM; the others' points are still returned", () => {
    const before = listPoints("web01").length;
    const r = ps(`
$points = New-RecoveryBackup -VMName nope, web01 -Path ./repo -LabPath ./lab -ErrorVariable failures -ErrorAction SilentlyContinue
"POINTS=$(@($points | ForEach-Object { $_.VMName }) -join ',')"
"FAILURES=$(@($failures).Count)"
"FQID=$($failures[0].FullyQualifiedErrorId)"
"TARGET=$($failures[0].TargetObject)"
"MESSAGE=$($failures[0].Exception.Message)"
try {
    New-RecoveryBackup -VMName web01, nope -Path ./repo -LabPath ./lab -EnableException | ForEach-Object { "EMITTED=$($_.VMName)" }
    "THROWN=no"
} catch { "THROWN=$($_.TargetObject)" }
`);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["POINTS"]).toBe("web01");
    expect(kv["FAILURES"]).toBe("1");
    // The core reports the failure of one VM of several without its code (yet): BackupFailed.
    expect(kv["FQID"]).toMatch(/^(BackupFailed|VmNotFound),New-RecoveryBackup$/);
    expect(kv["TARGET"]).toBe("nope");
    expect(kv["MESSAGE"]).toContain("nope");
    expect(kv["EMITTED"]).toBe("web01");
    expect(kv["THROWN"]).toBe("nope");
    // The core's warning about the failed VM became the ErrorRecord, not a warning as well.
    expect(r.stdout).not.toMatch(/^WARNING: Backup of 'nope' failed/m);
    expect(listPoints("web01")).toHaveLength(before + 2);
  });

});
