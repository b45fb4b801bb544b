/**
 * The backup commands of the HyperVBackup module (New-RecoveryBackup, Get-VMBackup,
 * Restore-VMFromBackup, Test-VMBackup, Remove-VMBackup, Export-VMBackupDisk,
 * Get-VMBackupReadiness, Clear-VMBackupCheckpoint) on a real PowerShell engine (build/pwsh,
 * the core-only engine unless HVB_USE_REAL_PWSH is set), against a lab host made with the CLI in a
 * temporary folder. The tests of a describe block run in order and share the lab and repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_BUNDLE, keyValues, MANIFEST, prepare, psQuote, ROOT, runScript, tempDir } from "./_pwsh";

const IMPORT = `$ErrorActionPreference = 'Stop'\nImport-Module ${psQuote(MANIFEST)}\n$ErrorActionPreference = 'Continue'\n`;

/** Runs the core's CLI; throws with its stderr when it fails. */
function cli(args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, [CLI_BUNDLE, ...args], { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`hvbackup ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface ListedPoint {
  id: string;
  vmName: string;
  vmId: string;
  time: string;
  kind: string;
  parentId: string | null;
}

interface LabVm {
  name: string;
  id: string;
  state: string;
  disks: Array<{ path: string }>;
}

let work: { dir: string; remove: () => void };
let lab = "";
let repo = "";

function listPoints(vm?: string, repository = repo): ListedPoint[] {
  return JSON.parse(cli(["list", "--repo", repository, ...(vm ? ["--vm", vm] : []), "--json"], work.dir)) as ListedPoint[];
}

function labVms(): LabVm[] {
  return (JSON.parse(cli(["lab", "ls", "--lab", lab, "--json"], work.dir)) as { vms: LabVm[] }).vms;
}

/** Runs a script that starts with the module imported, in the work folder. */
function ps(script: string) {
  return runScript(work.dir, IMPORT + script);
}

/** Every file below `dir` with its size and modification time, to prove that nothing changed. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const s = statSync(full);
        out.push(`${full} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.join("\n");
}

/** The guest-visible bytes of a VHDX file (and its parents), via `vhdx convert` to raw. */
function diskBytes(vhdx: string, name: string): Buffer {
  const raw = join(work.dir, `${name}.raw`);
  cli(["vhdx", "convert", vhdx, raw], work.dir);
  return readFileSync(raw);
}

beforeAll(() => {
  prepare();
  work = tempDir("hvb-ps-backup-");
  lab = join(work.dir, "lab");
  repo = join(work.dir, "repo");
  cli(["lab", "init", lab], work.dir);
  cli(["lab", "vm", "new", "--lab", lab, "--name", "web01", "--disk", "32MiB"], work.dir);
  cli(["lab", "vm", "new", "--lab", lab, "--name", "sql01", "--disk", "16MiB", "--disk", "8MiB"], work.dir);
  cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", "0", "--length", String(3 * 1024 * 1024), "--seed", "1"], work.dir);
  cli(["lab", "write", "--lab", lab, "--vm", "sql01", "--disk", "1", "--offset", String(1024 * 1024), "--length", "65536", "--seed", "2"], work.dir);
}, 300_000);

afterAll(() => work?.remove());

describe("backing up, listing, restoring, verifying and pruning on a lab host", () => {
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
    expect(r.stdout.match(/^RUN=/gm)).toHaveLength(1);
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

  it("Get-VMBackup returns typed restore points, newest first", () => {
    const listed = listPoints("web01");
    const newestFirst = [...listed].sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || b.id.localeCompare(a.id)).map((p) => p.id);
    const r = ps(`
$points = Get-VMBackup -Path ./repo -VMName web01
"IDS=$(@($points | ForEach-Object { $_.RestorePointId }) -join ',')"
"TYPES=$(@($points | ForEach-Object { $_.PSObject.TypeNames[0] } | Where-Object { $_ -ne 'HyperVBackup.RestorePoint' }).Count)"
"TIMES=$(@($points | ForEach-Object { $_.Time.GetType().Name }) -join ',')"
"KINDS=$(@($points | ForEach-Object { $_.Kind }) -join ',')"
"REFERENCE=$(@($points | ForEach-Object { $_.HasReferencePoint }) -join ',')"
"ALL=$(@(Get-VMBackup ./repo | ForEach-Object { $_.VMName }) -join ',')"
"LATEST=$(@(Get-VMBackup -Path ./repo -Latest | ForEach-Object { "$($_.VMName):$($_.RestorePointId)" }) -join ',')"
"BYID=$(@(Get-VMBackup -Path ./repo -RestorePointId ${psQuote(fullId)} | ForEach-Object { $_.RestorePointId }) -join ',')"
"WILDCARD=$(@(Get-VMBackup -Path ./repo -VMName 'sq*' | ForEach-Object { $_.VMName }) -join ',')"
"PIPED=$(@('sql01' | Get-VMBackup -Path ./repo | ForEach-Object { $_.VMName }) -join ',')"
Get-VMBackup -Path ./repo -VMName nope -ErrorVariable e1 -ErrorAction SilentlyContinue
"UNKNOWNVM=$($e1[0].FullyQualifiedErrorId) $($e1[0].TargetObject)"
Get-VMBackup -Path ./repo -VMName web01 -RestorePointId 19990101T000000.000Z-full -ErrorVariable e2 -ErrorAction SilentlyContinue
"UNKNOWNID=$($e2[0].FullyQualifiedErrorId)"
Get-VMBackup -Path ./no-such-repo -ErrorVariable e3 -ErrorAction SilentlyContinue
"NOREPO=$($e3[0].FullyQualifiedErrorId)"
try { Get-VMBackup -Path ./no-such-repo -EnableException; "THROWN=no" } catch { "THROWN=$($_.FullyQualifiedErrorId)" }
`);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["IDS"]).toBe(newestFirst.join(","));
    expect(kv["TYPES"]).toBe("0");
    expect(kv["TIMES"]).toBe(listed.map(() => "DateTime").join(","));
    expect(kv["KINDS"]).toBe([...Array(listed.length - 1).fill("Incremental"), "Full"].join(","));
    // Only the newest point's reference point is kept on the host.
    expect(kv["REFERENCE"]).toBe(["True", ...Array(listed.length - 1).fill("False")].join(","));
    expect(kv["ALL"]).toBe(["sql01", ...listed.map(() => "web01")].join(","));
    const newestSql = listPoints("sql01")[0]!.id;
    expect(kv["LATEST"]).toBe(`sql01:${newestSql},web01:${newestFirst[0]}`);
    expect(kv["BYID"]).toBe(fullId);
    expect(kv["WILDCARD"]).toBe("sql01");
    expect(kv["PIPED"]).toBe("sql01");
    expect(kv["UNKNOWNVM"]).toBe("VmNotInRepository,Get-VMBackup nope");
    expect(kv["UNKNOWNID"]).toBe("PointNotFound,Get-VMBackup");
    expect(kv["NOREPO"]).toBe("RepositoryNotFound,Get-VMBackup");
    expect(kv["THROWN"]).toBe("RepositoryNotFound,Get-VMBackup");
  });

  it("Restore-VMFromBackup -WhatIf changes nothing", () => {
    const vmsBefore = JSON.stringify(labVms());
    const repoBefore = snapshot(repo);
    const r = ps(`
@(Get-VMBackup -Path ./repo -VMName web01)[0] | Restore-VMFromBackup -NewVMId -NewName web01-whatif -DestinationPath ./restore-whatif -LabPath ./lab -WhatIf
Restore-VMFromBackup -Path ./repo -VMName web01 -Force -LabPath ./lab -WhatIf
"DONE=yes"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/What if: Performing the operation "Restore restore point \S+ as 'web01-whatif' with a new id into '.*restore-whatif'" on target "virtual machine 'web01' from '.*repo'"/);
    expect(r.stdout).toMatch(/What if: Performing the operation "Restore the newest restore point with its own id, replacing the existing VM/);
    expect(existsSync(join(work.dir, "restore-whatif"))).toBe(false);
    expect(JSON.stringify(labVms())).toBe(vmsBefore);
    expect(snapshot(repo)).toBe(repoBefore);
  });

  it("Get-VMBackup | first | Restore-VMFromBackup -NewVMId restores side by side, byte for byte", () => {
    const original = labVms().find((v) => v.name === "web01")!;
    const r = ps(`
$point = @(Get-VMBackup -Path ./repo -VMName web01)[0]
$result = $point | Restore-VMFromBackup -NewVMId -NewName web01-copy -DestinationPath ./restored -Confirm:$false -LabPath ./lab
"COUNT=$(@($result).Count)"
"TYPE=$($result.PSObject.TypeNames[0])"
"VMNAME=$($result.VMName)"
"VMID=$($result.VMId) $($result.VMId.GetType().Name)"
"POINT=$($result.RestorePointId) $($point.RestorePointId)"
"POINTTIME=$($result.RestorePointTime -eq $point.Time)"
"DESTINATION=$($result.DestinationPath)"
"DISK=$(@($result.Disks)[0].Path)"
"DISKTYPE=$(@($result.Disks)[0].PSObject.TypeNames[0])"
$result
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["COUNT"]).toBe("1");
    expect(kv["TYPE"]).toBe("HyperVBackup.RestoreResult");
    expect(kv["VMNAME"]).toBe("web01-copy");
    const copy = labVms().find((v) => v.name === "web01-copy");
    expect(copy).toBeDefined();
    expect(copy!.id.toLowerCase()).not.toBe(original.id.toLowerCase());
    expect(kv["VMID"]).toBe(`${copy!.id.toLowerCase()} Guid`);
    const [restoredPoint, pipedPoint] = kv["POINT"]!.split(" ");
    expect(restoredPoint).toBe(pipedPoint);
    expect(restoredPoint).toBe(listPoints("web01").at(-1)!.id);
    expect(kv["POINTTIME"]).toBe("True");
    expect(kv["DESTINATION"]).toBe(join(work.dir, "restored"));
    expect(kv["DISKTYPE"]).toBe("HyperVBackup.RestoredDisk");
    expect(copy!.disks[0]!.path).toBe(kv["DISK"]);
    expect(kv["DISK"]!.startsWith(join(work.dir, "restored"))).toBe(true);
    // Nothing was written to web01 since its newest backup: the copy holds the same bytes.
    const want = diskBytes(labVms().find((v) => v.name === "web01")!.disks[0]!.path, "web01-now");
    const got = diskBytes(kv["DISK"]!, "web01-copy");
    expect(got.equals(want)).toBe(true);
    expect(r.stdout).toMatch(/VMName\s+VMId\s+RestorePointId\s+Disks\s+DestinationPath/);
  });

  it("Restore-VMFromBackup reports the core's errors: VM exists, no point at that time", () => {
    const r = ps(`
Restore-VMFromBackup -Path ./repo -VMName web01 -LabPath ./lab -Confirm:$false -ErrorVariable e1 -ErrorAction SilentlyContinue
"EXISTS=$($e1[0].FullyQualifiedErrorId) $($e1[0].TargetObject)"
Restore-VMFromBackup -Path ./repo -VMName web01 -PointInTime '2000-01-01 00:00' -NewVMId -LabPath ./lab -Confirm:$false -ErrorVariable e2 -ErrorAction SilentlyContinue
"TOOEARLY=$($e2[0].FullyQualifiedErrorId)"
try { Restore-VMFromBackup -Path ./repo -VMName web01 -LabPath ./lab -Confirm:$false -EnableException; "THROWN=no" } catch { "THROWN=$($_.FullyQualifiedErrorId)" }
`);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["EXISTS"]).toBe("VmExists,Restore-VMFromBackup web01");
    expect(kv["TOOEARLY"]).toBe("PointNotFound,Restore-VMFromBackup");
    expect(kv["THROWN"]).toBe("VmExists,Restore-VMFromBackup");
  });

  it("Restore-VMFromBackup -PointInTime restores the newest point at or before that time", () => {
    const full = listPoints("web01")[0]!;
    const r = ps(`
$full = Get-VMBackup -Path ./repo -VMName web01 -RestorePointId ${psQuote(full.id)}
$result = Restore-VMFromBackup -Path ./repo -VMName web01 -PointInTime $full.Time.AddMilliseconds(1) -NewVMId -NewName web01-full -DestinationPath ./restored-full -LabPath ./lab -Confirm:$false
"POINT=$($result.RestorePointId)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(keyValues(r.stdout)["POINT"]).toBe(full.id);
  });

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

  it("Test-VMBackup reports damage as the answer, with a warning per problem, not as an error", () => {
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
$report = Test-VMBackup -Path ./repo-damaged -VMName web01 -Deep -WarningVariable warned -WarningAction SilentlyContinue
"VALID=$($report.IsValid)"
"DAMAGED=$(@($report.DamagedPoints).Count -gt 0)"
"PROBLEMS=$(@($report.Problems).Count -gt 0) $(@($report.Problems)[0].PSObject.TypeNames[0])"
"WARNED=$(@($warned).Count -eq @($report.Problems).Count)"
"QUIET=$(Test-VMBackup -Path ./repo-damaged -Deep -Quiet -WarningAction SilentlyContinue)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["VALID"]).toBe("False");
    expect(kv["DAMAGED"]).toBe("True");
    expect(kv["PROBLEMS"]).toBe("True HyperVBackup.VerifyProblem");
    expect(kv["WARNED"]).toBe("True");
    expect(kv["QUIET"]).toBe("False");
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
    expect(kv["NEXT"]).toBe("Incremental Application 9.0 Guid");
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
});

/** Parameter contracts of the backup commands: an accidental rename or removal fails here. */
interface Contract {
  parameters: string[];
  shouldProcess: boolean;
  confirmImpact?: string;
  outputType: string[];
  /** Parameter -> "ByValue/ByPropertyName" of its (first) Parameter attribute. */
  pipeline: Record<string, string>;
  aliases: Record<string, string[]>;
  mandatory: string[];
  sets?: string[];
}

const CONTRACTS: Record<string, Contract> = {
  "New-RecoveryBackup": {
    parameters: ["VMName", "VMId", "Path", "Full", "ConsistencyLevel", "NoCrashFallback", "HashChangeDetection", "ThrottleLimit", "LabPath", "EnableException"],
    shouldProcess: true,
    confirmImpact: "Medium",
    outputType: ["HyperVBackup.RestorePoint"],
    pipeline: { VMName: "True/True", VMId: "False/True", Path: "False/False" },
    aliases: { VMName: ["Name"], Path: ["Repository"] },
    mandatory: ["VMName", "VMId", "Path"],
    sets: ["ById", "ByName"],
  },
  "Get-VMBackup": {
    parameters: ["Path", "VMName", "Latest", "RestorePointId", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.RestorePoint"],
    pipeline: { VMName: "True/True", Path: "False/False" },
    aliases: { VMName: ["Name"], Path: ["Repository"], RestorePointId: ["Id"] },
    mandatory: ["Path", "Latest", "RestorePointId"],
    sets: ["All", "ById", "Latest"],
  },
  "Restore-VMFromBackup": {
    parameters: ["Path", "VMName", "RestorePointId", "PointInTime", "NewVMId", "NewName", "DestinationPath", "Force", "LabPath", "EnableException"],
    shouldProcess: true,
    confirmImpact: "High",
    outputType: ["HyperVBackup.RestoreResult"],
    pipeline: { Path: "False/True", VMName: "False/True", RestorePointId: "False/True" },
    aliases: { Path: ["Repository"], RestorePointId: ["Id"] },
    mandatory: ["Path", "VMName", "PointInTime"],
    sets: ["ByRestorePoint", "ByTime"],
  },
  "Test-VMBackup": {
    parameters: ["Path", "VMName", "Deep", "Quiet", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.VerifyReport", "System.Boolean"],
    pipeline: { Path: "False/True", VMName: "True/True" },
    aliases: { Path: ["Repository"], VMName: ["Name"] },
    mandatory: ["Path"],
  },
  "Remove-VMBackup": {
    parameters: ["Path", "VMName", "KeepLast", "PassThru", "EnableException"],
    shouldProcess: true,
    confirmImpact: "High",
    outputType: ["HyperVBackup.PruneResult"],
    pipeline: { Path: "False/True", VMName: "True/True", KeepLast: "False/False" },
    aliases: { Path: ["Repository"], VMName: ["Name"] },
    mandatory: ["Path", "VMName", "KeepLast"],
  },
  "Export-VMBackupDisk": {
    parameters: ["Path", "VMName", "RestorePointId", "DiskIndex", "DestinationPath", "EnableException"],
    shouldProcess: true,
    confirmImpact: "Low",
    outputType: ["HyperVBackup.ExportedDisk"],
    pipeline: { Path: "False/True", VMName: "False/True", RestorePointId: "False/True", DestinationPath: "False/False" },
    aliases: { Path: ["Repository"], RestorePointId: ["Id"], DestinationPath: ["Destination"] },
    mandatory: ["Path", "VMName", "DestinationPath"],
  },
  "Get-VMBackupReadiness": {
    parameters: ["VMName", "Path", "LabPath", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.BackupReadiness"],
    pipeline: { VMName: "True/True", Path: "False/False" },
    aliases: { VMName: ["Name"], Path: ["Repository"] },
    mandatory: ["VMName"],
  },
  "Clear-VMBackupCheckpoint": {
    parameters: ["VMName", "Path", "PassThru", "LabPath", "EnableException"],
    shouldProcess: true,
    confirmImpact: "Medium",
    outputType: ["HyperVBackup.CleanupResult"],
    pipeline: { VMName: "True/True", Path: "False/False" },
    aliases: { VMName: ["Name"], Path: ["Repository"] },
    mandatory: ["VMName"],
  },
};

describe("parameter contracts of the backup commands", () => {
  let kv: Record<string, string> = {};
  beforeAll(() => {
    const lines = Object.keys(CONTRACTS)
      .map((name) => {
        const contract = CONTRACTS[name]!;
        const perParameter = Object.keys({ ...contract.pipeline, ...contract.aliases })
          .map(
            (p) => `
"${name}.${p}.PIPELINE=$(@($command.Parameters['${p}'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | ForEach-Object { "$($_.ValueFromPipeline)/$($_.ValueFromPipelineByPropertyName)" }) -join ',')"
"${name}.${p}.ALIASES=$(@($command.Parameters['${p}'].Aliases) -join ',')"`,
          )
          .join("");
        return `
$command = Get-Command ${name}
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
"${name}.PARAMS=$(@($command.Parameters.Keys | Where-Object { $common -notcontains $_ }) -join ',')"
"${name}.WHATIF=$($command.Parameters.ContainsKey('WhatIf'))"
"${name}.CONFIRMIMPACT=$(@($command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] } | ForEach-Object { $_.ConfirmImpact }) -join ',')"
"${name}.MANDATORY=$(@($command.Parameters.Values | Where-Object { @($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory }).Count -gt 0 } | ForEach-Object { $_.Name }) -join ',')"
"${name}.SETS=$(@($command.ParameterSets | ForEach-Object { $_.Name }) -join ',')"
"${name}.OUTPUTTYPE=$(@($command.OutputType | ForEach-Object { $_.Name }) -join ',')"
${perParameter}
$help = Get-Help ${name} -Full
"${name}.SYNOPSIS=$($help.Synopsis.Trim())"
"${name}.DESCRIPTION=$(@($help.description | ForEach-Object { $_.Text }) -join ' ' -replace '\\s+', ' ')"
"${name}.EXAMPLES=$(@($help.examples.example).Count)"
# Comment-based help keeps the sentence after an example's command in code (or in remarks after a blank line).
"${name}.EXAMPLESWITHOUTREMARKS=$(@(@($help.examples.example) | Where-Object { -not (@($_.remarks | ForEach-Object { $_.Text }) -join '').Trim() -and @(([string]$_.code).Trim() -split '\\r?\\n').Count -lt 2 }).Count)"
"${name}.UNDOCUMENTED=$(@(@($help.parameters.parameter) | Where-Object { $common -notcontains $_.name -and $_.name -notin 'WhatIf', 'Confirm' -and -not (@($_.description | ForEach-Object { $_.Text }) -join '').Trim() } | ForEach-Object { $_.name }) -join ',')"
"${name}.HELPPARAMS=$(@(@($help.parameters.parameter) | ForEach-Object { $_.name }) -join ',')"
`;
      })
      .join("\n");
    const r = runScript(work.dir, IMPORT + lines);
    expect(r.stderr).toBe("");
    kv = keyValues(r.stdout);
  }, 120_000);

  for (const [name, contract] of Object.entries(CONTRACTS)) {
    it(`${name} has its known parameters, attributes and help`, () => {
      expect(kv[`${name}.PARAMS`]!.split(",").sort()).toEqual([...contract.parameters].sort());
      expect(kv[`${name}.WHATIF`]).toBe(contract.shouldProcess ? "True" : "False");
      if (contract.confirmImpact) expect(kv[`${name}.CONFIRMIMPACT`]).toBe(contract.confirmImpact);
      expect(kv[`${name}.MANDATORY`]!.split(",").sort()).toEqual([...contract.mandatory].sort());
      if (contract.sets) expect(kv[`${name}.SETS`]!.split(",").sort()).toEqual([...contract.sets].sort());
      expect(kv[`${name}.OUTPUTTYPE`]!.split(",").sort()).toEqual([...contract.outputType].sort());
      for (const [parameter, binding] of Object.entries(contract.pipeline)) {
        expect(kv[`${name}.${parameter}.PIPELINE`]!.split(",")[0], `${name} -${parameter}`).toBe(binding);
      }
      for (const [parameter, aliases] of Object.entries(contract.aliases)) {
        expect(kv[`${name}.${parameter}.ALIASES`]!.split(",").sort(), `${name} -${parameter}`).toEqual([...aliases].sort());
      }
      expect(kv[`${name}.SYNOPSIS`]!.length).toBeGreaterThan(10);
      expect(kv[`${name}.SYNOPSIS`]).not.toContain(name); // real help, not the generated stub
      expect(kv[`${name}.DESCRIPTION`]!.length).toBeGreaterThan(200);
      expect(Number(kv[`${name}.EXAMPLES`])).toBeGreaterThanOrEqual(3);
      expect(kv[`${name}.EXAMPLESWITHOUTREMARKS`]).toBe("0");
      expect(kv[`${name}.UNDOCUMENTED`]).toBe("");
    });
  }

  it("every exported command uses an approved verb", () => {
    const r = runScript(work.dir, IMPORT + `
# Get-Verb is a Utility command; the approved verbs are the constants of the Verbs* classes.
$approved = foreach ($class in 'VerbsCommon', 'VerbsCommunications', 'VerbsData', 'VerbsDiagnostic', 'VerbsLifecycle', 'VerbsOther', 'VerbsSecurity') {
    [type]"System.Management.Automation.$class" | ForEach-Object { $_.GetFields() } | ForEach-Object { $_.GetValue($null) }
}
"UNAPPROVED=$(@((Get-Module HyperVBackup).ExportedFunctions.Keys | Where-Object { $approved -notcontains $_.Split('-')[0] }) -join ',')"
"COUNT=$((Get-Module HyperVBackup).ExportedFunctions.Count)"
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["UNAPPROVED"]).toBe("");
    expect(Number(kv["COUNT"])).toBe(Object.keys(CONTRACTS).length + 3);
  });

  it("every command that changes state calls ShouldProcess, and only those declare it", () => {
    for (const [name, contract] of Object.entries(CONTRACTS)) {
      const code = readFileSync(join(ROOT, "module", "Public", `${name}.ps1`), "utf8").replace(/<#[\s\S]*?#>/g, "");
      expect(/\$PSCmdlet\.ShouldProcess\(/.test(code), name).toBe(contract.shouldProcess);
      expect(/SupportsShouldProcess/.test(code), name).toBe(contract.shouldProcess);
    }
  });

  it("every help parameter has a .PARAMETER section in the file, the lab's -LabPath included", () => {
    for (const [name, contract] of Object.entries(CONTRACTS)) {
      const text = readFileSync(join(ROOT, "module", "Public", `${name}.ps1`), "utf8");
      for (const parameter of contract.parameters) expect(text, `${name} -${parameter}`).toMatch(new RegExp(`\\.PARAMETER ${parameter}\\r?\\n`));
    }
  });

  it("the about topic names every exported command", () => {
    const about = readFileSync(join(ROOT, "en-US", "about_HyperVBackup.help.txt"), "utf8");
    for (const name of Object.keys(CONTRACTS)) expect(about, name).toContain(name);
  });
});
