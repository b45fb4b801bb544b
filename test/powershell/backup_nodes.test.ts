/**
 * Issue 12 items 1 and 3 through the cmdlets against the lab: `Get-VM | New-RecoveryBackup` of
 * several VMs is ONE core run with every name (so --parallel and the run's summary apply),
 * -All maps to `backup --all` and -ThrottleLimit/-Parallel to --parallel (a wrapper core logs
 * each run's words); on a two-node cluster lab the VMs are grouped by owner node (`hvbackup
 * nodes`) and each node's share runs on that node through Invoke-Command -ComputerName <node>,
 * here a stand-in that checks the node and runs the script block locally against the lab, with
 * the module copied to a node that lacks it (New-PSSession / Copy-Item -ToSession stand-ins).
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_BUNDLE, ROOT, keyValues, psQuote } from "./_pwsh";
import { cli, diskBytes, lab, labVms, ps, setUpLab, work } from "./_backup_lab";

beforeAll(() => {
  setUpLab();
  // A core that logs the words of each run, then runs the real one.
  writeFileSync(join(work.dir, "runs.cjs"), `const fs = require("fs");
fs.appendFileSync(${JSON.stringify(join(work.dir, "runs.log"))}, JSON.stringify(process.argv.slice(2)) + "\\n");
const r = require("child_process").spawnSync(process.execPath, [${JSON.stringify(CLI_BUNDLE)}, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status === null ? 1 : r.status);
`);
  // The module findable by name, as Install-Module or Save-Module would leave it on a node.
  mkdirSync(join(work.dir, "mods"));
  symlinkSync(ROOT, join(work.dir, "mods", "HyperVBackup"));
}, 300_000);
afterAll(() => work?.remove());

function runs(): string[][] {
  const all = readFileSync(join(work.dir, "runs.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]);
  writeFileSync(join(work.dir, "runs.log"), "");
  return all;
}


describe("many VMs in one run", () => {
  it("a pipeline of VMs is one backup run with every name; -All is backup --all; -ThrottleLimit and -Parallel are --parallel", () => {
    const r = ps(`$env:HVBACKUP_CLI = ${psQuote(join(work.dir, "runs.cjs"))}
$vms = @([pscustomobject]@{ Name = 'web01'; ComputerName = [System.Environment]::MachineName }, [pscustomobject]@{ Name = 'sql01'; ComputerName = 'localhost' })
$piped = $vms | New-RecoveryBackup -Path ./repo -LabPath ./lab -ThrottleLimit 3 -Confirm:$false
"PIPED=$(@($piped | ForEach-Object { "$($_.VMName):$($_.Kind)" }) -join ',')"
$all = New-RecoveryBackup -All -Path ./repo -LabPath ./lab -Parallel 2 -Confirm:$false
"ALL=$(@($all | ForEach-Object { "$($_.VMName):$($_.Kind)" } | Sort-Object) -join ',')"
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["PIPED"]).toBe("web01:Full,sql01:Full");
    expect(kv["ALL"]).toBe("sql01:Incremental,web01:Incremental");
    const backups = runs().filter((w) => w[0] === "backup");
    expect(backups).toHaveLength(2);
    expect(backups[0]!.slice(0, 5)).toEqual(["backup", "--vm", "web01", "--vm", "sql01"]);
    expect(backups[0]!.join(" ")).toContain("--parallel 3");
    expect(backups[1]!.slice(0, 2)).toEqual(["backup", "--all"]);
    expect(backups[1]!.join(" ")).toContain("--parallel 2");
  }, 180_000);
});

describe("the run's limits, storage snapshot and summary", () => {
  it("-VolumeThrottleLimit, -HostThrottleLimit, -StorageSnapshot and -PassThroughDisk reach the core; the summary is an Information record; the points restore bit-exact", () => {
    // Its own repository: the other cases' chains stay as they are.
    const r = ps(`$env:HVBACKUP_CLI = ${psQuote(join(work.dir, "runs.cjs"))}
$points = New-RecoveryBackup -VMName web01, sql01 -Path ./ssrepo -LabPath ./lab -StorageSnapshot -VolumeThrottleLimit 1 -HostThrottleLimit 2 -PassThroughDisk Refuse -Full -InformationVariable run -Confirm:$false
foreach ($p in $points) { "POINT_$($p.VMName)=$($p.RestorePointId)" }
$summary = @($run | ForEach-Object MessageData | Where-Object { $_.PSObject.TypeNames -contains 'HyperVBackup.BackupRunSummary' })
"SUMMARIES=$($summary.Count)"
"TOTAL=$($summary[0].Total);OK=$($summary[0].Succeeded);FAILED=$($summary[0].Failed);SNAPSHOT=$($summary[0].StorageSnapshot)"
"VMS=$(@($summary[0].VMs | ForEach-Object { "$($_.VMName):$($_.Succeeded):$($_.Bytes -gt 0):$($_.CheckpointSeconds -ge 0)" } | Sort-Object) -join ',')"
try { New-RecoveryBackup -VMName web01 -Path ./ssrepo -LabPath ./lab -PassThroughDisk Sometimes -Confirm:$false -ErrorAction Stop } catch { "BAD=$($_.FullyQualifiedErrorId)" }
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["SUMMARIES"]).toBe("1");
    expect(r.stdout).toContain("TOTAL=2;OK=2;FAILED=0;SNAPSHOT=True");
    expect(kv["VMS"]).toBe("sql01:True:True:True,web01:True:True:True");
    expect(kv["BAD"]).toMatch(/^ParameterArgumentValidationError,New-RecoveryBackup/);
    const words = runs().filter((w) => w[0] === "backup");
    expect(words).toHaveLength(1);
    const line = words[0]!.join(" ");
    for (const part of ["--storage-snapshot", "--per-volume 1", "--per-host 2", "--passthrough refuse", "--full"]) expect(line).toContain(part);
    // The lab made and removed its shadow copy: the points are the VMs' bytes.
    for (const vm of labVms().filter((v) => v.name === "web01" || v.name === "sql01")) {
      const dest = join(work.dir, `ss-restored-${vm.name}`);
      const lines = cli(["restore", "--repo", join(work.dir, "ssrepo"), "--vm", vm.name, "--point", kv[`POINT_${vm.name}`]!, "--new-id", "--name", `${vm.name}-ss`, "--dest", dest, "--lab", lab, "--json"], work.dir).trim().split("\n");
      const restored = (lines.map((l) => JSON.parse(l) as { type: string; data: { disks: Array<{ path: string }> } }).find((e) => e.type === "result"))!.data;
      // Compared as sets of disks: which disk the host lists first is not fixed.
      const digests = (paths: string[], tag: string) => paths.map((p, i) => createHash("sha256").update(diskBytes(p, `${tag}-${vm.name}-${i}`)).digest("hex")).sort();
      expect(digests(restored.disks.map((d) => d.path), "ssr"), vm.name).toEqual(digests(vm.disks.map((d) => d.path), "sss"));
    }
  }, 240_000);
});

const NODE_REMOTING = (installed: boolean) => `
$env:PSModulePath = [System.IO.Path]::Combine($PWD.Path, 'mods') + [System.IO.Path]::PathSeparator + $env:PSModulePath
$global:NodeCalls = [System.Collections.Generic.List[object]]::new()
$global:Copies = [System.Collections.Generic.List[object]]::new()
function global:Invoke-Command {
    param([string[]] $ComputerName, [scriptblock] $ScriptBlock, [object[]] $ArgumentList, [pscredential] $Credential, [object] $Session)
    $node = $ComputerName -join ','
    if ($null -ne $Session) { $node = $Session.ComputerName }
    if ($node -notin 'NODE1', 'NODE2') { throw "Invoke-Command to '$node', not a node of the lab cluster" }
    if (@($ArgumentList).Count -eq 1) {
        # The module probe (is this version installed there?) and the install folder.
        if ($null -ne $Session) { return "C:\\Program Files\\WindowsPowerShell\\Modules\\HyperVBackup\\$($ArgumentList[0])" }
        $global:NodeCalls.Add([pscustomobject]@{ Node = $node; Kind = 'probe'; Version = $ArgumentList[0] })
        return ${installed ? "$true" : "$false"}
    }
    $global:NodeCalls.Add([pscustomobject]@{ Node = $node; Kind = $ArgumentList[0]; VMs = @($ArgumentList[1].VMName) -join ','; OnNode = $ArgumentList[1].OnNode; Lab = $ArgumentList[1].LabPath })
    # The node's run, here against the lab: the core finds that node's VMs on it.
    & $ScriptBlock @ArgumentList
}
function global:New-PSSession { param([string] $ComputerName, [pscredential] $Credential) [pscustomobject]@{ ComputerName = $ComputerName } }
function global:Remove-PSSession { param([object] $Session) $global:Copies.Add([pscustomobject]@{ Node = $Session.ComputerName; Kind = 'closed' }) }
function global:Copy-Item { param([string] $Path, [string] $Destination, [object] $ToSession, [switch] $Recurse, [switch] $Force) $global:Copies.Add([pscustomobject]@{ Node = $ToSession.ComputerName; Kind = 'copy'; Path = $Path; Destination = $Destination }) }
`;

describe("a failover cluster", () => {
  it("backs up each node's VMs on that node through Invoke-Command, copying the module where it is missing", () => {
    const clab = join(work.dir, "clab");
    cli(["lab", "init", clab, "--nodes", "2"], work.dir);
    cli(["lab", "vm", "new", "--lab", clab, "--name", "a", "--disk", "8MiB", "--node", "NODE1"], work.dir);
    cli(["lab", "vm", "new", "--lab", clab, "--name", "b", "--disk", "8MiB", "--node", "NODE2"], work.dir);
    cli(["lab", "vm", "new", "--lab", clab, "--name", "c", "--disk", "4MiB", "--node", "NODE2"], work.dir);
    for (const [i, vm] of ["a", "b", "c"].entries()) cli(["lab", "write", "--lab", clab, "--vm", vm, "--disk", "0", "--offset", String(i * 65536), "--length", "300000", "--seed", String(50 + i)], work.dir);
    const r = ps(`$env:HVBACKUP_CLI = ${psQuote(join(work.dir, "runs.cjs"))}
${NODE_REMOTING(true)}
$points = New-RecoveryBackup -All -Path ./crepo -LabPath ./clab -Confirm:$false
"POINTS=$(@($points | ForEach-Object { "$($_.VMName):$($_.Kind)" } | Sort-Object) -join ',')"
foreach ($p in $points) { "POINT_$($p.VMName)=$($p.RestorePointId)" }
"RUNS=$(@($global:NodeCalls | Where-Object Kind -eq 'New-RecoveryBackup' | ForEach-Object { "$($_.Node)[$($_.VMs)]on=$($_.OnNode)" } | Sort-Object) -join ';')"
"PROBES=$(@($global:NodeCalls | Where-Object Kind -eq 'probe' | ForEach-Object { $_.Node } | Sort-Object) -join ',')"
"LAB=$(@($global:NodeCalls | Where-Object Kind -eq 'New-RecoveryBackup' | ForEach-Object { $_.Lab } | Sort-Object -Unique) -join ',')"
"COPIES=$($global:Copies.Count)"
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["POINTS"]).toBe("a:Full,b:Full,c:Full");
    expect(kv["RUNS"]).toBe("NODE1[a]on=NODE1;NODE2[b,c]on=NODE2");
    expect(kv["PROBES"]).toBe("NODE1,NODE2");
    expect(kv["LAB"]).toBe("./clab");
    expect(kv["COPIES"]).toBe("0");
    // Each node's run was one core run with its own VMs, never --all and never split again.
    const backups = runs().filter((w) => w[0] === "backup");
    expect(backups.map((w) => w.filter((_, i) => w[i - 1] === "--vm").join(",")).sort()).toEqual(["a", "b,c"]);
    expect(backups.some((w) => w.includes("--all"))).toBe(false);
    // Bit-exact: each VM's point restores to its source bytes.
    for (const vm of ["a", "b", "c"]) {
      const source = JSON.parse(cli(["lab", "ls", "--lab", clab, "--json"], work.dir)).vms.find((v: { name: string }) => v.name === vm).disks[0].path as string;
      const dest = join(work.dir, `restored-${vm}`);
      const lines = cli(["restore", "--repo", join(work.dir, "crepo"), "--vm", vm, "--point", kv[`POINT_${vm}`]!, "--new-id", "--name", `${vm}-restored`, "--dest", dest, "--no-cluster-role", "--lab", clab, "--json"], work.dir).trim().split("\n");
      const restored = (lines.map((l) => JSON.parse(l) as { type: string; data: { disks: Array<{ path: string }> } }).find((e) => e.type === "result"))!.data;
      expect(diskBytes(restored.disks[0]!.path, `r-${vm}`).equals(diskBytes(source, `s-${vm}`))).toBe(true);
    }

    const missing = ps(`${NODE_REMOTING(false)}
$points = New-RecoveryBackup -VMName b -Path ./crepo -LabPath ./clab -Confirm:$false
"POINT=$($points.VMName):$($points.Kind)"
"COPY=$(@($global:Copies | Where-Object Kind -eq 'copy' | ForEach-Object { "$($_.Node)>$($_.Destination)" }) -join ';')"
"FROM=$(@($global:Copies | Where-Object Kind -eq 'copy')[0].Path)"
"CLOSED=$(@($global:Copies | Where-Object Kind -eq 'closed').Count)"
"VERSION=$((Get-Module HyperVBackup).Version)"
`);
    expect(missing.stderr).toBe("");
    const kv2 = keyValues(missing.stdout);
    expect(kv2["POINT"]).toBe("b:Incremental");
    expect(kv2["COPY"]).toBe(`NODE2>C:\\Program Files\\WindowsPowerShell\\Modules\\HyperVBackup\\${kv2["VERSION"]}`);
    expect(kv2["FROM"]).toBe(join(ROOT, "*"));
    expect(kv2["CLOSED"]).toBe("1");
  }, 300_000);
});
