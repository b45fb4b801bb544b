import { describe, expect, it } from "vitest";
import { HyperVClient } from "../../../src/hyperv/hyperv_client";
import { HyperVMethodError } from "../../../src/hyperv/method_errors";
import { isRctFallbackError } from "../../../src/hyperv/rct";
import { standardFakeHost } from "./_fake_host";

const MiB = 1 << 20;

describe("getChangedRanges", () => {
  function setup() {
    const host = standardFakeHost();
    const hv = new HyperVClient(host.session, { pollMs: 1 });
    const disk = "/vms/web01/os.vhdx"; // 64 MiB
    return { host, hv, disk };
  }

  it("keeps calling from ByteOffset + ProcessedByteLength until the whole disk is covered", async () => {
    const { host, hv, disk } = setup();
    host.maxProcessed = 5 * MiB; // 64 MiB takes 13 calls
    host.changes.set(`${disk}|rct-1`, [
      { offset: 0, length: 4096 },
      { offset: 4096, length: 4096 }, // touches the first: merged
      { offset: 5 * MiB - 512, length: 1024 }, // straddles a call boundary: reported twice, merged once
      { offset: 63 * MiB, length: MiB },
    ]);
    const ranges = await hv.getChangedRanges(disk, "rct-1");
    expect(ranges).toEqual([
      { offset: 0, length: 8192 },
      { offset: 5 * MiB - 512, length: 1024 },
      { offset: 63 * MiB, length: MiB },
    ]);
    const calls = host.session.calls.filter((c) => c.method === "GetVirtualDiskChanges");
    expect(calls).toHaveLength(13);
    expect(calls.map((c) => c.args["ByteOffset"])).toEqual(Array.from({ length: 13 }, (_, i) => i * 5 * MiB));
    expect(calls[0]!.args).toMatchObject({ Path: disk, LimitId: "rct-1", ByteLength: 64 * MiB });
    // "Only valid for VHD Set files" (method page): never sent for a VHDX.
    expect(calls.every((c) => !("TargetSnapshotId" in c.args))).toBe(true);
    expect(calls[12]!.args["ByteLength"]).toBe(4 * MiB);
  });

  it("asks only for the given region and clips answers to it", async () => {
    const { host, hv, disk } = setup();
    host.changes.set(`${disk}|rct-1`, [{ offset: 0, length: 10 * MiB }]);
    const ranges = await hv.getChangedRanges(disk, "rct-1", { offset: 2 * MiB, length: 3 * MiB });
    expect(ranges).toEqual([{ offset: 2 * MiB, length: 3 * MiB }]);
    expect(host.session.calls.some((c) => c.method === "GetVirtualHardDiskSettingData")).toBe(false);
  });

  it("returns nothing for a disk without changes", async () => {
    const { host, hv, disk } = setup();
    host.changes.set(`${disk}|rct-1`, []);
    expect(await hv.getChangedRanges(disk, "rct-1")).toEqual([]);
  });

  it("raises RctIdInvalid for an unknown id so the engine can fall back to a full backup", async () => {
    const { hv, disk } = setup();
    const e = await hv.getChangedRanges(disk, "no-such-id").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HyperVMethodError);
    expect((e as HyperVMethodError).code).toBe("RctIdInvalid");
    expect((e as HyperVMethodError).returnValue).toBe(32773);
    expect(isRctFallbackError(e)).toBe(true);
    expect((e as Error).message).toBe(`GetVirtualDiskChanges failed on disk '${disk}': 32773 Invalid parameter`);
  });

  it("raises RctNotSupported for 32770, RctIdInvalid for any other code, and keeps access denied apart", async () => {
    const { host, hv, disk } = setup();
    host.changes.set(`${disk}|rct-1`, []);
    host.fail("GetVirtualDiskChanges", { returnValue: 32770 });
    const e1 = await hv.getChangedRanges(disk, "rct-1").catch((x: unknown) => x);
    expect((e1 as HyperVMethodError).code).toBe("RctNotSupported");
    expect(isRctFallbackError(e1)).toBe(true);
    host.fail("GetVirtualDiskChanges", { returnValue: 32769 });
    const e2 = await hv.getChangedRanges(disk, "rct-1").catch((x: unknown) => x);
    expect((e2 as HyperVMethodError).code).toBe("HyperVAccessDenied");
    expect(isRctFallbackError(e2)).toBe(false);
    // The code for a reset or unknown id is undocumented: 32779, 32768 or anything else falls back too.
    for (const returnValue of [32768, 32779, 32772]) {
      host.fail("GetVirtualDiskChanges", { returnValue });
      const e = await hv.getChangedRanges(disk, "rct-1").catch((x: unknown) => x);
      expect((e as HyperVMethodError).code).toBe("RctIdInvalid");
      expect((e as HyperVMethodError).errorCode).toBe(returnValue);
      expect(isRctFallbackError(e)).toBe(true);
    }
  });

  it("refuses to loop forever when the host processes nothing", async () => {
    const { host, hv, disk } = setup();
    host.changes.set(`${disk}|rct-1`, []);
    host.maxProcessed = 0;
    await expect(hv.getChangedRanges(disk, "rct-1")).rejects.toThrow(/made no progress at byte 0/);
  });

  it("fails with File not found when the disk file is unknown to the host", async () => {
    const { hv } = setup();
    await expect(hv.getChangedRanges("/nope.vhdx", "rct-1")).rejects.toThrow("GetVirtualHardDiskSettingData failed on disk '/nope.vhdx': 32779 File not found");
  });
});
