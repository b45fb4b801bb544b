/**
 * The lab's VHD Sets (docs/lab-fidelity.md §6b): a .vhds is reached only through
 * Msvm_ImageManagementService's VHD Set methods; a group checkpoint snapshots it once; the
 * snapshot's data and changes are what the methods say; the .vhds file is never a disk.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readLabState, sharedWriteInLab } from "../../../src/lab/mod";
import { openDisk } from "../../../src/disks/mod";
import { embeddedInstance } from "../../../src/cim/mod";
import { MiB, call, cli, clusterLab, newLab, servicePath, snapshotSettings, type TestLab } from "../../support/lab";

const IMS = "Msvm_ImageManagementService";

async function setInfo(lab: TestLab, vhds: string, paths = false): Promise<Record<string, unknown>> {
  const w = await call(lab, servicePath(lab, IMS), "GetVHDSetInformation", { VHDSetPath: vhds, AdditionalInformation: paths ? [2] : null });
  expect(w.result["ReturnValue"]).toBe(0);
  return embeddedInstance(w.result["Information"], "Information");
}

async function snapshotInfo(lab: TestLab, vhds: string, ids: string[] | null): Promise<Array<Record<string, unknown>>> {
  const w = await call(lab, servicePath(lab, IMS), "GetVHDSnapshotInformation", { VHDSetPath: vhds, SnapshotIds: ids, AdditionalInformation: [2] });
  expect(w.result["ReturnValue"]).toBe(0);
  return ((w.result["SnapshotInformation"] as unknown[] | null) ?? []).map((x) => embeddedInstance(x, "SnapshotInformation"));
}

function hashOf(file: string, size: number): Buffer {
  const d = openDisk(file);
  try {
    const b = Buffer.alloc(size);
    d.read(b, 0);
    return b;
  } finally {
    d.close();
  }
}

describe("VHD Sets in the lab", () => {
  it("the .vhds is a marker, never a disk; the members' SASDs carry PersistentReservationsSupported; GetVirtualHardDiskSettingData says Format 4", async () => {
    const { lab, vhds } = clusterLab();
    expect(JSON.parse(readFileSync(vhds, "utf8")).format).toBe("hvbackup-lab-vhdset");
    expect(() => openDisk(vhds)).toThrow();
    const sasds = lab.session.querySync("SELECT * FROM Msvm_StorageAllocationSettingData").filter((s) => (s["HostResource"] as string[])[0] === vhds);
    expect(sasds.map((s) => s["PersistentReservationsSupported"])).toEqual([true, true]);
    const sd = await call(lab, servicePath(lab, IMS), "GetVirtualHardDiskSettingData", { Path: vhds });
    expect(embeddedInstance(sd.result["SettingData"], "SettingData")["Format"]).toBe(4);
    const info = await setInfo(lab, vhds, true);
    expect(info["SnapshotIdList"]).toEqual([]);
    expect((info["AllPaths"] as string[])[0]).toBe(vhds);
    expect((await setInfo(lab, vhds))["AllPaths"]).toEqual([]);
    // 32779 no file; 32773 a file that is no VHD Set.
    expect((await call(lab, servicePath(lab, IMS), "GetVHDSetInformation", { VHDSetPath: path.join(lab.dir, "none.vhds") })).result["ReturnValue"]).toBe(32779);
    expect((await call(lab, servicePath(lab, IMS), "GetVHDSetInformation", { VHDSetPath: path.join(lab.dir, "lab.json") })).result["ReturnValue"]).toBe(32773);
  });

  it("a group checkpoint snapshots the set once, at the members' cut; the snapshot's file, changes up to it, reference-only after conversion, gone with the reference point", async () => {
    const { lab, vhds, group } = clusterLab();
    sharedWriteInLab(lab.dir, vhds, 0, 64 * 1024, "x");
    const svc = servicePath(lab, "Msvm_CollectionSnapshotService");
    const snap = await call(lab, svc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(1), SnapshotType: 2 });
    const sc = String(snap.result["ResultingSnapshotCollection"]);
    sharedWriteInLab(lab.dir, vhds, 2 * MiB, 4096, "after");
    const ids = (await setInfo(lab, vhds))["SnapshotIdList"] as string[];
    expect(ids).toHaveLength(1);
    const id = ids[0]!;
    // Every member checkpoint's disk names that snapshot.
    const cpSasds = lab.session.querySync("SELECT * FROM Msvm_StorageAllocationSettingData").filter((s) => (s["HostResource"] as string[])[0] === vhds && s["SnapshotId"] !== "");
    expect(cpSasds.map((s) => s["SnapshotId"])).toEqual([id.replace(/[{}]/g, ""), id.replace(/[{}]/g, "")]);
    const [s1] = await snapshotInfo(lab, vhds, [id]);
    expect(s1!["SnapshotPath"]).toMatch(/\.avhdx$/);
    expect(hashOf(String(s1!["SnapshotPath"]), 3 * MiB).subarray(2 * MiB, 2 * MiB + 4096).every((b) => b === 0)).toBe(true);
    // Changes up to the snapshot (TargetSnapshotId) exclude the later write; up to now include it.
    const limit = String(s1!["ResilientChangeTrackingId"]);
    const changes = async (target: string | null): Promise<unknown> =>
      (await call(lab, servicePath(lab, IMS), "GetVirtualDiskChanges", { Path: vhds, LimitId: limit, TargetSnapshotId: target, ByteOffset: 0, ByteLength: 8 * MiB })).result["ChangedByteOffsets"];
    expect(await changes(id)).toEqual([]);
    expect(await changes(null)).toEqual([2 * MiB]);
    // A plain disk still refuses TargetSnapshotId.
    const own = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    expect((await call(lab, servicePath(lab, IMS), "GetVirtualDiskChanges", { Path: own, LimitId: limit, TargetSnapshotId: id, ByteOffset: 0, ByteLength: MiB })).result["ReturnValue"]).toBe(32773);

    const conv = await call(lab, svc, "ConvertToReferencePoint", { AffectedSnapshotCollection: sc });
    const rpc = String(conv.result["ResultingReferencePointCollection"]);
    const [ref] = await snapshotInfo(lab, vhds, null);
    expect([ref!["SnapshotPath"], ref!["ResilientChangeTrackingId"]]).toEqual(["", limit]);
    expect(await changes(null)).toEqual([2 * MiB]);
    await call(lab, servicePath(lab, "Msvm_CollectionReferencePointService"), "DestroyReferencePoint", { AffectedReferencePointCollection: rpc });
    expect((await setInfo(lab, vhds))["SnapshotIdList"]).toEqual([]);
  });

  it("DeleteVHDSnapshot folds a snapshot away (or keeps it reference-only); SetVHDSnapshotInformation edits nothing; CreateVirtualHardDisk makes a VHD Set over a VHDX", async () => {
    const { lab, vhds, group } = clusterLab();
    sharedWriteInLab(lab.dir, vhds, MiB, 4096, "one");
    const svc = servicePath(lab, "Msvm_CollectionSnapshotService");
    await call(lab, svc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(1), SnapshotType: 2 });
    await call(lab, svc, "CreateSnapshot", { Collection: group, SnapshotSettings: snapshotSettings(1), SnapshotType: 2 });
    sharedWriteInLab(lab.dir, vhds, 3 * MiB, 4096, "two");
    const before = hashOf(readLabState(lab.dir).vhdSets![0]!.current, 8 * MiB);
    const [first, second] = (await setInfo(lab, vhds))["SnapshotIdList"] as string[];
    const ims = servicePath(lab, IMS);
    const [info] = await snapshotInfo(lab, vhds, [first!]);
    expect((await call(lab, ims, "SetVHDSnapshotInformation", { Information: { __CLASS: "Msvm_VHDSnapshotInformation", FilePath: vhds, SnapshotId: first, SnapshotPath: info!["SnapshotPath"] } })).result["ReturnValue"]).toBe(0);
    expect((await call(lab, ims, "SetVHDSnapshotInformation", { Information: { __CLASS: "Msvm_VHDSnapshotInformation", FilePath: vhds, SnapshotId: first, SnapshotPath: "/elsewhere.avhdx" } })).result["ReturnValue"]).toBe(32770);
    expect((await call(lab, ims, "DeleteVHDSnapshot", { VHDSetPath: vhds, SnapshotId: first, PersistReferenceSnapshot: false })).result["ReturnValue"]).toBe(0);
    expect((await call(lab, ims, "DeleteVHDSnapshot", { VHDSetPath: vhds, SnapshotId: second, PersistReferenceSnapshot: true })).result["ReturnValue"]).toBe(0);
    expect((await snapshotInfo(lab, vhds, null)).map((s) => s["SnapshotPath"])).toEqual([""]);
    // The data the cluster sees is unchanged by folding snapshots away.
    expect(hashOf(readLabState(lab.dir).vhdSets![0]!.current, 8 * MiB).equals(before)).toBe(true);
    expect((await setInfo(lab, vhds, true))["AllPaths"] as string[]).toHaveLength(2);

    const made = path.join(lab.dir, "restored", "New.vhds");
    const source = readLabState(lab.dir).vhdSets![0]!.current;
    const sd = (format: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ VirtualDiskSettingData: { __CLASS: "Msvm_VirtualHardDiskSettingData", Type: 3, Format: format, Path: made, ...extra } });
    // A VHDX asked for (Format 3) is a plain disk, made elsewhere: without MaxInternalSize it is Invalid Parameter.
    expect((await call(lab, ims, "CreateVirtualHardDisk", sd(3))).result["ReturnValue"]).toBe(32773);
    expect(existsSync(made)).toBe(false);
    expect((await call(lab, ims, "CreateVirtualHardDisk", sd(4, { ParentPath: source }))).result["ReturnValue"]).toBe(32779);
    mkdirSync(path.dirname(made), { recursive: true });
    const ok = await call(lab, ims, "CreateVirtualHardDisk", sd(4, { ParentPath: source }));
    expect(ok.job?.["JobState"]).toBe(7);
    const all = (await setInfo(lab, made, true))["AllPaths"] as string[];
    expect([all[0], all[all.length - 1]]).toEqual([made, source]);
    expect(hashOf(readLabState(lab.dir).vhdSets![1]!.current, 8 * MiB).equals(before)).toBe(true);
  });

  it("the lab commands: vhdset new, vm new --shared-disk, write --shared-disk through the owner, refusals that say why", () => {
    const lab = newLab();
    const vhds = path.join(lab.dir, "Q.vhds");
    expect(cli(["lab", "vhdset", "new", "--lab", lab.dir, "--path", path.join(lab.dir, "Q.vhdx"), "--size", "8MiB"]).stderr).toMatch(/--path must name a \.vhds file/);
    cli(["lab", "vhdset", "new", "--lab", lab.dir, "--path", vhds, "--size", "8MiB"]);
    expect(cli(["lab", "write", "--lab", lab.dir, "--shared-disk", vhds, "--offset", "0", "--length", "512", "--seed", "s"]).stderr).toMatch(/no VM attaching it is Running/);
    expect(cli(["lab", "vm", "new", "--lab", lab.dir, "--name", "x", "--disk", "8MiB", "--shared-disk", path.join(lab.dir, "none.vhds")]).stderr).toMatch(/not a VHD Set of the lab/);
    cli(["lab", "vm", "new", "--lab", lab.dir, "--name", "y", "--disk", "8MiB", "--shared-disk", vhds]);
    const out = cli(["lab", "write", "--lab", lab.dir, "--shared-disk", vhds, "--offset", "1MiB", "--length", "512", "--seed", "s"]);
    expect(out.stdout).toMatch(/through 'y'/);
  });

  it("a VHD Set whose .vhds is deleted is no VHD Set any more: the methods and the lab commands refuse it, and its path can be made again", async () => {
    const lab = newLab();
    const vhds = path.join(lab.dir, "Gone.vhds");
    cli(["lab", "vhdset", "new", "--lab", lab.dir, "--path", vhds, "--size", "8MiB"]);
    await setInfo(lab, vhds); // ReturnValue 0 while the .vhds is there
    rmSync(vhds);
    const info = await call(lab, servicePath(lab, IMS), "GetVHDSetInformation", { VHDSetPath: vhds, AdditionalInformation: null });
    expect(info.result["ReturnValue"]).not.toBe(0);
    expect(cli(["lab", "vm", "new", "--lab", lab.dir, "--name", "z", "--disk", "8MiB", "--shared-disk", vhds]).stderr).toMatch(/not a VHD Set of the lab/);
    // Made again at the same path: a new, empty set.
    cli(["lab", "vhdset", "new", "--lab", lab.dir, "--path", vhds, "--size", "4MiB"]);
    expect(readLabState(lab.dir).vhdSets!.map((x) => [x.path, x.virtualSize])).toEqual([[vhds, 4 * MiB]]);
  });
});
