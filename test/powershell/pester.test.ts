/**
 * The Pester suite (test/pester) in CI: build/Invoke-HvbPester.ps1 runs it with Pester 5 from the
 * NuGet cache on the PowerShell 7 engine of build/PsHost. Every test that needs no Hyper-V host
 * must pass; host tests are skipped, each with its reason; a file that fails in discovery fails
 * the run. That the runner and the tests parse on Windows PowerShell 5.1 is checked with the module in
 * module_rules.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, prepare, runPwsh, tempDir } from "./_pwsh";

const RUNNER = join(ROOT, "build", "Invoke-HvbPester.ps1");

beforeAll(() => prepare(), 300_000);

/** Runs the runner with `args` and returns its exit code, output and the NUnit report. */
function runPester(dir: string, args: string[]): { status: number | null; stdout: string; stderr: string; xml: string } {
  const report = join(dir, "pester.xml");
  const r = runPwsh(["-NoProfile", "-NonInteractive", "-File", RUNNER, "-Verbosity", "None", "-OutputFile", report, ...args], { timeoutMs: 300_000 });
  let xml = "";
  try {
    xml = readFileSync(report, "utf8");
  } catch {
    xml = "";
  }
  return { ...r, xml };
}

/** The test-case elements of an NUnit 3 report: name, result and the skip/failure message. */
function testCases(xml: string): { name: string; result: string; message: string }[] {
  const cases: { name: string; result: string; message: string }[] = [];
  const re = /<test-case\b[^>]*\bfullname="([^"]*)"[^>]*\bresult="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/test-case>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const message = /<message><!\[CDATA\[([\s\S]*?)\]\]><\/message>/.exec(m[3] ?? "")?.[1] ?? "";
    cases.push({ name: m[1]!, result: m[2]!, message });
  }
  return cases;
}

describe("test/pester with Pester 5 (build/Invoke-HvbPester.ps1)", () => {
  it("passes every test that needs no Hyper-V host and skips the host tests with the reason", () => {
    const t = tempDir();
    try {
      const r = runPester(t.dir, []);
      const cases = testCases(r.xml);
      const failed = cases.filter((c) => c.result === "Failed");
      expect(failed.map((c) => `${c.name}: ${c.message}`), r.stdout + r.stderr).toEqual([]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(cases.filter((c) => c.result === "Passed").length).toBeGreaterThan(50);
      const skipped = cases.filter((c) => c.result === "Skipped");
      // Only the host tests are skipped here, and each says why.
      for (const c of skipped) expect(c.message, c.name).toMatch(/needs a Hyper-V host/);
      expect(skipped.length).toBeGreaterThan(0);
      // The host suite starts with the preflight, then a running VM backed up
      // application-consistent; the report lists the tests in the order they ran.
      expect(skipped.slice(0, 2).map((c) => c.name.split(".")[0])).toEqual([
        "Test-VMBackupHost -Deep on a real Hyper-V host",
        "A running VM backed up application-consistent",
      ]);
      expect(r.stdout).toMatch(/Pester 5\.\d+\.\d+: \d+ passed, 0 failed/);
    } finally {
      t.remove();
    }
  }, 300_000);

  it("fails when a test file cannot be discovered, and when a BeforeAll fails", () => {
    const t = tempDir();
    try {
      const broken = join(t.dir, "Broken.Tests.ps1");
      writeFileSync(broken, "Describe 'broken' {\n  throw 'discovery fails here'\n  It 'never' { 1 | Should -Be 1 }\n}\n");
      const r = runPester(t.dir, ["-Path", broken]);
      expect(r.status, r.stdout + r.stderr).not.toBe(0);
      expect(r.stdout).toMatch(/failed outside any test: .*discovery fails here/);

      const setup = join(t.dir, "Setup.Tests.ps1");
      writeFileSync(setup, "Describe 'setup' {\n  BeforeAll { throw 'setup fails here' }\n  It 'a' { 1 | Should -Be 1 }\n}\n");
      const s = runPester(t.dir, ["-Path", setup]);
      expect(s.status, s.stdout + s.stderr).not.toBe(0);
    } finally {
      t.remove();
    }
  }, 300_000);
});
