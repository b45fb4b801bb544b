/**
 * Gallery readiness without PSScriptAnalyzer (no registry here serves it): the analyzer's rules
 * that matter most, checked over the AST by _module_rules.ps1 — approved verbs, ShouldProcess
 * declared exactly where it is called, state-changing commands that support it, no aliases or
 * positional calls of known commands, no plain-text password parameters, comment help on every
 * exported command — and Windows PowerShell 5.1 syntax (no ?:, &&, ||, ??, ?. …) in the module,
 * the Pester suite and its runner. A file written to break every rule proves each check fires.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MANIFEST, ROOT, keyValues, prepare, psQuote, runScript, tempDir } from "./_pwsh";

const RULES = join(ROOT, "test", "powershell", "_module_rules.ps1");

beforeAll(() => prepare(), 300_000);

/** Runs the rules over `files` with the module imported; the findings, one string each. */
function findings(files: string[], options: { syntaxOnly?: boolean; exported?: string[] } = {}): string[] {
  const t = tempDir();
  try {
    const list = files.map(psQuote).join(", ");
    const exported = options.exported ? `@(${options.exported.map(psQuote).join(", ")})` : "@((Get-Module HyperVBackup).ExportedFunctions.Keys)";
    const r = runScript(
      t.dir,
      `$ErrorActionPreference = 'Stop'
Import-Module ${psQuote(MANIFEST)}
& ${psQuote(RULES)} -Path @(${list}) -Exported ${exported}${options.syntaxOnly ? " -SyntaxOnly" : ""}
"DONE=yes"
`,
    );
    expect(r.stderr).toBe("");
    expect(keyValues(r.stdout)["DONE"]).toBe("yes");
    return r.stdout.split("\n").filter((l) => l.startsWith("FINDING=")).map((l) => l.slice("FINDING=".length));
  } finally {
    t.remove();
  }
}

const ps1 = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ps1")).map((f) => join(ROOT, dir, f));

describe("PSScriptAnalyzer's main rules over the module's AST", () => {
  it("finds nothing in the module", () => {
    expect(findings([...ps1("module/Public"), ...ps1("module/Private"), join(ROOT, "module", "HyperVBackup.psm1")])).toEqual([]);
  });

  it("finds no PowerShell-7-only syntax in the Pester suite and its runner (they run on 5.1 too)", () => {
    expect(findings([...ps1("test/pester"), join(ROOT, "build", "Invoke-HvbPester.ps1")], { syntaxOnly: true })).toEqual([]);
  });

  it("reports every rule on a file written to break them", () => {
    const t = tempDir();
    try {
      const bad = join(t.dir, "Bad.ps1");
      writeFileSync(
        bad,
        `function Do-Thing {
    [CmdletBinding(SupportsShouldProcess)]
    param([string] $UserName, [string] $Password, [switch] $Force = $true)
    $x = $null ?? 1
    $x ??= 2
    $y = $true ? 1 : 2
    Get-Item a && Get-Item b
    $z = \${x}?.Length
    $global:state = 1
    % { $_ } | where { $_ }
    Write-Host 'hi'
    Invoke-Expression 'x'
    ConvertTo-SecureString 'p' -AsPlainText -Force
    try { 1 } catch { }
    Join-Path a b c
}
function Remove-Thing { param() $PSCmdlet.ShouldProcess('a') }
`,
      );
      const rules = new Set(findings([bad], { exported: ["Remove-Thing"] }).map((f) => f.split("|")[0]));
      expect([...rules].sort()).toEqual(
        [
          "PS51Syntax",
          "PSAvoidDefaultValueSwitchParameter",
          "PSAvoidGlobalVars",
          "PSAvoidUsingCmdletAliases",
          "PSAvoidUsingConvertToSecureStringWithPlainText",
          "PSAvoidUsingEmptyCatchBlock",
          "PSAvoidUsingInvokeExpression",
          "PSAvoidUsingPlainTextForPassword",
          "PSAvoidUsingPositionalParameters",
          "PSAvoidUsingUsernameAndPasswordParams",
          "PSAvoidUsingWriteHost",
          "PSProvideCommentHelp",
          "PSShouldProcess",
          "PSUseApprovedVerbs",
          "PSUseShouldProcessForStateChangingFunctions",
        ].sort(),
      );
      const syntax = findings([bad], { syntaxOnly: true }).map((f) => f.split("|")[2]);
      expect(syntax.sort()).toEqual(["??", "??=", "?. or ?[]", "PipelineChainAst", "TernaryExpressionAst"].sort());
    } finally {
      t.remove();
    }
  });
});
