/**
 * Pass-through disks (issue 13 A10): no checkpoint holds them, so a backup names them in a
 * warning (default, `--passthrough warn`) or refuses the VM (`--passthrough refuse`), before
 * anything is made on the host.
 */
import { afterEach, describe, expect, it } from "vitest";
import { events, hvbAsync, newWorldAsync, okAsync, readCatalogOf, recoveryCheckpoints } from "../../support/engine_harness";

let worlds: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const w of worlds) w.cleanup();
  worlds = [];
});

describe("pass-through disks", () => {
  it("are named in a warning by default, and refuse the VM with --passthrough refuse", async () => {
    const w = await newWorldAsync("passthrough", ["--job-ms", "0"]);
    worlds.push(w);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "pt", "--disk", "8MiB", "--passthrough"]);
    await okAsync(["lab", "vm", "new", "--lab", w.lab, "--name", "plain", "--disk", "8MiB"]);

    const refused = await hvbAsync(["backup", "--vm", "pt", "--repo", w.repo, "--lab", w.lab, "--passthrough", "refuse", "--json"]);
    expect(refused.code).not.toBe(0);
    const err = events(refused.stdout).find((e) => e.type === "error") as { code?: string; message?: string } | undefined;
    expect(err?.code).toBe("PassThroughDiskRefused");
    expect(err?.message).toMatch(/pass-through disk at '.+' \(host disk .*Msvm_DiskDrive/);
    expect(await recoveryCheckpoints(w.lab)).toEqual([]);

    const warned = await okAsync(["backup", "--vm", "pt", "--repo", w.repo, "--lab", w.lab, "--json"]);
    const skipped = events(warned.stdout).filter((e) => e.code === "PassThroughDiskSkipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.message).toMatch(/VM 'pt' has a pass-through disk at '[^']+'/);
    const point = events(warned.stdout).find((e) => e.type === "result")!.data as { warnings: string[]; disks: unknown[] };
    expect(point.disks).toHaveLength(1);
    expect(point.warnings.join("\n")).toMatch(/pass-through/);
    expect(readCatalogOf(w.repo, "pt").points).toHaveLength(1);

    // A VM without one: no such warning, and refuse does not stop it.
    const plain = await okAsync(["backup", "--vm", "plain", "--repo", w.repo, "--lab", w.lab, "--passthrough", "refuse", "--json"]);
    expect(events(plain.stdout).some((e) => e.code === "PassThroughDiskSkipped")).toBe(false);
    const bad = await hvbAsync(["backup", "--vm", "plain", "--repo", w.repo, "--lab", w.lab, "--passthrough", "skip"]);
    expect(bad.stderr).toMatch(/--passthrough must be 'warn' or 'refuse'/);
  });
});
