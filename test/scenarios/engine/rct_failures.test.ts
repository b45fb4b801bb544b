/**
 * GetVirtualDiskChanges failures (issue 13 A3): the code for a reset or unknown RCT id is not
 * documented, so any failure but access denied copies that disk in full with a warning naming
 * the code; access denied fails the backup with a message about rights, leaving nothing behind.
 */
import { afterEach, describe, expect, it } from "vitest";
import { backupAsync, events, hvbAsync, guestWriteAsync, newWorldAsync, okAsync, recoveryCheckpoints } from "../../support/engine_harness";

let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});

describe("GetVirtualDiskChanges failures", () => {
  it("copies the disk in full with a warning naming any code but 32769, and fails on access denied with a message about rights", async () => {
    const w = await newWorldAsync("rctfail", ["--job-ms", "0"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "v", "--disk", "16MiB", "--disk", "16MiB"]);
    await backupAsync(w, "v");
    await guestWriteAsync(w.lab, "v", 0, 4096, 8192, 1);
    // 32779 (File not found or in use) was not one of the codes that fell back before.
    await okAsync(["lab", "fail", "--lab", w.lab, "--method", "GetVirtualDiskChanges", "--code", "32779"]);
    const p = await backupAsync(w, "v");
    expect(p.kind).toBe("incremental");
    expect(p.disks.map((d) => d.method).sort()).toEqual(["full", "rct"]);
    expect(p.warnings.join("\n")).toMatch(/GetVirtualDiskChanges failed for RCT id '[^']+' with 32779/);

    await okAsync(["lab", "fail", "--lab", w.lab, "--method", "GetVirtualDiskChanges", "--code", "32769"]);
    const r = await hvbAsync(["backup", "--vm", "v", "--repo", w.repo, "--lab", w.lab, "--json"]);
    expect(r.code).not.toBe(0);
    const error = events(r.stdout).find((e) => e.type === "error");
    expect(error?.code).toBe("HyperVAccessDenied");
    expect(error?.message).toMatch(/denied access \(32769\).*Hyper-V Administrators/);
    expect(await recoveryCheckpoints(w.lab)).toEqual([]);
  });
});
