/**
 * The HyperVBackup module on a real PowerShell engine (build/pwsh; the Microsoft.PowerShell.SDK engine unless
 * HVB_USE_REAL_PWSH is set): manifest, exports, parameter contracts, help, and the VHDX commands
 * against files made by qemu-img.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keyValues, MANIFEST, prepare, psQuote, ROOT, runScript, tempDir } from "./_pwsh";

const IMPORT = `$ErrorActionPreference = 'Stop'\nImport-Module ${psQuote(MANIFEST)}\n$ErrorActionPreference = 'Continue'\n`;
const hasQemu = spawnSync("qemu-img", ["--version"]).status === 0;

/** FunctionsToExport as written in the manifest. */
function manifestFunctions(): string[] {
  const text = readFileSync(MANIFEST, "utf8");
  const block = /FunctionsToExport\s*=\s*@\(([^)]*)\)/.exec(text);
  if (!block) throw new Error("FunctionsToExport = @(...) not found in HyperVBackup.psd1");
  return [...block[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!).sort();
}

let work: { dir: string; remove: () => void };

beforeAll(() => {
  prepare();
  work = tempDir();
}, 300_000);

afterAll(() => work?.remove());

describe("HyperVBackup.psd1", () => {
  it("passes Test-ModuleManifest and exports exactly FunctionsToExport", () => {
    const script = `
$manifest = Test-ModuleManifest ${psQuote(MANIFEST)}
"NAME=$($manifest.Name)"
"VERSION=$($manifest.Version)"
"GUID=$($manifest.Guid)"
"PSVERSION=$($manifest.PowerShellVersion)"
"EDITIONS=$(@($manifest.CompatiblePSEditions) -join ',')"
"ROOTMODULE=$($manifest.RootModule)"
"TAGS=$(@($manifest.Tags) -join ',')"
"PROJECTURI=$($manifest.ProjectUri)"
"LICENSEURI=$($manifest.LicenseUri)"
"RELEASENOTES=$([bool]$manifest.ReleaseNotes)"
"MANIFESTEXPORTS=$(@($manifest.ExportedFunctions.Keys | ForEach-Object { $_ }) -join ',')"
Import-Module ${psQuote(MANIFEST)} -ErrorAction Stop
$module = Get-Module HyperVBackup
"EXPORTED=$(@($module.ExportedCommands.Keys | ForEach-Object { $_ }) -join ',')"
"CMDLETS=$($module.ExportedCmdlets.Count) VARIABLES=$($module.ExportedVariables.Count) ALIASES=$($module.ExportedAliases.Count)"
"PRIVATE=$(@(Get-Command -Name Invoke-HvbCore, ConvertFrom-HvbJson -ErrorAction Ignore).Count)"
`;
    const r = runScript(work.dir, script);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    const listed = manifestFunctions();
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.some((n) => n.includes("*"))).toBe(false);
    expect(kv["NAME"]).toBe("HyperVBackup");
    expect(kv["VERSION"]).toBe("0.1.0");
    expect(kv["GUID"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(kv["GUID"]).not.toBe("00000000-0000-0000-0000-000000000000");
    expect(kv["PSVERSION"]).toBe("5.1");
    expect(kv["EDITIONS"]).toBe("Desktop,Core");
    expect(kv["ROOTMODULE"]).toBe("module/HyperVBackup.psm1");
    expect(kv["TAGS"]).toContain("Hyper-V");
    expect(kv["TAGS"]).toContain("VHDX");
    expect(kv["PROJECTURI"]).toMatch(/^https:\/\//);
    expect(kv["LICENSEURI"]).toMatch(/^https:\/\//);
    expect(kv["RELEASENOTES"]).toBe("True");
    expect(kv["MANIFESTEXPORTS"]!.split(",").sort()).toEqual(listed);
    expect(kv["EXPORTED"]!.split(",").sort()).toEqual(listed);
    expect(r.stdout).toContain("CMDLETS=0 VARIABLES=0 ALIASES=0");
    expect(kv["PRIVATE"]).toBe("0");
  });

  it("lists one function per file in module/Public", () => {
    const files = readdirSync(join(ROOT, "module", "Public"))
      .filter((f) => f.endsWith(".ps1"))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(manifestFunctions()).toEqual(files);
  });

  it("uses no cmdlet outside Microsoft.PowerShell.Core in the module's code", () => {
    // Utility/Management commands a module author reaches for: the module keeps to Core cmdlets and
    // .NET, one code path on 5.1 and 7 (docs/powershell-host.md).
    const banned = /\b(Write-(Output|Host|Warning|Verbose|Debug|Error|Information|Progress)|Select-Object|Sort-Object|Measure-Object|New-Object|Add-Type|Get-Date|ConvertFrom-Json|ConvertTo-Json|Out-String|Join-Path|Split-Path|Test-Path|Resolve-Path|Get-ChildItem|Get-Content|Set-Content|Get-Item|Start-Process|Set-Variable|Get-Variable|Remove-Variable|Format-(Table|List))\b/;
    const offenders: string[] = [];
    for (const folder of ["Public", "Private"]) {
      for (const f of readdirSync(join(ROOT, "module", folder))) {
        const code = readFileSync(join(ROOT, "module", folder, f), "utf8")
          .replace(/<#[\s\S]*?#>/g, "") // comment-based help may show usage with any cmdlet
          .replace(/#.*$/gm, "");
        const m = banned.exec(code);
        if (m) offenders.push(`${folder}/${f}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

/** Parameter contracts: an accidental rename or removal fails here. */
const CONTRACTS: Record<string, { parameters: string[]; pathAliases?: string[]; shouldProcess: boolean; outputType: string[] }> = {
  "Get-VhdxFileInfo": {
    parameters: ["Path", "EnableException"],
    pathAliases: ["FullName", "PSPath"],
    shouldProcess: false,
    outputType: ["HyperVBackup.VhdxInfo"],
  },
  "Test-VhdxFile": {
    parameters: ["Path", "ParentPath", "Detailed", "EnableException"],
    pathAliases: ["FullName", "PSPath"],
    shouldProcess: false,
    outputType: ["System.Boolean", "HyperVBackup.VhdxTestResult"],
  },
  "Convert-VhdxFile": {
    parameters: ["Path", "DestinationPath", "ParentPath", "BlockSize", "LogicalSectorSize", "Force", "PassThru", "EnableException"],
    pathAliases: ["FullName", "PSPath", "SourcePath"],
    shouldProcess: true,
    outputType: ["HyperVBackup.VhdxInfo", "System.IO.FileInfo"],
  },
};

describe("parameter contracts", () => {
  let kv: Record<string, string> = {};
  beforeAll(() => {
    const lines = Object.keys(CONTRACTS)
      .map(
        (name) => `
$command = Get-Command ${name}
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
"${name}.PARAMS=$(@($command.Parameters.Keys | Where-Object { $common -notcontains $_ }) -join ',')"
"${name}.WHATIF=$($command.Parameters.ContainsKey('WhatIf'))"
"${name}.PATHALIASES=$(@($command.Parameters['Path'].Aliases) -join ',')"
"${name}.PIPELINE=$(@($command.Parameters['Path'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | ForEach-Object { "$($_.ValueFromPipeline)/$($_.ValueFromPipelineByPropertyName)" }) -join ',')"
"${name}.OUTPUTTYPE=$(@($command.OutputType | ForEach-Object { $_.Name }) -join ',')"
$help = Get-Help ${name} -Full
"${name}.SYNOPSIS=$($help.Synopsis.Trim())"
"${name}.DESCRIPTION=$(@($help.description | ForEach-Object { $_.Text }) -join ' ' -replace '\\s+', ' ')"
"${name}.EXAMPLES=$(@($help.examples.example).Count)"
"${name}.UNDOCUMENTED=$(@(@($help.parameters.parameter) | Where-Object { $common -notcontains $_.name -and $_.name -notin 'WhatIf', 'Confirm' -and -not (@($_.description | ForEach-Object { $_.Text }) -join '').Trim() } | ForEach-Object { $_.name }) -join ',')"
`,
      )
      .join("\n");
    const r = runScript(work.dir, IMPORT + lines);
    expect(r.stderr).toBe("");
    kv = keyValues(r.stdout);
  }, 120_000);

  for (const [name, contract] of Object.entries(CONTRACTS)) {
    it(`${name} has its known parameters, attributes and help`, () => {
      expect(kv[`${name}.PARAMS`]!.split(",").sort()).toEqual([...contract.parameters].sort());
      expect(kv[`${name}.WHATIF`]).toBe(contract.shouldProcess ? "True" : "False");
      if (contract.pathAliases) expect(kv[`${name}.PATHALIASES`]!.split(",").sort()).toEqual([...contract.pathAliases].sort());
      expect(kv[`${name}.PIPELINE`]).toMatch(/\/True/); // ValueFromPipelineByPropertyName
      expect(kv[`${name}.OUTPUTTYPE`]!.split(",").sort()).toEqual([...contract.outputType].sort());
      expect(kv[`${name}.SYNOPSIS`]!.length).toBeGreaterThan(10);
      expect(kv[`${name}.SYNOPSIS`]).not.toContain(name); // real help, not the generated stub
      expect(kv[`${name}.DESCRIPTION`]!.length).toBeGreaterThan(50);
      expect(Number(kv[`${name}.EXAMPLES`])).toBeGreaterThanOrEqual(3);
      expect(kv[`${name}.UNDOCUMENTED`]).toBe("");
    });
  }

  it("Get-VhdxFileInfo and Test-VhdxFile take strings from the pipeline too", () => {
    expect(kv["Get-VhdxFileInfo.PIPELINE"]).toBe("True/True");
    expect(kv["Test-VhdxFile.PIPELINE"]).toBe("True/True");
  });
});

describe.skipIf(!hasQemu)("VHDX commands on files made by qemu-img", () => {
  let vhdx = "";
  let notVhdx = "";
  beforeAll(() => {
    vhdx = join(work.dir, "x.vhdx");
    const made = spawnSync("qemu-img", ["create", "-f", "vhdx", "-o", "subformat=dynamic,block_state_zero=off", vhdx, "64M"], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    notVhdx = join(work.dir, "not-a-disk.vhdx");
    writeFileSync(notVhdx, Buffer.alloc(256 * 1024, 0x5a));
  });

  it("Get-VhdxFileInfo returns a HyperVBackup.VhdxInfo with the right sizes", () => {
    const script = `${IMPORT}
$info = Get-VhdxFileInfo -Path ./x.vhdx
"COUNT=$(@($info).Count)"
"TYPENAME=$($info.PSObject.TypeNames[0])"
"PATH=$($info.Path)"
"FORMAT=$($info.Format)"
"TYPE=$($info.Type)"
"VIRTUALSIZE=$($info.VirtualSize)"
"VIRTUALSIZETYPE=$($info.VirtualSize.GetType().Name)"
"BLOCKSIZE=$($info.BlockSize)"
"LOGICAL=$($info.LogicalSectorSize)"
"DISKID=$($info.VirtualDiskId.GetType().Name)"
"CHAIN=$(@($info.Chain).Count) $(@($info.Chain)[0].PSObject.TypeNames[0])"
"PARENT=$($info.ParentPath)"
"FILESIZE=$($info.FileSize -gt 0)"
$byProperty = [pscustomobject]@{ FullName = ${psQuote(vhdx)} } | Get-VhdxFileInfo
"BYPROPERTY=$($byProperty.VirtualSize)"
$byValue = ${psQuote(vhdx)} | Get-VhdxFileInfo
"BYVALUE=$($byValue.VirtualSize)"
$wild = Get-VhdxFileInfo -Path ./x.vh*
"WILDCARD=$(@($wild).Count)"
$info
`;
    const r = runScript(work.dir, script);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["COUNT"]).toBe("1");
    expect(kv["TYPENAME"]).toBe("HyperVBackup.VhdxInfo");
    expect(kv["PATH"]).toBe(vhdx);
    expect(kv["FORMAT"]).toBe("vhdx");
    expect(kv["TYPE"]).toBe("dynamic");
    expect(kv["VIRTUALSIZE"]).toBe(String(64 * 1024 * 1024));
    expect(kv["VIRTUALSIZETYPE"]).toBe("Int64");
    expect(Number(kv["BLOCKSIZE"])).toBeGreaterThanOrEqual(1024 * 1024);
    expect(kv["LOGICAL"]).toBe("512");
    expect(kv["DISKID"]).toBe("Guid");
    expect(kv["CHAIN"]).toBe("1 HyperVBackup.VhdxChainEntry");
    expect(kv["PARENT"]).toBe("");
    expect(kv["FILESIZE"]).toBe("True");
    expect(kv["BYPROPERTY"]).toBe(String(64 * 1024 * 1024));
    expect(kv["BYVALUE"]).toBe(String(64 * 1024 * 1024));
    expect(kv["WILDCARD"]).toBe("1");
    // The table view from HyperVBackup.Format.ps1xml.
    expect(r.stdout).toMatch(/Type\s+VirtualSize\s+FileSize\s+BlockSize\s+Sectors\s+Path/);
    expect(r.stdout).toMatch(/dynamic\s+64\.0 MiB/);
  });

  it("Get-VhdxFileInfo on a file that is not a VHDX gives an ErrorRecord with the core's error code", () => {
    const script = `${IMPORT}
try {
    Get-VhdxFileInfo -Path ./not-a-disk.vhdx -ErrorAction Stop
    "CAUGHT=no"
} catch {
    "CAUGHT=yes"
    "FQID=$($_.FullyQualifiedErrorId)"
    "CATEGORY=$($_.CategoryInfo.Category)"
    "TARGET=$($_.TargetObject)"
    "MESSAGE=$($_.Exception.Message)"
}
Get-VhdxFileInfo -Path ./not-a-disk.vhdx, ./x.vhdx -ErrorVariable failures -ErrorAction SilentlyContinue | ForEach-Object { "GOOD=$($_.Type)" }
"FAILURES=$(@($failures).Count) $(@($failures)[0].FullyQualifiedErrorId)"
try { Get-VhdxFileInfo -Path ./not-a-disk.vhdx -EnableException; "THROWN=no" } catch { "THROWN=$($_.FullyQualifiedErrorId)" }
`;
    const r = runScript(work.dir, script);
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["CAUGHT"]).toBe("yes");
    expect(kv["FQID"]).toMatch(/^VhdxNotVhdx,Get-VhdxFileInfo$/);
    expect(kv["CATEGORY"]).toBe("InvalidData");
    expect(kv["TARGET"]).toBe(notVhdx);
    expect(kv["MESSAGE"]).toContain(notVhdx);
    expect(kv["GOOD"]).toBe("dynamic"); // a failure on one item does not stop the next
    expect(kv["FAILURES"]).toBe("1 VhdxNotVhdx,Get-VhdxFileInfo");
    expect(kv["THROWN"]).toBe("VhdxNotVhdx,Get-VhdxFileInfo");
  });

  it("Test-VhdxFile answers $true/$false, or a report with -Detailed", () => {
    const script = `${IMPORT}
"GOOD=$(Test-VhdxFile ./x.vhdx)"
"BAD=$(Test-VhdxFile ./not-a-disk.vhdx)"
"BADTYPE=$((Test-VhdxFile ./not-a-disk.vhdx).GetType().Name)"
$report = Test-VhdxFile ./not-a-disk.vhdx -Detailed
"REPORTTYPE=$($report.PSObject.TypeNames[0])"
"REPORTVALID=$($report.IsValid)"
"REPORTPROBLEMS=$(@($report.Problems).Count)"
"MANY=$(@(Test-VhdxFile ./*.vhdx -Detailed | ForEach-Object { "$([System.IO.Path]::GetFileName($_.Path)):$($_.IsValid)" }) -join ',')"
`;
    const r = runScript(work.dir, script);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["GOOD"]).toBe("True");
    expect(kv["BAD"]).toBe("False");
    expect(kv["BADTYPE"]).toBe("Boolean");
    expect(kv["REPORTTYPE"]).toBe("HyperVBackup.VhdxTestResult");
    expect(kv["REPORTVALID"]).toBe("False");
    expect(Number(kv["REPORTPROBLEMS"])).toBeGreaterThanOrEqual(1);
    expect(kv["MANY"]).toBe("not-a-disk.vhdx:False,x.vhdx:True");
  });

  it("Convert-VhdxFile honours -WhatIf and converts VHDX -> raw -> VHDX", () => {
    const script = `${IMPORT}
Convert-VhdxFile -Path ./x.vhdx -DestinationPath ./whatif.raw -WhatIf
"WHATIFEXISTS=$([System.IO.File]::Exists(${psQuote(join(work.dir, "whatif.raw"))}))"
$raw = Convert-VhdxFile -Path ./x.vhdx -DestinationPath ./x.raw -PassThru
"RAWTYPE=$($raw.GetType().Name) RAWLENGTH=$($raw.Length)"
$back = Convert-VhdxFile ./x.raw ./back.vhdx -BlockSize 8MB -LogicalSectorSize 4096 -PassThru
"BACKTYPE=$($back.PSObject.TypeNames[0]) BACKSIZE=$($back.VirtualSize) BACKBLOCK=$($back.BlockSize) BACKSECTOR=$($back.LogicalSectorSize)"
Convert-VhdxFile ./x.raw ./back.vhdx -ErrorVariable exists -ErrorAction SilentlyContinue
"EXISTS=$(@($exists).Count)"
Convert-VhdxFile ./x.raw ./back.vhdx -Force
"FORCED=$?"
`;
    const r = runScript(work.dir, script);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/What if: .*whatif\.raw/);
    const kv = keyValues(r.stdout);
    expect(kv["WHATIFEXISTS"]).toBe("False");
    expect(existsSync(join(work.dir, "whatif.raw"))).toBe(false);
    expect(r.stdout).toContain(`RAWTYPE=FileInfo RAWLENGTH=${64 * 1024 * 1024}`);
    expect(r.stdout).toContain(`BACKTYPE=HyperVBackup.VhdxInfo BACKSIZE=${64 * 1024 * 1024} BACKBLOCK=${8 * 1024 * 1024} BACKSECTOR=4096`);
    expect(kv["EXISTS"]).toBe("1");
    expect(kv["FORCED"]).toBe("True");
    const check = spawnSync("qemu-img", ["check", join(work.dir, "back.vhdx")], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});
