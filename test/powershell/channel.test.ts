/**
 * The module's way of reaching WMI: no -LabPath, so the core runs with HVBACKUP_HOST=channel and
 * the module answers its host requests with Get-CimInstance, Get-CimAssociatedInstance,
 * Invoke-CimMethod, New-CimInstance and Get-CimClass. Here those are the stand-ins of
 * CimStandIns.ps1 (CIM-cmdlet parameters in, CimInstance-shaped objects out, the lab underneath),
 * so the module's marshalling (instances → channel, REF and embedded arguments → CIM, DTD 2.0
 * text, datetimes) is what runs. A backup and a side-by-side restore go through it; the bytes of
 * the restored disk are compared with the VM's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { keyValues, psQuote, ROOT, standIns } from "./_pwsh";
import { cli, diskBytes, lab, labVms, listPoints, ps, repo, setUpLab, work } from "./_backup_lab";

beforeAll(() => setUpLab(), 300_000);
afterAll(() => work?.remove());

describe("the module answers the core's host requests with the CIM cmdlets", () => {
  it("backs up web01 full and incremental and restores it side by side through the channel, byte for byte", () => {
    cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", String(5 * 1024 * 1024), "--length", "65536", "--seed", "7"], work.dir);
    const r = ps(`${standIns(lab)}
$env:HYPERVBACKUP_LAB = $null
$full = New-RecoveryBackup -VMName web01 -Path ./repo -Confirm:$false
"FULL=$($full.Kind)"
& $global:HvbStandIn.Node $global:HvbStandIn.Cli lab write --lab ${psQuote(lab)} --vm web01 --disk 0 --offset 9437184 --length 65536 --seed 8 | Out-Null
$incr = New-RecoveryBackup -VMName web01 -Path ./repo -Confirm:$false
"INCR=$($incr.Kind)"
$restored = Get-VMBackup -Path ./repo -VMName web01 -Latest | Restore-VMFromBackup -NewVMId -NewName web01-channel -DestinationPath ./restored-channel -Confirm:$false
"RESTORED=$($restored.VMName)"
"SNAPSHOT=$(@($global:HvbStandIn.Log | Where-Object { $_ -like 'Invoke-CimMethod:*CreateSnapshot' }).Count)"
"CLASS=$(@($global:HvbStandIn.Log | Where-Object { $_ -like 'Get-CimClass:*' } | ForEach-Object { $_ }) -join ',')"
"ASSOC=$(@($global:HvbStandIn.Log | Where-Object { $_ -like 'Get-CimAssociatedInstance:*' }).Count)"
"GETS=$(@($global:HvbStandIn.Log | Where-Object { $_ -like 'Get-CimInstance:root*' }).Count)"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["FULL"]).toBe("Full");
    expect(kv["INCR"]).toBe("Incremental");
    expect(kv["RESTORED"]).toBe("web01-channel");
    expect(Number(kv["SNAPSHOT"])).toBe(2);
    expect(kv["CLASS"]).toContain("Get-CimClass:Msvm_VirtualSystemSnapshotSettingData");
    expect(Number(kv["ASSOC"])).toBeGreaterThan(0);
    expect(Number(kv["GETS"])).toBeGreaterThan(0);
    expect(listPoints("web01").map((p) => p.kind)).toEqual(["full", "incremental"]);

    const vms = labVms();
    const original = vms.find((v) => v.name === "web01")!;
    const copy = vms.find((v) => v.name === "web01-channel")!;
    expect(copy.id).not.toBe(original.id);
    expect(diskBytes(copy.disks[0]!.path, "copy").equals(diskBytes(original.disks[0]!.path, "orig"))).toBe(true);
    void repo;
  }, 180_000);

  it("a backup stopped (StopProcessing) once its checkpoint exists leaves no checkpoint, no lock and no staging", () => {
    // The backup runs in a second runspace; the stand-in of Invoke-CimMethod flags CreateSnapshot,
    // and this runspace then calls Stop() on it, as Ctrl+C does. The module sends the core a
    // cancel line and answers the host requests of its cleanup.
    const r = ps(`
$shared = [hashtable]::Synchronized(@{ Made = $false })
$runspace = [runspacefactory]::CreateRunspace([System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2())
$runspace.Open()
$runspace.SessionStateProxy.SetVariable('Shared', $shared)
$pipeline = [powershell]::Create()
$pipeline.Runspace = $runspace
[void]$pipeline.AddScript(${psQuote(`Import-Module ${psQuote(join(ROOT, "HyperVBackup.psd1"))}
${standIns(lab)}
$global:HvbStandIn['OnInvoke'] = { param($Method) if ($Method -eq 'CreateSnapshot') { $Shared.Made = $true } }
New-RecoveryBackup -VMName sql01 -Path ${psQuote(join(work.dir, "repo"))} -Confirm:$false
'finished'`)})
$handle = $pipeline.BeginInvoke()
while (-not $shared.Made -and -not $handle.IsCompleted) { [System.Threading.Thread]::Sleep(20) }
"MADE=$($shared.Made)"
$pipeline.Stop()
"STATE=$($pipeline.InvocationStateInfo.State)"
"OUTPUT=$(@($pipeline.Streams.Error | ForEach-Object { $_.FullyQualifiedErrorId }) -join ',')"
$runspace.Close()
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["MADE"]).toBe("True");
    expect(kv["STATE"]).toBe("Stopped");
    const recovery = JSON.parse(cli(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'"], work.dir)) as unknown[];
    expect(recovery).toEqual([]);
    const store = readdirSync(join(work.dir, "repo")).find((d) => d.startsWith("sql01_"));
    if (store !== undefined) {
      const left = readdirSync(join(work.dir, "repo", store), { recursive: true }).map(String);
      expect(left.filter((f) => f.endsWith(".lock") || f.includes(".partial"))).toEqual([]);
    }
    expect(listPoints().filter((p) => p.vmName === "sql01")).toEqual([]);
    // The next backup runs without a stale lock to clear.
    cli(["backup", "--vm", "sql01", "--repo", join(work.dir, "repo"), "--lab", lab, "--json"], work.dir);
  }, 180_000);
});
