/**
 * build/pwsh itself: pwsh's command line, exit codes, streams. These run the engine of
 * build/PsHost (Microsoft.PowerShell.SDK) unless HVB_USE_REAL_PWSH is set.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepare, runPwsh, runScript, tempDir } from "./_pwsh";

beforeAll(() => prepare(), 300_000);

describe("build/pwsh", () => {
  it("runs -Command and formats output as text", () => {
    const r = runPwsh(["-NoProfile", "-NonInteractive", "-Command", "1 + 1; [pscustomobject]@{ Name = 'a'; Size = 3 }"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^2$/m);
    expect(r.stdout).toMatch(/Name\s+Size/);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it("exits with the code given to exit, in -Command and in -File", () => {
    expect(runPwsh(["-NoProfile", "-Command", "exit 7"]).status).toBe(7);
    const t = tempDir();
    try {
      expect(runScript(t.dir, "'before'\nexit 5\n'after'").status).toBe(5);
      expect(runScript(t.dir, "'no exit'").status).toBe(0);
    } finally {
      t.remove();
    }
  });

  it("exits 1 after an uncaught terminating error and writes it to stderr as one line", () => {
    const r = runPwsh(["-NoProfile", "-Command", "throw 'boom happened'"]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("boom happened");
  });

  it("writes non-terminating errors to stderr and goes on", () => {
    const t = tempDir();
    try {
      const script = "function f { [CmdletBinding()] param() $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new([System.Exception]::new('soft failure'), 'SoftId', 'InvalidData', $null)) }\nf\n'still running'";
      const r = runScript(t.dir, script);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("still running");
      expect(r.stderr).toMatch(/^f: soft failure \[SoftId,f\]/m);
    } finally {
      t.remove();
    }
  });

  it("binds -File arguments as pwsh does and sets $PSScriptRoot", () => {
    const t = tempDir();
    try {
      const script = "param([string] $Name, [switch] $Loud, [int] $Count)\n\"NAME=$Name\"\n\"LOUD=$Loud\"\n\"COUNT=$Count\"\n\"ROOT=$PSScriptRoot\"";
      const r = runScript(t.dir, script, ["-Name", "it's a b", "-Loud:$false", "-Count", "3"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("NAME=it's a b");
      expect(r.stdout).toContain("LOUD=False");
      expect(r.stdout).toContain("COUNT=3");
      expect(r.stdout).toContain(`ROOT=${t.dir}`);
    } finally {
      t.remove();
    }
  });

  it("reads the command from stdin with -Command -", () => {
    const r = runPwsh(["-NoProfile", "-Command", "-"], { input: "'from stdin'\nexit 3\n" });
    expect(r.stdout).toContain("from stdin");
    expect(r.status).toBe(3);
  });

  it("works from any directory and resolves relative -File paths against it", () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, "rel.ps1"), "\"LOC=$($ExecutionContext.SessionState.Path.CurrentLocation)\"");
      const r = runPwsh(["-NoProfile", "-File", "rel.ps1"], { cwd: t.dir });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`LOC=${t.dir}`);
    } finally {
      t.remove();
    }
  });

  it("shows warnings and verbose messages on stdout and progress on request", () => {
    const script =
      "function f { [CmdletBinding()] param() $PSCmdlet.WriteWarning('careful'); $PSCmdlet.WriteVerbose('details'); $PSCmdlet.WriteProgress([System.Management.Automation.ProgressRecord]::new(1, 'Copying', 'half')) }; f -Verbose; $Host.Name; $Host.UI.WriteLine('host line')";
    const r = runPwsh(["-NoProfile", "-Command", script], { env: { HVB_PSHOST_PROGRESS: "1" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("WARNING: careful");
    expect(r.stdout).toContain("VERBOSE: details");
    expect(r.stdout).toContain("host line");
    expect(r.stderr).toContain("PROGRESS: Copying: half");
  });

  it("has the PowerShell 7 cmdlet set (Microsoft.PowerShell.SDK) when it is the built-in engine", () => {
    if (process.env["HVB_USE_REAL_PWSH"] && process.env["HVB_USE_REAL_PWSH"] !== "0") return;
    // Pester needs Utility and Management; the SDK's modules are autoloaded from its own folder.
    const r = runPwsh(["-NoProfile", "-Command", "\"SOURCES=\" + ((Get-Command -CommandType Cmdlet | ForEach-Object Source | Sort-Object -Unique) -join ',')\n\"HOST=\" + $Host.Name\n\"VERSION=\" + $PSVersionTable.PSVersion"]);
    expect(r.stdout).toContain("HOST=HyperVBackup.PsHost");
    expect(r.stdout).toMatch(/^VERSION=7\.6\.9$/m);
    const sources = /^SOURCES=(.*)$/m.exec(r.stdout)?.[1]?.split(",") ?? [];
    for (const module of ["Microsoft.PowerShell.Core", "Microsoft.PowerShell.Utility", "Microsoft.PowerShell.Management", "Microsoft.PowerShell.Security"]) {
      expect(sources).toContain(module);
    }
  });

  it("rejects an unknown parameter with exit code 64", () => {
    const r = runPwsh(["-NoSuchThing"]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("-NoSuchThing");
  });
});
