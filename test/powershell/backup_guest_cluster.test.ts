/**
 * Issue 11 "Done when", the cmdlet side, against the lab: a group of three VMs (farm: web01,
 * sql01, c01) and a two-node guest cluster sharing one VHD Set (gc: n1, n2 on Quorum.vhds) back
 * up full (one run: both groups from Get-VMGroup-shaped pipeline objects and a lone VM by name)
 * then incremental (New-RecoveryBackup -VMGroup farm,gc); the shared disk is stored once per set;
 * Restore-VMFromBackup -VMGroup brings back each set of each group whole, bit-exact, the shared
 * disk restored once and attached to both nodes; Restore-VMFromBackup -VMName brings back a
 * member alone at each point (a node with its shared disk); a failure injected at each
 * collection method and each VHD Set method gives an error record, no point, and leaves the
 * repository byte-for-byte as it was with nothing on the host; Get-VMBackupReadiness says a node
 * alone is not ready and names its group; -VMGroup -Force restores the guest cluster in place.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { keyValues } from "./_pwsh";
import { cli, diskBytes, lab, labVms, ps, setUpLab, work } from "./_backup_lab";
import { treeHashes } from "../support/engine_harness";

const MiB = 1024 * 1024;
const FARM = ["web01", "sql01", "c01"] as const;
const NODES = ["n1", "n2"] as const;
let vhds = "";
/** The original VMs' ids by name (restores side by side make more VMs of the same names). */
const ids: Record<string, string> = {};

beforeAll(() => {
  setUpLab();
  vhds = join(lab, "ClusterStorage", "Quorum.vhds");
  cli(["lab", "vm", "new", "--lab", lab, "--name", "c01", "--disk", "8MiB"], work.dir);
  cli(["lab", "vm", "new", "--lab", lab, "--name", "solo", "--disk", "8MiB"], work.dir);
  cli(["lab", "vhdset", "new", "--lab", lab, "--path", vhds, "--size", "24MiB"], work.dir);
  for (const n of NODES) cli(["lab", "vm", "new", "--lab", lab, "--name", n, "--disk", "8MiB", "--shared-disk", vhds], work.dir);
  cli(["lab", "group", "new", "--lab", lab, "--name", "farm", "--vm", "web01", "--vm", "sql01", "--vm", "c01"], work.dir);
  cli(["lab", "group", "new", "--lab", lab, "--name", "gc", "--vm", "n1", "--vm", "n2"], work.dir);
  for (const vm of labVms()) ids[vm.name] = vm.id;
  write("c01", 0, 512, 2 * MiB, 3);
  for (const [i, n] of NODES.entries()) write(n, 0, i * MiB, MiB, 10 + i);
  sharedWrite(512, 3 * MiB, 20);
  sharedWrite(17 * MiB, 70_000, 21);
}, 300_000);
afterAll(() => work?.remove());

function write(vm: string, disk: number, offset: number, length: number, seed: number): void {
  cli(["lab", "write", "--lab", lab, "--vm", ids[vm] ?? vm, "--disk", String(disk), "--offset", String(offset), "--length", String(length), "--seed", String(seed)], work.dir);
}
/** A write to the shared disk, through the cluster's owner. */
function sharedWrite(offset: number, length: number, seed: number): void {
  cli(["lab", "write", "--lab", lab, "--shared-disk", vhds, "--offset", String(offset), "--length", String(length), "--seed", String(seed)], work.dir);
}

interface LabState {
  vms: Array<{ name: string; id: string; hardware: { sharedDisks?: Array<{ path: string }> } }>;
  vhdSets?: Array<{ path: string; current: string; snapshots: Array<{ id: string; path: string }> }>;
  snapshots?: unknown[];
}
function labState(): LabState {
  return JSON.parse(readFileSync(join(lab, "lab.json"), "utf8")) as LabState;
}
/** The VHD Set at `file` as the cluster sees it now (the lab's private top file, read through its chain). */
function sharedBytes(file: string, tag: string): Buffer {
  const set = labState().vhdSets?.find((s) => s.path === resolve(file));
  if (!set) throw new Error(`no VHD Set '${file}' in the lab`);
  return diskBytes(set.current, tag);
}
/** The shared disks the VM with this id attaches. */
function attachedShared(vmId: string): string[] {
  return (labState().vms.find((v) => v.id.toLowerCase() === vmId.toLowerCase())?.hardware.sharedDisks ?? []).map((d) => d.path);
}
/** Every own disk of each VM of `names`, as the guest sees it now. */
function ownBytes(names: readonly string[], tag: string): Record<string, Buffer[]> {
  const out: Record<string, Buffer[]> = {};
  for (const vm of labVms().filter((v) => names.includes(v.name))) out[vm.name] = vm.disks.map((d, i) => diskBytes(d.path, `${tag}-${vm.name}-${i}`));
  return out;
}
function checkpointsOnHost(): number {
  return (JSON.parse(cli(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'"], work.dir)) as unknown[]).length;
}
function snapshotCollectionsOnHost(): number {
  return (JSON.parse(cli(["lab", "cim", "query", "--lab", lab, "SELECT * FROM Msvm_SnapshotCollection"], work.dir)) as unknown[]).length;
}
function sharedFilesInRepo(): string[] {
  return Object.keys(treeHashes(join(work.dir, "repo"))).filter((f) => /quorum/i.test(f)).sort();
}

/** What each set holds, as the guests saw it when it was taken. */
const at: Array<{ farm: string; gc: string; own: Record<string, Buffer[]>; shared: Buffer; points: Record<string, string> }> = [];

/** Prints, per point, `P_<vm>=<id>|<set id>|<kind>`. */
const PRINT_POINTS = `foreach ($p in $points) { "P_$($p.VMName)=$($p.RestorePointId)|$($p.SetId)|$($p.Kind)" }\n"COUNT=$(@($points).Count)"\n`;
function pointsOf(stdout: string): Record<string, { id: string; set: string; kind: string }> {
  const out: Record<string, { id: string; set: string; kind: string }> = {};
  for (const [k, v] of Object.entries(keyValues(stdout))) {
    if (!k.startsWith("P_")) continue;
    const [id, set, kind] = v.split("|");
    out[k.slice(2)] = { id: id!, set: set!, kind: kind! };
  }
  return out;
}

describe("a VM group and a guest cluster (VHD Set) through the cmdlets", () => {
  it("backs up both groups and a lone VM in one run, full then incremental, each group one set; the shared disk is stored once per set", () => {
    const own1 = ownBytes([...FARM, ...NODES], "s1");
    const shared1 = sharedBytes(vhds, "s1-shared");
    const full = ps(`
$groups = @('farm', 'gc') | ForEach-Object { [pscustomobject]@{ Name = $_; VMMembers = @('x'); ComputerName = [System.Environment]::MachineName } }
$points = @($groups[0], 'solo', $groups[1]) | New-RecoveryBackup -Path ./repo -LabPath ./lab -Confirm:$false
${PRINT_POINTS}`);
    expect(full.stderr).toBe("");
    const p1 = pointsOf(full.stdout);
    expect(keyValues(full.stdout)["COUNT"]).toBe("6");
    expect(Object.keys(p1).sort()).toEqual([...FARM, ...NODES, "solo"].sort());
    for (const p of Object.values(p1)) expect(p.kind).toBe("Full");
    const farm1 = p1["web01"]!.set;
    const gc1 = p1["n1"]!.set;
    // Set ids: one per group, none on the lone VM's point.
    expect(FARM.map((vm) => p1[vm]!.set)).toEqual([farm1, farm1, farm1]);
    expect(p1["n2"]!.set).toBe(gc1);
    expect(farm1).not.toBe(gc1);
    expect(farm1).not.toBe("");
    expect(p1["solo"]!.set).toBe("");
    at.push({ farm: farm1, gc: gc1, own: own1, shared: shared1, points: Object.fromEntries(Object.entries(p1).map(([k, v]) => [k, v.id])) });

    for (const vm of FARM) write(vm, 0, 5 * MiB, 100_000, 40 + FARM.indexOf(vm));
    write("n2", 0, 5 * MiB, 100_000, 50);
    sharedWrite(5 * MiB, 200_000, 51);
    sharedWrite(0, 4096, 52);
    const own2 = ownBytes([...FARM, ...NODES], "s2");
    const shared2 = sharedBytes(vhds, "s2-shared");
    expect(shared2.equals(shared1)).toBe(false);
    const incr = ps(`
$points = New-RecoveryBackup -VMGroup farm, gc -Path ./repo -LabPath ./lab -Confirm:$false
${PRINT_POINTS}
$listed = @(Get-VMBackup -Path ./repo | Where-Object { $_.VMName -in 'n1', 'n2' })
"LISTED=$(@($listed | ForEach-Object { "$($_.VMName):$($_.SetId)" } | Sort-Object) -join ',')"
`);
    expect(incr.stderr).toBe("");
    const p2 = pointsOf(incr.stdout);
    expect(Object.keys(p2).sort()).toEqual([...FARM, ...NODES].sort());
    for (const p of Object.values(p2)) expect(p.kind).toBe("Incremental");
    const farm2 = p2["web01"]!.set;
    const gc2 = p2["n1"]!.set;
    expect(new Set(FARM.map((vm) => p2[vm]!.set))).toEqual(new Set([farm2]));
    expect(p2["n2"]!.set).toBe(gc2);
    expect([farm2, gc2]).not.toContain(farm1);
    expect([farm2, gc2]).not.toContain(gc1);
    expect(keyValues(incr.stdout)["LISTED"]).toBe([`n1:${gc1}`, `n1:${gc2}`, `n2:${gc1}`, `n2:${gc2}`].sort().join(","));
    at.push({ farm: farm2, gc: gc2, own: own2, shared: shared2, points: Object.fromEntries(Object.entries(p2).map(([k, v]) => [k, v.id])) });

    // Once per set: one file for each guest-cluster set beside its set record, none in the nodes' points.
    expect(sharedFilesInRepo()).toEqual([`sets/${gc1}.shared/Quorum.vhdx`, `sets/${gc2}.shared/Quorum.vhdx`].sort());
    // Nothing left on the host.
    expect(checkpointsOnHost()).toBe(0);
    expect(snapshotCollectionsOnHost()).toBe(0);
  }, 300_000);

  it("Restore-VMFromBackup -VMGroup restores each set of each group whole and bit-exact, the shared disk once, attached to both nodes", () => {
    expect(at).toHaveLength(2);
    const script = at
      .flatMap((s, i) => [
        `$r = Restore-VMFromBackup -Path ./repo -VMGroup farm -SetId '${s.farm}' -NewVMId -DestinationPath ./farm-${i} -LabPath ./lab -Confirm:$false`,
        `foreach ($m in $r) { "F${i}_$($m.VMName)=$($m.SetId)|$($m.VMId)|$(@($m.Disks | ForEach-Object { $_.Path }) -join '|')"; "FS${i}_$($m.VMName)=$(@($m.SharedDisks | ForEach-Object { $_.Path }) -join '|')" }`,
        // The newest set by -Latest, an older one by its id.
        i === at.length - 1
          ? `$r = Restore-VMFromBackup -Path ./repo -VMGroup gc -Latest -NewVMId -DestinationPath ./gc-${i} -LabPath ./lab -Confirm:$false`
          : `$r = Restore-VMFromBackup -Path ./repo -VMGroup gc -SetId '${s.gc}' -NewVMId -DestinationPath ./gc-${i} -LabPath ./lab -Confirm:$false`,
        `foreach ($m in $r) { "G${i}_$($m.VMName)=$($m.SetId)|$($m.VMId)|$(@($m.Disks | ForEach-Object { $_.Path }) -join '|')"; "GS${i}_$($m.VMName)=$(@($m.SharedDisks | ForEach-Object { "$($_.SourcePath)>$($_.Path)" }) -join '|')" }`,
      ])
      .join("\n");
    const r = ps(script);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    for (const [i, s] of at.entries()) {
      for (const [tag, names, set] of [["F", FARM, s.farm], ["G", NODES, s.gc]] as const) {
        for (const vm of names) {
          const [setId, vmId, ...paths] = kv[`${tag}${i}_${vm}`]!.split("|");
          expect(setId, `${tag}${i} ${vm}`).toBe(set);
          expect(paths).toHaveLength(s.own[vm]!.length);
          paths.forEach((p, d) => expect(diskBytes(p, `${tag}${i}-${vm}-${d}`).equals(s.own[vm]![d]!), `${tag}${i} ${vm} disk ${d}`).toBe(true));
          const dest = resolve(work.dir, `${tag === "F" ? "farm" : "gc"}-${i}`);
          expect(paths.every((p) => p.startsWith(dest + sep))).toBe(true);
          // Each node attaches the one restored VHD Set; a farm member attaches none.
          expect(attachedShared(vmId!), `${tag}${i} ${vm}`).toEqual(tag === "G" ? [join(dest, "Shared Disks", "Quorum.vhds")] : []);
          // And the result says so: the shared disk it attaches, restored from the original.
          expect(kv[`${tag}S${i}_${vm}`], `${tag}${i} ${vm}`).toBe(tag === "G" ? `${resolve(vhds)}>${join(dest, "Shared Disks", "Quorum.vhds")}` : "");
        }
      }
      expect(sharedBytes(join(work.dir, `gc-${i}`, "Shared Disks", "Quorum.vhds"), `G${i}-shared`).equals(s.shared), `set ${i}: the shared disk`).toBe(true);
    }
  }, 300_000);

  it("Restore-VMFromBackup -VMName restores a member alone at each point, bit-exact; a node comes with its shared disk", () => {
    const script = at
      .flatMap((s, i) =>
        (["c01", "n2"] as const).map(
          (vm) =>
            `$r = Restore-VMFromBackup -Path ./repo -VMName ${vm} -RestorePointId '${s.points[vm]}' -NewVMId -NewName ${vm}-alone-${i} -DestinationPath ./alone-${vm}-${i} -LabPath ./lab -Confirm:$false\n` +
            `"A${i}_${vm}=$($r.VMName)|$($r.VMId)|$(@($r.Disks | ForEach-Object { $_.Path }) -join '|')"\n` +
            `"AS${i}_${vm}=$(@($r.SharedDisks | ForEach-Object { $_.Path }) -join '|')"`,
        ),
      )
      .join("\n");
    const r = ps(script);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    for (const [i, s] of at.entries()) {
      for (const vm of ["c01", "n2"] as const) {
        const [name, vmId, ...paths] = kv[`A${i}_${vm}`]!.split("|");
        expect(name).toBe(`${vm}-alone-${i}`);
        paths.forEach((p, d) => expect(diskBytes(p, `A${i}-${vm}-${d}`).equals(s.own[vm]![d]!), `${vm} at set ${i}`).toBe(true));
        const dest = join(work.dir, `alone-${vm}-${i}`);
        const shared = join(dest, "Shared Disks", "Quorum.vhds");
        expect(attachedShared(vmId!)).toEqual(vm === "n2" ? [shared] : []);
        expect(kv[`AS${i}_${vm}`]).toBe(vm === "n2" ? shared : "");
        if (vm === "n2") expect(sharedBytes(shared, `A${i}-shared`).equals(s.shared)).toBe(true);
      }
    }
    // The live cluster was never touched: still attached to the original VHD Set.
    for (const n of NODES) expect(attachedShared(ids[n]!)).toEqual([resolve(vhds)]);
  }, 300_000);

  it("a failure injected at each collection method and each VHD Set method: an error record, no point, nothing left behind", () => {
    const cases: Array<{ group: string; faults: string[][] }> = [
      { group: "farm", faults: [["Msvm_CollectionSnapshotService.CreateSnapshot", "32768", "1"]] },
      { group: "farm", faults: [["Msvm_CollectionSnapshotService.ExportSnapshot", "32768", "1"]] },
      { group: "farm", faults: [["Msvm_CollectionSnapshotService.ConvertToReferencePoint", "2", "1"]] },
      { group: "farm", faults: [["Msvm_CollectionSnapshotService.ExportSnapshot", "2", "1"], ["Msvm_CollectionSnapshotService.DestroySnapshot", "32768", "1"]] },
      { group: "gc", faults: [["Msvm_CollectionSnapshotService.CreateSnapshot", "5", "1"]] },
      { group: "gc", faults: [["Msvm_CollectionSnapshotService.ConvertToReferencePoint", "32768", "1"], ["Msvm_CollectionSnapshotService.DestroySnapshot", "2", "1"]] },
      { group: "gc", faults: [["GetVHDSetInformation", "32768", "1"]] },
      { group: "gc", faults: [["GetVHDSnapshotInformation", "32768", "1"]] },
    ];
    const repoDir = join(work.dir, "repo");
    const vhdSetSnapshots = () => labState().vhdSets!.find((s) => s.path === resolve(vhds))!.snapshots.map((s) => s.path);
    const snapshotsBefore = vhdSetSnapshots();
    for (const [n, c] of cases.entries()) {
      const title = `${c.group}: ${c.faults.map((f) => f[0]).join(" + ")}`;
      if (c.group === "gc") sharedWrite(2 * MiB + n * 4096, 50_000, 60 + n);
      else write("web01", 0, 9 * MiB + n * 4096, 50_000, 60 + n);
      const before = treeHashes(repoDir);
      for (const [method, code, times] of c.faults) cli(["lab", "fail", "--lab", lab, "--method", method!, "--code", code!, "--times", times!], work.dir);
      const r = ps(`
$points = New-RecoveryBackup -VMGroup ${c.group} -Path ./repo -LabPath ./lab -Confirm:$false -ErrorVariable failed -ErrorAction SilentlyContinue
"COUNT=$(@($points).Count)"
"ERRORS=$(@($failed).Count)"
"TARGET=$($failed[0].TargetObject)"
"MESSAGE=$($failed[0].Exception.Message -replace '\\r?\\n', ' ')"
`);
      expect(r.stderr, title).toBe("");
      const kv = keyValues(r.stdout);
      expect(kv["COUNT"], title).toBe("0");
      expect(kv["ERRORS"], title).toBe("1");
      expect(kv["TARGET"], title).not.toBe("");
      expect(kv["MESSAGE"], title).toContain(c.faults[0]![0]!.replace(/^.*\./, ""));
      // No member got a point; the repository is byte-for-byte as it was; nothing on the host.
      expect(treeHashes(repoDir), title).toEqual(before);
      expect(checkpointsOnHost(), title).toBe(0);
      expect(snapshotCollectionsOnHost(), title).toBe(0);
      expect(vhdSetSnapshots(), title).toEqual(snapshotsBefore);
    }
    // And then each group backs up incrementally, and the cluster's newest set restores bit-exact.
    const shared = sharedBytes(vhds, "after-shared");
    const r = ps(`
$points = New-RecoveryBackup -VMGroup farm, gc -Path ./repo -LabPath ./lab -Confirm:$false
"KINDS=$(@($points | ForEach-Object { $_.Kind } | Sort-Object -Unique) -join ',') $(@($points).Count)"
$null = Restore-VMFromBackup -Path ./repo -VMGroup gc -NewVMId -DestinationPath ./gc-after -LabPath ./lab -Confirm:$false
`);
    expect(r.stderr).toBe("");
    expect(keyValues(r.stdout)["KINDS"]).toBe("Incremental 5");
    expect(sharedBytes(join(work.dir, "gc-after", "Shared Disks", "Quorum.vhds"), "after-restored").equals(shared)).toBe(true);
  }, 600_000);

  it("Get-VMBackupReadiness says a node of the guest cluster alone is not ready, why, and which group to back up", () => {
    const r = ps(`
$ready = Get-VMBackupReadiness -VMName '${ids["n1"]}', '${ids["c01"]}' -Path ./repo -LabPath ./lab
foreach ($x in $ready) { "R_$($x.VMName)=$($x.Ready)|$($x.NotReady.Code)|$($x.NextBackup)|$($x.NotReady.Message)" }
$ready | Format-Table | Out-String -Width 300
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    const [ready, code, next, message] = kv["R_n1"]!.split("|");
    expect([ready, code, next]).toEqual(["False", "SharedDiskNotSupported", "None"]);
    expect(message).toMatch(/shares the VHD Set .*Quorum\.vhds.*'hvbackup backup --group gc'/);
    expect(kv["R_c01"]!.split("|").slice(0, 3)).toEqual(["True", "", "Incremental"]);
    // The table says why, in its last column.
    expect(r.stdout).toMatch(/n1 .* None .*Not ready: SharedDiskNotSupported: .*shares the VHD Set/);
  }, 120_000);

  it("Restore-VMFromBackup -VMGroup -Force restores the guest cluster in place: the same VMs, on a restored VHD Set, bit-exact; the original .vhds untouched", () => {
    const live = sharedBytes(vhds, "live-shared");
    const first = at[0]!;
    const r = ps(`
$r = Restore-VMFromBackup -Path ./repo -VMGroup gc -SetId '${first.gc}' -Force -DestinationPath ./in-place -LabPath ./lab -Confirm:$false
foreach ($m in $r) { "I_$($m.VMName)=$($m.VMId)|$(@($m.Disks | ForEach-Object { $_.Path }) -join '|')" }
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    const restored = join(work.dir, "in-place", "Shared Disks", "Quorum.vhds");
    for (const n of NODES) {
      const [vmId, ...paths] = kv[`I_${n}`]!.split("|");
      expect(vmId!.toLowerCase()).toBe(ids[n]!.toLowerCase());
      paths.forEach((p, d) => expect(diskBytes(p, `I-${n}-${d}`).equals(first.own[n]![d]!), `${n} disk ${d}`).toBe(true));
      expect(attachedShared(ids[n]!)).toEqual([restored]);
    }
    expect(sharedBytes(restored, "in-place-shared").equals(first.shared)).toBe(true);
    expect(sharedBytes(vhds, "live-after").equals(live)).toBe(true);
  }, 300_000);
});
