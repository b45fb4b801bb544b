/**
 * Consistency as achieved (issue 13 A12): a Linux guest frozen by its integration services
 * answers ConsistencyLevel 1 like an application-consistent Windows guest; the point records
 * "file-system" because the guest's KVP exchange (Msvm_KvpExchangeComponent's intrinsic items)
 * names a non-Windows OS. `--consistency file-system` asks for it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseInstanceXml } from "../../../src/cim/mod";
import { backupAsync, cimQuery, hvbAsync, newWorldAsync, okAsync, readCatalogOf } from "../../support/engine_harness";

let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});

describe("file-system consistency", () => {
  it("records file-system for a Linux guest, application for a Windows one, and accepts --consistency file-system", async () => {
    const w = await newWorldAsync("fs-consistency", ["--job-ms", "0"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "lin", "--disk", "8MiB", "--guest", "linux"]);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "win", "--disk", "8MiB", "--guest", "windows"]);
    // The lab serves what a host serves: the OS in embedded Msvm_KvpExchangeDataItem text.
    const kvp = await cimQuery(w.lab, "SELECT * FROM Msvm_KvpExchangeComponent");
    const osNames = kvp.map((k) => (k["GuestIntrinsicExchangeItems"] as string[]).map((t) => parseInstanceXml(t)).find((i) => i["Name"] === "OSName")?.["Data"]);
    expect(osNames.sort()).toEqual(["Ubuntu", "Windows Server 2022 Datacenter"]);

    expect((await backupAsync(w, "lin")).consistency).toBe("file-system");
    expect((await backupAsync(w, "win")).consistency).toBe("application");
    const asked = await backupAsync(w, "lin", ["--consistency", "file-system"]);
    expect(asked.consistency).toBe("file-system");
    expect((await backupAsync(w, "win", ["--consistency", "file-system"])).consistency).toBe("application");
    expect((await backupAsync(w, "lin", ["--consistency", "crash"])).consistency).toBe("crash");
    // The catalog keeps it, and reads back.
    expect(readCatalogOf(w.repo, "lin").points.map((p) => (p as { consistency?: string }).consistency)).toEqual(["file-system", "file-system", "crash"]);
    const listed = await okAsync(["list", "--repo", w.repo, "--vm", "lin"]);
    expect(listed.stdout).toMatch(/file-system/);
    const ready = await okAsync(["readiness", "--vm", "lin", "--lab", w.lab]);
    expect(ready.stdout).toMatch(/expected file-system-consistent/);
    const bad = await hvbAsync(["backup", "--vm", "lin", "--repo", w.repo, "--lab", w.lab, "--consistency", "filesystem"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/'application', 'file-system' or 'crash'/);
  });
});
