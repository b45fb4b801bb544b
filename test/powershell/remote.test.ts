/**
 * Remote hosts: a VM object whose ComputerName is another host (as Get-VM -ComputerName HV02
 * gives) is backed up on that host through PowerShell remoting, never as the local VM of the
 * same name; this computer's own name runs here; a CimSession to another computer is refused.
 * Invoke-Command is replaced by a function that records what it was asked to run (no remoting
 * endpoint exists here); the lab shows that nothing happened locally.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyValues } from "./_pwsh";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cli, lab, labVms, listPoints, ps, setUpLab, snapshot, work } from "./_backup_lab";

beforeAll(() => setUpLab(), 300_000);
afterAll(() => work?.remove());

const FAKE_REMOTING = `
$global:RemoteCalls = [System.Collections.Generic.List[object]]::new()
function global:Invoke-Command {
    param([string[]] $ComputerName, [scriptblock] $ScriptBlock, [object[]] $ArgumentList, [pscredential] $Credential)
    $global:RemoteCalls.Add([pscustomobject]@{ ComputerName = $ComputerName -join ','; Command = $ArgumentList[0]; Parameters = $ArgumentList[1]; User = $(if ($Credential) { $Credential.UserName } else { '' }) })
    [pscustomobject]@{ PSTypeName = 'Deserialized.HyperVBackup.RestorePoint'; VMName = $ArgumentList[1].VMName -join ','; PSComputerName = $ComputerName -join ',' }
}
`;

describe("remote hosts", () => {
  it("a Get-VM object of another host is backed up on that host; this computer's name runs here", () => {
    const r = ps(`${FAKE_REMOTING}
$password = [System.Security.SecureString]::new(); foreach ($c in 'pw'.ToCharArray()) { $password.AppendChar($c) }
$credential = [pscredential]::new('CONTOSO\\backup', $password)
$remote = [pscustomobject]@{ Name = 'web01'; ComputerName = 'HV02' } | New-RecoveryBackup -Path '\\\\nas\\hv-backups' -LabPath ./lab -Credential $credential -Full -Confirm:$false
"REMOTECALLS=$($global:RemoteCalls.Count)"
"REMOTEHOST=$($global:RemoteCalls[0].ComputerName)"
"REMOTECOMMAND=$($global:RemoteCalls[0].Command)"
"REMOTEVM=$($global:RemoteCalls[0].Parameters.VMName -join ',')"
"REMOTEPATH=$($global:RemoteCalls[0].Parameters.Path)"
"REMOTEFULL=$($global:RemoteCalls[0].Parameters.Full) $($global:RemoteCalls[0].Parameters.Full.GetType().Name)"
"REMOTECONFIRM=$($global:RemoteCalls[0].Parameters.Confirm)"
"REMOTEKEYS=$(@($global:RemoteCalls[0].Parameters.Keys | Where-Object { $_ -in 'ComputerName', 'Credential', 'CimSession' }).Count)"
"REMOTEUSER=$($global:RemoteCalls[0].User)"
"RETURNED=$($remote.PSComputerName):$($remote.VMName)"
$local = [pscustomobject]@{ Name = 'sql01'; ComputerName = [System.Environment]::MachineName } | New-RecoveryBackup -Path ./repo -LabPath ./lab -Confirm:$false
"LOCALCALLS=$($global:RemoteCalls.Count)"
"LOCAL=$($local.VMName):$($local.Kind)"
$session = [pscustomobject]@{ ComputerName = 'HV03'; Name = 'CimSession1' }
$readiness = [pscustomobject]@{ Name = 'web01'; ComputerName = 'HV02' } | Get-VMBackupReadiness -LabPath ./lab
"READINESSCALL=$($global:RemoteCalls[1].Command) $($global:RemoteCalls[1].ComputerName) $($global:RemoteCalls[1].Parameters.VMName -join ',')"
try { New-RecoveryBackup -VMName sql01 -Path ./repo -LabPath ./lab -CimSession $session -Confirm:$false -ErrorAction Stop; "REFUSED=no" } catch { "REFUSED=$($_.FullyQualifiedErrorId)" }
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["REMOTECALLS"]).toBe("1");
    expect(kv["REMOTEHOST"]).toBe("HV02");
    expect(kv["REMOTECOMMAND"]).toBe("New-RecoveryBackup");
    expect(kv["REMOTEVM"]).toBe("web01");
    expect(kv["REMOTEPATH"]).toBe("\\\\nas\\hv-backups");
    expect(kv["REMOTEFULL"]).toBe("True Boolean");
    expect(kv["REMOTECONFIRM"]).toBe("False");
    expect(kv["REMOTEKEYS"]).toBe("0");
    expect(kv["REMOTEUSER"]).toBe("CONTOSO\\backup");
    expect(kv["RETURNED"]).toBe("HV02:web01");
    // Nothing of web01 was backed up here: the local lab VM of that name is untouched.
    expect(listPoints().filter((p) => p.vmName === "web01")).toEqual([]);
    expect(kv["LOCALCALLS"]).toBe("1");
    expect(kv["LOCAL"]).toBe("sql01:Full");
    expect(kv["READINESSCALL"]).toBe("Get-VMBackupReadiness HV02 web01");
    expect(kv["REFUSED"]).toMatch(/^RemoteCimSession,New-RecoveryBackup/);
  }, 180_000);
});

describe("remote restore and cleanup", () => {
  it("Restore-VMFromBackup and Clear-VMBackupCheckpoint run a VM of another host there, never on the local VM of that name", () => {
    cli(["backup", "--vm", "web01", "--repo", "./repo-remote", "--lab", lab], work.dir);
    const before = snapshot(lab);
    const r = ps(`${FAKE_REMOTING}
# Shaped like Get-VM's output: its Id and Path are the VM's, not a restore point's or a repository.
$vm = [pscustomobject]@{ Name = 'web01'; VMName = 'web01'; Id = [guid]::NewGuid(); VMId = [guid]::NewGuid(); Path = 'C:\\ProgramData\\Microsoft\\Windows\\Hyper-V'; ComputerName = 'HV02' }
$restored = $vm | Restore-VMFromBackup -Path '\\\\nas\\hv-backups' -LabPath ./lab -NewVMId -NewName web01-test -Confirm:$false
"RCALL=$($global:RemoteCalls[0].Command) $($global:RemoteCalls[0].ComputerName) $($global:RemoteCalls[0].Parameters.VMName) $($global:RemoteCalls[0].Parameters.NewName) $($global:RemoteCalls[0].Parameters.NewVMId) $($global:RemoteCalls[0].Parameters.Confirm)"
"RPOINT=$($global:RemoteCalls[0].Parameters.ContainsKey('RestorePointId')) $($global:RemoteCalls[0].Parameters.Path)"
"RKEYS=$(@($global:RemoteCalls[0].Parameters.Keys | Where-Object { $_ -in 'ComputerName', 'Credential', 'CimSession' }).Count)"
$vm | Clear-VMBackupCheckpoint -Path ./repo-remote -LabPath ./lab -Confirm:$false
"CCALL=$($global:RemoteCalls[1].Command) $($global:RemoteCalls[1].ComputerName) $($global:RemoteCalls[1].Parameters.VMName -join ',')"
$vm | Restore-VMFromBackup -Path ./repo-remote -LabPath ./lab -NewVMId -WhatIf
$vm | Clear-VMBackupCheckpoint -LabPath ./lab -WhatIf
"WHATIF=$($global:RemoteCalls.Count)"
$session = [pscustomobject]@{ ComputerName = 'HV03'; Name = 'CimSession1' }
try { Restore-VMFromBackup -Path ./repo-remote -VMName web01 -LabPath ./lab -CimSession $session -Confirm:$false -ErrorAction Stop; "RREFUSED=no" } catch { "RREFUSED=$($_.FullyQualifiedErrorId)" }
try { Clear-VMBackupCheckpoint -VMName web01 -LabPath ./lab -CimSession $session -Confirm:$false -ErrorAction Stop; "CREFUSED=no" } catch { "CREFUSED=$($_.FullyQualifiedErrorId)" }
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["RCALL"]).toBe("Restore-VMFromBackup HV02 web01 web01-test True False");
    expect(kv["RKEYS"]).toBe("0");
    // The VM's Id is not sent as the restore point: the host restores the newest point.
    expect(kv["RPOINT"]).toBe("False \\\\nas\\hv-backups");
    expect(kv["CCALL"]).toBe("Clear-VMBackupCheckpoint HV02 web01");
    // -WhatIf asks here and sends nothing there.
    expect(kv["WHATIF"]).toBe("2");
    expect(kv["RREFUSED"]).toMatch(/^RemoteCimSession,Restore-VMFromBackup/);
    expect(kv["CREFUSED"]).toMatch(/^RemoteCimSession,Clear-VMBackupCheckpoint/);
    // Nothing happened to the local lab: no restored VM, no merged checkpoint.
    expect(snapshot(lab)).toBe(before);
  }, 180_000);
});

describe("Test-VMBackupHost", () => {
  it("gives one HostCheck per check on the lab, failed ones with a remedy, and writes -OutFile", () => {
    cli(["lab", "vm", "new", "--lab", lab, "--name", "old01", "--disk", "8MiB", "--config-version", "5.0", "--vhd"], work.dir);
    const r = ps(`
$checks = Test-VMBackupHost -LabPath ./lab -Path ./repo-doctor -OutFile ./report.json -ErrorVariable e -ErrorAction SilentlyContinue
"TYPES=$(@($checks | ForEach-Object { $_.PSObject.TypeNames[0] } | Where-Object { $_ -ne 'HyperVBackup.HostCheck' }).Count)"
"COUNT=$(@($checks).Count)"
"FAILED=$(@($checks | Where-Object { -not $_.Passed } | ForEach-Object { $_.Name }) -join ';')"
"REMEDIES=$(@($checks | Where-Object { -not $_.Passed -and [string]::IsNullOrEmpty($_.Remedy) }).Count)"
"ERRORS=$($e.Count)"
$one = Test-VMBackupHost -LabPath ./lab -VMName web01
"ONE=$(@($one | ForEach-Object { $_.Name }) -join ';')"
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["TYPES"]).toBe("0");
    // Host (OS, host version, namespace, service, rights) + per VM (5 each: web01, sql01, old01)
    // + the repository's location and the repository, which does not exist.
    expect(Number(kv["COUNT"])).toBe(5 + 3 * 5 + 2);
    expect(kv["FAILED"]).toBe("old01: configuration version;old01: disk format;Repository");
    expect(kv["REMEDIES"]).toBe("0");
    expect(kv["ERRORS"]).toBe("0");
    expect(kv["ONE"]!.split(";").filter((n) => n.startsWith("web01:"))).toHaveLength(5);
    expect(kv["ONE"]!.split(";").some((n) => n.startsWith("old01"))).toBe(false);
    const report = JSON.parse(readFileSync(join(work.dir, "report.json"), "utf8")) as { passed: boolean; checks: Array<{ name: string; passed: boolean; remedy: string }> };
    expect(report.passed).toBe(false);
    expect(report.checks).toHaveLength(Number(kv["COUNT"]));
    expect(report.checks.find((c) => c.name === "Repository")!.remedy).not.toBe("");
  }, 180_000);

  it("-Deep backs up, restores and compares a scratch VM on the lab, one HostCheck per step, and writes them to -OutFile", () => {
    const before = labVms().map((v) => v.id).sort();
    const r = ps(`
$checks = Test-VMBackupHost -LabPath ./lab -VMName web01 -Path ./repo-deep -Deep -OutFile ./deep.json
"DEEP=$(@($checks | Where-Object { $_.Name -like 'Deep: *' } | ForEach-Object { "$($_.Name)=$($_.Passed)" }) -join ';')"
"COMPARE=$(@($checks | Where-Object Name -eq 'Deep: compare disks')[0].Detail)"
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["DEEP"]).toBe(["scratch VM", "full backup", "incremental backup", "restore side by side", "compare disks", "clean up"].map((n) => `Deep: ${n}=True`).join(";"));
    expect(kv["COMPARE"]).toMatch(/restored disk has the source's bytes/);
    const report = JSON.parse(readFileSync(join(work.dir, "deep.json"), "utf8")) as { checks: Array<{ name: string; passed: boolean }> };
    expect(report.checks.filter((c) => c.name.startsWith("Deep: ") && c.passed)).toHaveLength(6);
    // Nothing is left: the lab has the VMs it had; the repository, made for the check, is gone again.
    expect(labVms().map((v) => v.id).sort()).toEqual(before);
    expect(existsSync(join(work.dir, "repo-deep"))).toBe(false);
  }, 180_000);
});

