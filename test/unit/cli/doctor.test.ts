/**
 * `hvbackup doctor --json` on the lab: one check per result with name, passed, detail and remedy;
 * a VM with configuration version 5.0 and a VHD disk and a guest without the backup integration
 * service fail their checks with remedies; a repository that is a file fails; exit 1 then.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/mod";
import { mutateLab } from "../../../src/lab/mod";
import { addVm, newLab } from "../../support/lab";

interface Check {
  name: string;
  passed: boolean;
  detail: string;
  remedy: string;
}

async function doctor(argv: string[]): Promise<{ code: number; data: { passed: boolean; checks: Check[] } }> {
  let stdout = "";
  const code = await runCli(["doctor", ...argv, "--events"], { stdout: (t) => void (stdout += t), stderr: () => {} });
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; data?: unknown });
  const result = lines.find((l) => l.type === "result");
  if (!result) throw new Error(`no result: ${stdout}`);
  return { code, data: result.data as { passed: boolean; checks: Check[] } };
}

describe("hvbackup doctor", () => {
  it("passes a healthy VM and a writable repository", async () => {
    const lab = newLab();
    addVm(lab, { name: "web01" });
    const r = await doctor(["--lab", lab.dir, "--repo", lab.dir]);
    expect(r.code).toBe(0);
    expect(r.data.passed).toBe(true);
    expect(r.data.checks.map((c) => c.name)).toEqual([
      "Hyper-V namespace",
      "Virtual Machine Management service",
      "web01: configuration version",
      "web01: disk format",
      "web01: pass-through or shared disks",
      "web01: guest backup integration",
      expect.stringMatching(/^web01: free space for checkpoints in /),
      "Repository",
    ]);
    for (const c of r.data.checks) expect(c.remedy).toBe("");
  });

  it("fails an old configuration, a VHD disk, a guest without backup integration and a repository that is a file", async () => {
    const lab = newLab();
    addVm(lab, { name: "web01" });
    addVm(lab, { name: "old01", configVersion: "5.0", format: "vhd" });
    mutateLab(lab.dir, (s) => {
      const vm = s.vms.find((v) => v.name === "web01")!;
      vm.integration = "missing";
    });
    const file = path.join(lab.dir, "not-a-folder");
    writeFileSync(file, "x");
    const r = await doctor(["--lab", lab.dir, "--vm", "old01", "--vm", "web01", "--repo", file]);
    expect(r.code).toBe(1);
    expect(r.data.passed).toBe(false);
    const failed = r.data.checks.filter((c) => !c.passed);
    expect(failed.map((c) => c.name)).toEqual(["old01: configuration version", "old01: disk format", "web01: guest backup integration", "Repository"]);
    for (const c of failed) expect(c.remedy).not.toBe("");
    expect(failed[0]!.detail).toContain("5.0");
  });
});
