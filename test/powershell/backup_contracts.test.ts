/**
 * The parameter contracts and help of the backup commands on a real PowerShell engine (build/pwsh, the Microsoft.PowerShell.SDK engine unless HVB_USE_REAL_PWSH is
 * set), against a lab host made with the CLI in a temporary folder (_backup_lab.ts). The tests
 * of a describe block run in order and share the lab and repository.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keyValues, prepare, ROOT, runScript, tempDir } from "./_pwsh";
import { IMPORT } from "./_backup_lab";

let work: { dir: string; remove: () => void };

beforeAll(() => {
  prepare();
  work = tempDir("hvb-ps-contracts-");
}, 300_000);

afterAll(() => work?.remove());

/** Parameter contracts of the backup commands: an accidental rename or removal fails here. */
interface Contract {
  parameters: string[];
  shouldProcess: boolean;
  confirmImpact?: string;
  outputType: string[];
  /** Parameter -> "ByValue/ByPropertyName" of its (first) Parameter attribute. */
  pipeline: Record<string, string>;
  aliases: Record<string, string[]>;
  mandatory: string[];
  sets?: string[];
}

const CONTRACTS: Record<string, Contract> = {
  "New-RecoveryBackup": {
    parameters: ["VMName", "VMId", "VMGroup", "VMMembers", "All", "Path", "Full", "ConsistencyLevel", "NoCrashFallback", "HashChangeDetection", "ThrottleLimit", "VolumeThrottleLimit", "HostThrottleLimit", "StorageSnapshot", "PassThroughDisk", "OnNode", "LabPath", "ComputerName", "Credential", "CimSession", "ClearStaleLock", "EnableException"],
    shouldProcess: true,
    confirmImpact: "Medium",
    outputType: ["HyperVBackup.RestorePoint"],
    pipeline: { VMName: "True/True", VMId: "False/True", VMGroup: "False/True", VMMembers: "False/True", All: "False/False", Path: "False/False", ComputerName: "False/True" },
    aliases: { VMName: ["Name"], Path: ["Repository"], ThrottleLimit: ["Parallel"] },
    mandatory: ["VMName", "VMId", "VMGroup", "Path"],
    sets: ["All", "ByGroup", "ById", "ByName"],
  },
  "Get-VMBackup": {
    parameters: ["Path", "VMName", "Latest", "RestorePointId", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.RestorePoint"],
    pipeline: { VMName: "True/True", Path: "False/False" },
    aliases: { VMName: ["Name"], Path: ["Repository"], RestorePointId: ["Id"] },
    mandatory: ["Path", "Latest", "RestorePointId"],
    sets: ["All", "ById", "Latest"],
  },
  "Restore-VMFromBackup": {
    parameters: ["Path", "VMName", "VMGroup", "SetId", "Latest", "RestorePointId", "PointInTime", "NewVMId", "NewName", "DestinationPath", "Force", "LabPath", "ClearStaleLock", "ComputerName", "Credential", "CimSession", "EnableException"],
    shouldProcess: true,
    confirmImpact: "High",
    outputType: ["HyperVBackup.RestoreResult"],
    pipeline: { Path: "False/True", VMName: "False/True", RestorePointId: "False/True", SetId: "False/True", ComputerName: "False/True" },
    aliases: { Path: ["Repository"], RestorePointId: ["Id"], NewVMId: ["GenerateNewId"] },
    mandatory: ["Path", "VMName", "VMGroup", "PointInTime"],
    sets: ["ByRestorePoint", "ByTime", "BySet", "BySetTime"],
  },
  "Test-VMBackup": {
    parameters: ["Path", "VMName", "Deep", "Quiet", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.VerifyReport", "System.Boolean"],
    pipeline: { Path: "False/True", VMName: "True/True" },
    aliases: { Path: ["Repository"], VMName: ["Name"] },
    mandatory: ["Path"],
  },
  "Remove-VMBackup": {
    parameters: ["Path", "VMName", "KeepLast", "KeepSince", "RestorePointId", "ClearStaleLock", "PassThru", "EnableException"],
    shouldProcess: true,
    confirmImpact: "High",
    outputType: ["HyperVBackup.PruneResult"],
    pipeline: { Path: "False/True", VMName: "True/True", KeepLast: "False/False", RestorePointId: "False/True" },
    aliases: { Path: ["Repository"], VMName: ["Name"], RestorePointId: ["Id"] },
    mandatory: ["Path", "VMName", "KeepLast", "KeepSince", "RestorePointId"],
    sets: ["KeepLast", "KeepSince", "RestorePoint"],
  },
  "Export-VMBackupDisk": {
    parameters: ["Path", "VMName", "RestorePointId", "DiskIndex", "DestinationPath", "ClearStaleLock", "EnableException"],
    shouldProcess: true,
    confirmImpact: "Low",
    outputType: ["HyperVBackup.ExportedDisk"],
    pipeline: { Path: "False/True", VMName: "False/True", RestorePointId: "False/True", DestinationPath: "False/False" },
    aliases: { Path: ["Repository"], RestorePointId: ["Id"], DestinationPath: ["Destination"] },
    mandatory: ["Path", "VMName", "DestinationPath"],
  },
  "Get-VMBackupReadiness": {
    parameters: ["VMName", "Path", "LabPath", "ComputerName", "Credential", "CimSession", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.BackupReadiness"],
    pipeline: { VMName: "True/True", Path: "False/False", ComputerName: "False/True" },
    aliases: { VMName: ["Name"], Path: ["Repository"] },
    mandatory: ["VMName"],
  },
  "Test-VMBackupHost": {
    parameters: ["VMName", "Path", "Deep", "OutFile", "LabPath", "ComputerName", "Credential", "CimSession", "EnableException"],
    shouldProcess: false,
    outputType: ["HyperVBackup.HostCheck"],
    pipeline: { VMName: "True/True", Path: "False/False" },
    aliases: { VMName: ["Name"], Path: ["Repository"] },
    mandatory: [],
  },
  "Clear-VMBackupCheckpoint": {
    parameters: ["VMName", "Path", "PassThru", "LabPath", "ClearStaleLock", "ComputerName", "Credential", "CimSession", "EnableException"],
    shouldProcess: true,
    confirmImpact: "Medium",
    outputType: ["HyperVBackup.CleanupResult"],
    pipeline: { VMName: "True/True", Path: "False/False", ComputerName: "False/True" },
    aliases: { VMName: ["Name"], Path: ["Repository"] },
    mandatory: ["VMName"],
  },
};

describe("parameter contracts of the backup commands", () => {
  let kv: Record<string, string> = {};
  beforeAll(() => {
    const lines = Object.keys(CONTRACTS)
      .map((name) => {
        const contract = CONTRACTS[name]!;
        const perParameter = Object.keys({ ...contract.pipeline, ...contract.aliases })
          .map(
            (p) => `
"${name}.${p}.PIPELINE=$(@($command.Parameters['${p}'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | ForEach-Object { "$($_.ValueFromPipeline)/$($_.ValueFromPipelineByPropertyName)" }) -join ',')"
"${name}.${p}.ALIASES=$(@($command.Parameters['${p}'].Aliases) -join ',')"`,
          )
          .join("");
        return `
$command = Get-Command ${name}
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
"${name}.PARAMS=$(@($command.Parameters.Keys | Where-Object { $common -notcontains $_ }) -join ',')"
"${name}.WHATIF=$($command.Parameters.ContainsKey('WhatIf'))"
"${name}.CONFIRMIMPACT=$(@($command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] } | ForEach-Object { $_.ConfirmImpact }) -join ',')"
"${name}.MANDATORY=$(@($command.Parameters.Values | Where-Object { @($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory }).Count -gt 0 } | ForEach-Object { $_.Name }) -join ',')"
"${name}.SETS=$(@($command.ParameterSets | ForEach-Object { $_.Name }) -join ',')"
"${name}.OUTPUTTYPE=$(@($command.OutputType | ForEach-Object { $_.Name }) -join ',')"
${perParameter}
$help = Get-Help ${name} -Full
"${name}.SYNOPSIS=$($help.Synopsis.Trim())"
"${name}.DESCRIPTION=$(@($help.description | ForEach-Object { $_.Text }) -join ' ' -replace '\\s+', ' ')"
"${name}.EXAMPLES=$(@($help.examples.example).Count)"
# Comment-based help keeps the sentence after an example's command in code (or in remarks after a blank line).
"${name}.EXAMPLESWITHOUTREMARKS=$(@(@($help.examples.example) | Where-Object { -not (@($_.remarks | ForEach-Object { $_.Text }) -join '').Trim() -and @(([string]$_.code).Trim() -split '\\r?\\n').Count -lt 2 }).Count)"
"${name}.UNDOCUMENTED=$(@(@($help.parameters.parameter) | Where-Object { $common -notcontains $_.name -and $_.name -notin 'WhatIf', 'Confirm' -and -not (@($_.description | ForEach-Object { $_.Text }) -join '').Trim() } | ForEach-Object { $_.name }) -join ',')"
"${name}.HELPPARAMS=$(@(@($help.parameters.parameter) | ForEach-Object { $_.name }) -join ',')"
`;
      })
      .join("\n");
    const r = runScript(work.dir, IMPORT + lines);
    expect(r.stderr).toBe("");
    kv = keyValues(r.stdout);
  }, 120_000);

  for (const [name, contract] of Object.entries(CONTRACTS)) {
    it(`${name} has its known parameters, attributes and help`, () => {
      expect(kv[`${name}.PARAMS`]!.split(",").sort()).toEqual([...contract.parameters].sort());
      expect(kv[`${name}.WHATIF`]).toBe(contract.shouldProcess ? "True" : "False");
      if (contract.confirmImpact) expect(kv[`${name}.CONFIRMIMPACT`]).toBe(contract.confirmImpact);
      expect(kv[`${name}.MANDATORY`]!.split(",").filter((p) => p !== "").sort()).toEqual([...contract.mandatory].sort());
      if (contract.sets) expect(kv[`${name}.SETS`]!.split(",").sort()).toEqual([...contract.sets].sort());
      expect(kv[`${name}.OUTPUTTYPE`]!.split(",").sort()).toEqual([...contract.outputType].sort());
      for (const [parameter, binding] of Object.entries(contract.pipeline)) {
        expect(kv[`${name}.${parameter}.PIPELINE`]!.split(",")[0], `${name} -${parameter}`).toBe(binding);
      }
      for (const [parameter, aliases] of Object.entries(contract.aliases)) {
        expect(kv[`${name}.${parameter}.ALIASES`]!.split(",").sort(), `${name} -${parameter}`).toEqual([...aliases].sort());
      }
      expect(kv[`${name}.SYNOPSIS`]!.length).toBeGreaterThan(10);
      expect(kv[`${name}.SYNOPSIS`]).not.toContain(name); // real help, not the generated stub
      expect(kv[`${name}.DESCRIPTION`]!.length).toBeGreaterThan(200);
      expect(Number(kv[`${name}.EXAMPLES`])).toBeGreaterThanOrEqual(3);
      expect(kv[`${name}.EXAMPLESWITHOUTREMARKS`]).toBe("0");
      expect(kv[`${name}.UNDOCUMENTED`]).toBe("");
    });
  }

  it("every exported command uses an approved verb", () => {
    const r = runScript(work.dir, IMPORT + `
# Get-Verb is a Utility command; the approved verbs are the constants of the Verbs* classes.
$approved = foreach ($class in 'VerbsCommon', 'VerbsCommunications', 'VerbsData', 'VerbsDiagnostic', 'VerbsLifecycle', 'VerbsOther', 'VerbsSecurity') {
    [type]"System.Management.Automation.$class" | ForEach-Object { $_.GetFields() } | ForEach-Object { $_.GetValue($null) }
}
"UNAPPROVED=$(@((Get-Module HyperVBackup).ExportedFunctions.Keys | Where-Object { $approved -notcontains $_.Split('-')[0] }) -join ',')"
"COUNT=$((Get-Module HyperVBackup).ExportedFunctions.Count)"
`);
    expect(r.stderr).toBe("");
    const kv = keyValues(r.stdout);
    expect(kv["UNAPPROVED"]).toBe("");
    expect(Number(kv["COUNT"])).toBe(Object.keys(CONTRACTS).length + 3);
  });

  it("every command that changes state calls ShouldProcess, and only those declare it", () => {
    for (const [name, contract] of Object.entries(CONTRACTS)) {
      const code = readFileSync(join(ROOT, "module", "Public", `${name}.ps1`), "utf8").replace(/<#[\s\S]*?#>/g, "");
      // Test-HvbShouldProcess asks $PSCmdlet.ShouldProcess and answers no when nobody can answer.
      expect(/Test-HvbShouldProcess\s+-Cmdlet\s+\$PSCmdlet\b/.test(code), name).toBe(contract.shouldProcess);
      expect(/SupportsShouldProcess/.test(code), name).toBe(contract.shouldProcess);
    }
    const ask = readFileSync(join(ROOT, "module", "Private", "Test-HvbShouldProcess.ps1"), "utf8");
    expect(ask).toMatch(/\$Cmdlet\.ShouldProcess\(\$Target, \$Action\)/);
  });

  it("every help parameter has a .PARAMETER section in the file, the lab's -LabPath included", () => {
    for (const [name, contract] of Object.entries(CONTRACTS)) {
      const text = readFileSync(join(ROOT, "module", "Public", `${name}.ps1`), "utf8");
      for (const parameter of contract.parameters) expect(text, `${name} -${parameter}`).toMatch(new RegExp(`\\.PARAMETER ${parameter}\\r?\\n`));
    }
  });

  it("the about topic names every exported command", () => {
    const about = readFileSync(join(ROOT, "en-US", "about_HyperVBackup.help.txt"), "utf8");
    for (const name of Object.keys(CONTRACTS)) expect(about, name).toContain(name);
  });
});
