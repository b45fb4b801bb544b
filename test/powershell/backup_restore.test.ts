/**
 * Get-VMBackup and Restore-VMFromBackup on a real PowerShell engine (build/pwsh, the Microsoft.PowerShell.SDK engine unless HVB_USE_REAL_PWSH is
 * set), against a lab host made with the CLI in a temporary folder (_backup_lab.ts). The tests
 * of a describe block run in order and share the lab and repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyValues, psQuote } from "./_pwsh";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { diskBytes, labVms, listPoints, ps, repo, seedBackups, setUpLab, snapshot, work } from "./_backup_lab";

beforeAll(() => {
  setUpLab();
  seedBackups();
}, 300_000);

afterAll(() => work?.remove());

describe("listing and restoring on a lab host", () => {
  let fullId = "";
  beforeAll(() => {
    fullId = listPoints("web01")[0]!.id;
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

  it("a piped Get-VM object's own Path is never taken as the repository: without -Path each command refuses it and changes nothing", () => {
    const vmsBefore = JSON.stringify(labVms());
    const repoBefore = snapshot(repo);
    const pointsBefore = listPoints("web01").length;
    // Shaped like Get-VM's output; its Path even names a real repository, which must not matter.
    const r = ps(`
$vm = [pscustomobject]@{ Name = 'web01'; VMName = 'web01'; Id = [guid]::NewGuid(); VMId = [guid]::NewGuid(); Path = ${psQuote(repo)}; ComputerName = [System.Environment]::MachineName }
$vm | Restore-VMFromBackup -NewVMId -NewName web01-fromvm -DestinationPath ./restored-fromvm -LabPath ./lab -Confirm:$false -ErrorVariable e1 -ErrorAction SilentlyContinue
"RESTORE=$($?) $(@($e1).Count) $($e1[0].FullyQualifiedErrorId) $($e1[0].TargetObject)"
"MESSAGE=$($e1[0].Exception.Message)"
$vm | Remove-VMBackup -KeepLast 1 -Confirm:$false -ErrorVariable e2 -ErrorAction SilentlyContinue
"REMOVE=$(@($e2).Count) $($e2[0].FullyQualifiedErrorId)"
$vm | Export-VMBackupDisk -DestinationPath ./export-fromvm.vhdx -Confirm:$false -ErrorVariable e3 -ErrorAction SilentlyContinue
"EXPORT=$(@($e3).Count) $($e3[0].FullyQualifiedErrorId)"
"QUIET=$($vm | Test-VMBackup -Quiet -ErrorVariable e4 -ErrorAction SilentlyContinue) $(@($e4).Count) $($e4[0].FullyQualifiedErrorId)"
try { $vm | Restore-VMFromBackup -NewVMId -LabPath ./lab -Confirm:$false -EnableException; "THROWN=no" } catch { "THROWN=$($_.FullyQualifiedErrorId)" }
# With -Path the same object is fine, and a row that names a repository in Path (no VMId) binds it.
"GIVEN=$($vm | Test-VMBackup -Path ./repo -Quiet)"
"ROW=$([pscustomobject]@{ VMName = 'web01'; Path = ${psQuote(repo)} } | Test-VMBackup -Quiet)"
`);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["RESTORE"]).toBe("False 1 RepositoryNotGiven,Restore-VMFromBackup web01");
    expect(kv["MESSAGE"]).toContain("Give the repository with -Path");
    expect(kv["REMOVE"]).toBe("1 RepositoryNotGiven,Remove-VMBackup");
    expect(kv["EXPORT"]).toBe("1 RepositoryNotGiven,Export-VMBackupDisk");
    expect(kv["QUIET"]).toBe("False 1 RepositoryNotGiven,Test-VMBackup");
    expect(kv["THROWN"]).toBe("RepositoryNotGiven,Restore-VMFromBackup");
    expect(kv["GIVEN"]).toBe("True");
    expect(kv["ROW"]).toBe("True");
    expect(JSON.stringify(labVms())).toBe(vmsBefore);
    expect(listPoints("web01")).toHaveLength(pointsBefore);
    expect(snapshot(repo)).toBe(repoBefore);
    expect(existsSync(join(work.dir, "restored-fromvm"))).toBe(false);
    expect(existsSync(join(work.dir, "export-fromvm.vhdx"))).toBe(false);
  });

  it("a piped Get-VM object with -Path restores (and exports) the VM's newest point: its Id is the VM's, not a restore point's", () => {
    const newest = listPoints("web01").at(-1)!.id;
    const r = ps(`
$vm = [pscustomobject]@{ Name = 'web01'; VMName = 'web01'; Id = [guid]::NewGuid(); VMId = [guid]::NewGuid(); Path = 'C:\\ProgramData\\Microsoft\\Windows\\Hyper-V'; ComputerName = [System.Environment]::MachineName }
$result = $vm | Restore-VMFromBackup -Path ./repo -NewVMId -NewName web01-piped -DestinationPath ./restored-piped -LabPath ./lab -Confirm:$false
"RESTORED=$($result.VMName) $($result.RestorePointId)"
"DISK=$(@($result.Disks)[0].Path)"
$exported = $vm | Export-VMBackupDisk -Path ./repo -DestinationPath ./exported-piped.vhdx -Confirm:$false
"EXPORTED=$($exported.RestorePointId)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["RESTORED"]).toBe(`web01-piped ${newest}`);
    expect(kv["EXPORTED"]).toBe(newest);
    const want = diskBytes(labVms().find((v) => v.name === "web01")!.disks[0]!.path, "web01-now-piped");
    expect(diskBytes(kv["DISK"]!, "web01-piped").equals(want)).toBe(true);
    expect(diskBytes(join(work.dir, "exported-piped.vhdx"), "exported-piped").equals(want)).toBe(true);
  });
});
