/**
 * Issue 11 item 5 through the cmdlets against the lab: a VM group backed up as one set from a
 * Get-VMGroup-shaped pipeline object (Name + VMMembers) and by -VMGroup, full then incremental;
 * Get-VMBackup shows each point's SetId (property and table column); Restore-VMFromBackup
 * -VMGroup restores a chosen set (-SetId), the newest (-Latest) and the newest at a time
 * (-PointInTime) side by side, bit-exact
 * against the source disks as they were at each set.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyValues } from "./_pwsh";
import { cli, diskBytes, lab, labVms, listPoints, ps, setUpLab, work } from "./_backup_lab";

beforeAll(() => setUpLab(), 300_000);
afterAll(() => work?.remove());

/** Every disk of each member, as the guest sees it now. */
function memberBytes(tag: string): Record<string, Buffer[]> {
  const out: Record<string, Buffer[]> = {};
  for (const vm of labVms().filter((v) => v.name === "web01" || v.name === "sql01")) {
    if (out[vm.name]) continue;
    out[vm.name] = vm.disks.map((d, i) => diskBytes(d.path, `${tag}-${vm.name}-${i}`));
  }
  return out;
}

describe("VM groups through the cmdlets", () => {
  it("backs up a group as sets (pipeline and -VMGroup), shows SetId, restores a chosen and the newest set bit-exact", () => {
    cli(["lab", "group", "new", "--lab", lab, "--name", "farm", "--vm", "web01", "--vm", "sql01"], work.dir);
    const first = ps(`
$group = [pscustomobject]@{ Name = 'farm'; VMMembers = @('web01', 'sql01'); ComputerName = [System.Environment]::MachineName }
$points = $group | New-RecoveryBackup -Path ./repo -LabPath ./lab -Confirm:$false
"COUNT=$(@($points).Count)"
"SETS=$(@($points | ForEach-Object { $_.SetId } | Sort-Object -Unique).Count)"
"SET1=$($points[0].SetId)"
"NAMES=$(@($points | ForEach-Object { $_.VMName } | Sort-Object) -join ',')"
"KINDS=$(@($points | ForEach-Object { $_.Kind }) -join ',')"
`);
    expect(first.stderr).toBe("");
    const kv1 = keyValues(first.stdout);
    expect(kv1["COUNT"]).toBe("2");
    expect(kv1["SETS"]).toBe("1");
    expect(kv1["NAMES"]).toBe("sql01,web01");
    expect(kv1["KINDS"]).toBe("Full,Full");
    const set1 = kv1["SET1"]!;
    expect(set1).not.toBe("");
    const atSet1 = memberBytes("s1");

    cli(["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", String(5 * 1024 * 1024), "--length", "200000", "--seed", "41"], work.dir);
    cli(["lab", "write", "--lab", lab, "--vm", "sql01", "--disk", "1", "--offset", "4096", "--length", "70000", "--seed", "42"], work.dir);
    const second = ps(`
$points = New-RecoveryBackup -VMGroup farm -Path ./repo -LabPath ./lab -Confirm:$false
"KINDS=$(@($points | ForEach-Object { $_.Kind }) -join ',')"
"SET2=$($points[0].SetId)"
$listed = Get-VMBackup -Path ./repo
"LISTED=$(@($listed | Where-Object { $_.SetId }).Count)"
"TABLE=$(($listed | Format-Table | Out-String -Width 200) -match 'SetId')"
"NOSET=$(@($listed | Where-Object { $null -eq $_.SetId }).Count)"
`);
    expect(second.stderr).toBe("");
    const kv2 = keyValues(second.stdout);
    expect(kv2["KINDS"]).toBe("Incremental,Incremental");
    const set2 = kv2["SET2"]!;
    expect(set2).not.toBe(set1);
    expect(kv2["LISTED"]).toBe("4");
    expect(kv2["TABLE"]).toBe("True");
    expect(kv2["NOSET"]).toBe("0");
    expect(listPoints().map((p) => (p as unknown as { setId: string }).setId).sort()).toEqual([set1, set1, set2, set2].sort());
    const atSet2 = memberBytes("s2");
    expect(atSet2["web01"]![0]!.equals(atSet1["web01"]![0]!)).toBe(false);

    const restore = ps(`
$one = Restore-VMFromBackup -Path ./repo -VMGroup farm -SetId '${set1}' -NewVMId -DestinationPath ./r1 -LabPath ./lab -Confirm:$false
foreach ($r in $one) { "R1_$($r.VMName)=$(@($r.Disks | ForEach-Object { $_.Path }) -join '|')"; "R1SET_$($r.VMName)=$($r.SetId)"; "R1TYPE_$($r.VMName)=$($r.PSObject.TypeNames[0])" }
$two = Restore-VMFromBackup -Path ./repo -VMGroup farm -Latest -NewVMId -DestinationPath ./r2 -LabPath ./lab -Confirm:$false
foreach ($r in $two) { "R2_$($r.VMName)=$(@($r.Disks | ForEach-Object { $_.Path }) -join '|')"; "R2SET_$($r.VMName)=$($r.SetId)" }
# The newest set at or before a time just after the first set's points: the first set.
$at = @(Get-VMBackup -Path ./repo | Where-Object { $_.SetId -eq '${set1}' } | Sort-Object Time -Descending)[0].Time.AddMilliseconds(500)
$three = Restore-VMFromBackup -Path ./repo -VMGroup farm -PointInTime $at -NewVMId -DestinationPath ./r3 -LabPath ./lab -Confirm:$false
foreach ($r in $three) { "R3_$($r.VMName)=$(@($r.Disks | ForEach-Object { $_.Path }) -join '|')"; "R3SET_$($r.VMName)=$($r.SetId)" }
`);
    expect(restore.stderr).toBe("");
    const kv3 = keyValues(restore.stdout);
    for (const [tag, set, want] of [["R1", set1, atSet1], ["R2", set2, atSet2], ["R3", set1, atSet1]] as const) {
      for (const vm of ["web01", "sql01"]) {
        expect(kv3[`${tag}SET_${vm}`]).toBe(set);
        const paths = kv3[`${tag}_${vm}`]!.split("|");
        expect(paths).toHaveLength(want[vm]!.length);
        paths.forEach((p, i) => expect(diskBytes(p, `${tag}-restored-${vm}-${i}`).equals(want[vm]![i]!)).toBe(true));
      }
    }
    expect(kv3["R1TYPE_web01"]).toBe("HyperVBackup.RestoreResult");
  }, 300_000);
});
