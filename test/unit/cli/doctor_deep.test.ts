/**
 * `hvbackup doctor --deep` on the lab, through the CLI: a scratch VM is made through
 * CreateVirtualHardDisk, DefineSystem and AddResourceSettings, backed up full and incremental
 * (a guest write between), restored side by side, compared by hash and removed, one check per
 * step, leaving the lab and the repository as they were. A failure injected at the restore's
 * ImportSystemDefinition fails that step, skips the comparison, and still removes everything.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/mod";
import { addFault, mutateLab, readLabState } from "../../../src/lab/mod";
import { addVm, newLab } from "../../support/lab";

interface Check {
  name: string;
  passed: boolean;
  detail: string;
  remedy: string;
}

async function doctor(argv: string[]): Promise<{ code: number; checks: Check[] }> {
  let stdout = "";
  const code = await runCli(["doctor", ...argv, "--events"], { stdout: (t) => void (stdout += t), stderr: () => {} });
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; data?: { checks: Check[] } });
  const result = lines.find((l) => l.type === "result");
  if (!result) throw new Error(`no result: ${stdout}`);
  return { code, checks: result.data!.checks };
}

const DEEP = ["Deep: scratch VM", "Deep: full backup", "Deep: incremental backup", "Deep: restore side by side", "Deep: compare disks", "Deep: clean up"];

describe("hvbackup doctor --deep", () => {
  it("backs up, restores and compares a scratch VM, then leaves the lab and the repository as they were", async () => {
    const lab = newLab({ jobDurationMs: 20, jobShare: 50 });
    addVm(lab, { name: "web01" });
    const repo = path.join(lab.dir, "repo");
    mkdirSync(repo);
    const before = readLabState(lab.dir);
    const r = await doctor(["--lab", lab.dir, "--repo", repo, "--deep"]);
    const deep = r.checks.filter((c) => c.name.startsWith("Deep: "));
    expect(deep.map((c) => c.name)).toEqual(DEEP);
    for (const c of deep) expect(c.passed, `${c.name}: ${c.detail}`).toBe(true);
    expect(r.code).toBe(0);
    expect(deep[2]!.detail).toMatch(/\(rct\)/);
    const after = readLabState(lab.dir);
    expect(after.vms.map((v) => v.id)).toEqual(before.vms.map((v) => v.id));
    expect(after.snapshots).toEqual([]);
    expect(after.referencePoints).toEqual([]);
    expect(after.planned).toEqual([]);
    expect(readdirSync(repo)).toEqual([]);
    expect(readdirSync(after.config.defaultExternalDataRoot).filter((f) => f.startsWith("hvbackup-doctor-"))).toEqual([]);
  });

  it("a failed restore fails its step, skips the comparison, and the clean-up still removes everything", async () => {
    const lab = newLab();
    mutateLab(lab.dir, (s) => addFault(s, { method: "ImportSystemDefinition", code: 32768, times: 1 }));
    const r = await doctor(["--lab", lab.dir, "--deep"]);
    expect(r.code).toBe(1);
    const deep = Object.fromEntries(r.checks.filter((c) => c.name.startsWith("Deep: ")).map((c) => [c.name, c]));
    expect(deep["Deep: incremental backup"]!.passed).toBe(true);
    expect(deep["Deep: restore side by side"]!.passed).toBe(false);
    expect(deep["Deep: restore side by side"]!.remedy).not.toBe("");
    expect(deep["Deep: compare disks"]!.detail).toBe("not run: an earlier step failed");
    expect(deep["Deep: clean up"]!.passed).toBe(true);
    const after = readLabState(lab.dir);
    expect(after.vms).toEqual([]);
    expect(after.snapshots).toEqual([]);
    expect(after.referencePoints).toEqual([]);
    expect(after.planned).toEqual([]);
    expect(existsSync(after.config.defaultExternalDataRoot) ? readdirSync(after.config.defaultExternalDataRoot).filter((f) => f.startsWith("hvbackup-doctor-")) : []).toEqual([]);
  });
});
