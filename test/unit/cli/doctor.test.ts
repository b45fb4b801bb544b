/**
 * `hvbackup doctor --json` on the lab: one check per result with name, passed, detail and remedy;
 * a VM with configuration version 5.0 and a VHD disk and a guest without the backup integration
 * service fail their checks with remedies; a repository that is a file fails; exit 1 then.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/mod";
import { addFault, mutateLab } from "../../../src/lab/mod";
import { checkRepositoryLocation } from "../../../src/cli/commands/doctor_checks";
import type { CimSession } from "../../../src/cim/mod";
import { addVm, newLab } from "../../support/lab";

interface Check {
  name: string;
  passed: boolean;
  detail: string;
  remedy: string;
}

/** Runs doctor with --events (what the module reads), or with --json (what a user sends back: one line). */
async function doctor(argv: string[], form: "--events" | "--json" = "--events"): Promise<{ code: number; data: { passed: boolean; checks: Check[] } }> {
  let stdout = "";
  const code = await runCli(["doctor", ...argv, form], { stdout: (t) => void (stdout += t), stderr: () => {} });
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; data?: unknown });
  if (form === "--json") expect(lines).toHaveLength(1);
  const result = lines.find((l) => l.type === "result");
  if (!result) throw new Error(`no result: ${stdout}`);
  return { code, data: result.data as { passed: boolean; checks: Check[] } };
}

describe("hvbackup doctor", () => {
  it("passes a healthy VM and a writable repository", async () => {
    const lab = newLab();
    addVm(lab, { name: "web01" });
    const r = await doctor(["--lab", lab.dir, "--repo", lab.dir], "--json");
    expect(r.code).toBe(0);
    expect(r.data.passed).toBe(true);
    expect(r.data.checks.map((c) => c.name)).toEqual([
      "Operating system",
      "Hyper-V host version",
      "Hyper-V namespace",
      "Virtual Machine Management service",
      "Rights",
      "web01: configuration version",
      "web01: disk format",
      "web01: pass-through or shared disks",
      "web01: guest backup integration",
      expect.stringMatching(/^web01: free space for checkpoints in /),
      "Repository location",
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
    const r = await doctor(["--lab", lab.dir, "--vm", "old01", "--vm", "web01", "--repo", file], "--json");
    expect(r.code).toBe(1);
    expect(r.data.passed).toBe(false);
    const failed = r.data.checks.filter((c) => !c.passed);
    expect(failed.map((c) => c.name)).toEqual(["old01: configuration version", "old01: disk format", "web01: guest backup integration", "Repository"]);
    for (const c of failed) expect(c.remedy).not.toBe("");
    expect(failed[0]!.detail).toContain("5.0");
  });

  it("reports the OS and its build per --host-version, and refuses a host older than 2016 only by build", async () => {
    for (const [version, build] of [["2016", "14393"], ["2019", "17763"], ["2022", "20348"], ["2025", "26100"]] as const) {
      const lab = newLab({ hostVersion: version });
      const r = await doctor(["--lab", lab.dir]);
      const os = r.data.checks.find((c) => c.name === "Operating system")!;
      expect(os.passed).toBe(true);
      expect(os.detail).toBe(`Microsoft Windows Server ${version} Datacenter 10.0.${build} (build ${build})`);
      expect(r.data.checks.find((c) => c.name === "Hyper-V host version")!.passed).toBe(true);
    }
  });

  it("fails the rights check when a method call is refused (Access denied) though the namespace reads", async () => {
    const lab = newLab();
    mutateLab(lab.dir, (s) => addFault(s, { method: "GetVirtualHardDiskSettingData", code: 32769, times: 1 }));
    const r = await doctor(["--lab", lab.dir]);
    expect(r.code).toBe(1);
    const rights = r.data.checks.find((c) => c.name === "Rights")!;
    expect(rights.passed).toBe(false);
    expect(rights.detail).toContain("Access denied");
    expect(rights.remedy).toContain("Hyper-V Administrators");
    expect(r.data.checks.find((c) => c.name === "Hyper-V namespace")!.passed).toBe(true);
  });

  it("takes a UNC path's share as the computer account's, a local path as the host's, and refuses a mapped drive letter", async () => {
    const checks: Check[] = [];
    const add = (name: string, passed: boolean, detail: string, remedy = ""): void => void checks.push({ name, passed, detail, remedy });
    const cimv2 = {
      query: async (wql: string) => {
        if (/Win32_ComputerSystem/i.test(wql)) return [{ __CLASS: "Win32_ComputerSystem", __PATH: "", Name: "HV01", Domain: "contoso.com", PartOfDomain: true }];
        return [{ __CLASS: "Win32_LogicalDisk", __PATH: "", DeviceID: "Z:", DriveType: 4, ProviderName: "\\\\nas\\backups" }];
      },
    } as unknown as CimSession;
    await checkRepositoryLocation("\\\\nas\\backups\\hv", cimv2, add);
    await checkRepositoryLocation("D:\\Backups", cimv2, add);
    await checkRepositoryLocation("Z:\\hv", cimv2, add);
    expect(checks.map((c) => c.passed)).toEqual([true, true, false]);
    expect(checks[0]!.detail).toContain("\\\\nas\\backups");
    expect(checks[0]!.detail).toContain("CONTOSO\\HV01$");
    expect(checks[2]!.detail).toContain("mapped network drive");
    expect(checks[2]!.remedy).toContain("\\\\nas\\backups\\hv");
  });

  it("refuses a repository on a drive letter the lab maps to a share, naming the share's path", async () => {
    const lab = newLab();
    expect(await runCli(["lab", "drive", "map", "--lab", lab.dir, "--letter", "Z:", "--to", "\\\\nas\\hv"], { stdout: () => {}, stderr: () => {} })).toBe(0);
    const r = await doctor(["--lab", lab.dir, "--repo", "Z:\\backups"]);
    const location = r.data.checks.find((c) => c.name === "Repository location")!;
    expect(location.passed).toBe(false);
    expect(location.remedy).toContain("\\\\nas\\hv\\backups");
  });
});

