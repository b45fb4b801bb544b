import { describe, expect, it } from "vitest";
import { guestWrite, migrateVm, crashHost } from "../../../src/lab/mod";
import { vmByName } from "../../../src/lab/mod";
import { mutateLab, readLabState } from "../../../src/lab/mod";
import * as path from "node:path";
import { createVhdx } from "../../../src/vhdx/mod";
import { addVm, allChanges, asText, call, convert, diskFilesOf, MiB, newLab, one, recoveryCheckpoint, servicePath, vmPath, type TestLab } from "../../support/lab";
import type { CimInstance } from "../../../src/cim/mod";

const KiB = 1024;

function write(lab: TestLab, vm: string, offset: number, length: number, seed = "s", disk = 0): void {
  mutateLab(lab.dir, (s) => guestWrite(s, vmByName(s, vm), disk, offset, length, seed));
}

/** A full backup cycle: checkpoint + convert; returns the reference point. */
async function backup(lab: TestLab, vm: string): Promise<CimInstance> {
  return convert(lab, await recoveryCheckpoint(lab, vm));
}

function rctId(rp: CimInstance, i = 0): string {
  return (rp["ResilientChangeTrackingIdentifiers"] as string[])[i]!;
}

describe("GetVirtualDiskChanges", () => {
  it("reports exactly the sectors written since the reference point, up to the checkpoint's cut", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [32 * MiB] });
    write(lab, "a", 0, 64 * KiB, "full");
    const rp = await backup(lab, "a");
    write(lab, "a", 3 * MiB, 4 * KiB);
    write(lab, "a", 3 * MiB + 4 * KiB, 4 * KiB); // touches the previous one: one range
    write(lab, "a", 10 * MiB + 100, 10); // not sector aligned: the guest rewrote one sector
    const snap = await recoveryCheckpoint(lab, "a");
    write(lab, "a", 20 * MiB, 64 * KiB); // after the checkpoint: not part of this backup
    const frozen = diskFilesOf(lab, snap.__PATH)[0]!;
    const r = allChanges(lab, frozen, rctId(rp), 32 * MiB);
    expect(r.code).toBe(0);
    expect(r.ranges).toEqual([
      [3 * MiB, 8 * KiB],
      [10 * MiB, 512],
    ]);
    // The live disk sees the later write too.
    const live = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    expect(allChanges(lab, live, rctId(rp), 32 * MiB).ranges).toContainEqual([20 * MiB, 64 * KiB]);
  });

  it("processes at most part of a large region, so clients must loop on ProcessedByteLength", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [64 * MiB] });
    const rp = await backup(lab, "a");
    write(lab, "a", 60 * MiB, 4 * KiB);
    write(lab, "a", 7 * MiB, 2 * MiB); // crosses the 8 MiB processing boundary
    const snap = await recoveryCheckpoint(lab, "a");
    const frozen = diskFilesOf(lab, snap.__PATH)[0]!;
    const svc = servicePath(lab, "Msvm_ImageManagementService");
    const first = lab.session.invokeMethodSync(svc, "GetVirtualDiskChanges", { Path: frozen, LimitId: rctId(rp), ByteOffset: 0, ByteLength: 64 * MiB });
    expect(first.ReturnValue).toBe(0);
    expect(first["ProcessedByteLength"]).toBeLessThan(64 * MiB);
    expect(first["ChangedByteOffsets"]).toEqual([7 * MiB]);
    expect(first["ChangedByteLengths"]).toEqual([1 * MiB]); // clipped to what was processed
    const all = allChanges(lab, frozen, rctId(rp), 64 * MiB);
    expect(all.calls).toBeGreaterThan(1);
    expect(all.ranges).toEqual([
      [7 * MiB, 2 * MiB],
      [60 * MiB, 4 * KiB],
    ]);
  });

  it("after a live migration, rounds older changes to the .rct granularity: a superset", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    const rp = await backup(lab, "a");
    write(lab, "a", 1 * MiB + 4 * KiB, 4 * KiB);
    const stray = await recoveryCheckpoint(lab, "a"); // migration with a recovery checkpoint present
    mutateLab(lab.dir, (s) => migrateVm(s, vmByName(s, "a")));
    await call(lab, servicePath(lab, "Msvm_VirtualSystemSnapshotService"), "DestroySnapshot", { AffectedSnapshot: stray.__PATH });
    write(lab, "a", 5 * MiB + 4 * KiB, 4 * KiB); // after the migration: exact again
    const snap = await recoveryCheckpoint(lab, "a");
    const grain = readLabState(lab.dir).config.rctGrain;
    const r = allChanges(lab, diskFilesOf(lab, snap.__PATH)[0]!, rctId(rp), 16 * MiB);
    expect(r.ranges).toEqual([
      [1 * MiB, grain],
      [5 * MiB + 4 * KiB, 4 * KiB],
    ]);
  });

  it("after a host crash, rounds to the coarser .mrt granularity, also with a recovery checkpoint present", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    const rp = await backup(lab, "a");
    write(lab, "a", 3 * MiB + 8 * KiB, 4 * KiB);
    const stray = await recoveryCheckpoint(lab, "a");
    mutateLab(lab.dir, (s) => crashHost(s, Date.now()));
    const st = readLabState(lab.dir);
    expect(st.vms[0]!.state).toBe(3); // Off after the crash
    expect(lab.session.getInstanceSync(stray.__PATH)["VirtualSystemType"]).toBe("Microsoft:Hyper-V:Snapshot:Recovery");
    const mrt = st.config.mrtGrain;
    const r = allChanges(lab, diskFilesOf(lab, stray.__PATH)[0]!, rctId(rp), 16 * MiB);
    expect(r.ranges).toEqual([[2 * MiB, mrt]]);
    expect(mrt).toBeGreaterThan(st.config.rctGrain);
  });

  it("fails with 32773 for an unknown id, a destroyed id and a reset (replaced) disk", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    const rp1 = await backup(lab, "a");
    const rp2 = await backup(lab, "a");
    const live = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    expect(allChanges(lab, live, "rctX:00000000-0000-0000-0000-000000000000:1", 16 * MiB).code).toBe(32773);
    expect(allChanges(lab, live, rctId(rp1), 16 * MiB).code).toBe(0);
    await call(lab, servicePath(lab, "Msvm_VirtualSystemReferencePointService"), "DestroyReferencePoint", { AffectedReferencePoint: rp1.__PATH });
    expect(allChanges(lab, live, rctId(rp1), 16 * MiB).code).toBe(32773);
    expect(allChanges(lab, live, rctId(rp2), 16 * MiB).code).toBe(0);
    // Replacing the disk file resets tracking: every earlier id is unknown.
    const replacement = path.join(lab.dir, "replacement.vhdx");
    createVhdx(replacement, { virtualSize: 16 * MiB }).close();
    const live2 = one(lab.session.associatorsSync(vmPath(lab, "a"), { assocClass: "Msvm_SettingsDefineState" }));
    const sasd = one(lab.session.associatorsSync(live2.__PATH, { resultClass: "Msvm_StorageAllocationSettingData" }));
    const { __PATH: _p, ...body } = sasd;
    void _p;
    const m = lab.session.invokeMethodSync(servicePath(lab, "Msvm_VirtualSystemManagementService"), "ModifyResourceSettings", asText(lab, { ResourceSettings: [{ ...body, HostResource: [replacement] }] }));
    expect(m.ReturnValue).toBe(0);
    expect(allChanges(lab, replacement, rctId(rp2), 16 * MiB).code).toBe(32773);
    const rp3 = await backup(lab, "a");
    expect(rctId(rp3)).not.toBe(rctId(rp2));
    expect(allChanges(lab, replacement, rctId(rp3), 16 * MiB).code).toBe(0);
  });

  it("validates the region and the file: past the end 32773, whole disk allowed, missing file 32779, VHD 32770", async () => {
    const lab = newLab();
    addVm(lab, { name: "a", diskSizes: [16 * MiB] });
    addVm(lab, { name: "v", diskSizes: [16 * MiB], format: "vhd" });
    const rp = await backup(lab, "a");
    const live = readLabState(lab.dir).vms[0]!.disks[0]!.path;
    const svc = servicePath(lab, "Msvm_ImageManagementService");
    const q = (args: Record<string, unknown>) =>
      lab.session.invokeMethodSync(svc, "GetVirtualDiskChanges", { Path: live, LimitId: rctId(rp), ByteOffset: 0, ByteLength: 16 * MiB, ...args }).ReturnValue;
    expect(q({})).toBe(0);
    expect(q({ ByteOffset: 512, ByteLength: 16 * MiB })).toBe(32773);
    expect(q({ Path: `${live}.missing` })).toBe(32779);
    expect(q({ LimitId: undefined })).toBe(32773);
    // "Only valid for VHD Set files": refused on a plain disk, even empty.
    expect(q({ TargetSnapshotId: "" })).toBe(32773);
    const vhdRp = await backup(lab, "v");
    expect(rctId(vhdRp)).toBe("");
    const vhdFile = readLabState(lab.dir).vms[1]!.disks[0]!.path;
    expect(q({ Path: vhdFile, LimitId: "rctX:whatever:1" })).toBe(32770);
  });
});
