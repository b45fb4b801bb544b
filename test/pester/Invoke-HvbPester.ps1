#Requires -Version 5.1
<#
.SYNOPSIS
    Runs HyperVBackup's Pester suite (test/pester/*.Tests.ps1) on Windows PowerShell 5.1 or pwsh.
.DESCRIPTION
    Needs Pester 5 (Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser -SkipPublisherCheck
    on Windows PowerShell, whose built-in Pester 3.4 is too old). Tests tagged 'HyperV' need the
    Hyper-V PowerShell module and an elevated session; tests tagged 'Node' need Node.js 20+ and a
    built core (npm run build). They skip themselves when those are missing; -ExcludeTag leaves
    them out explicitly.

    The exit code is the number of failed tests (0 when all pass), so CI can use it directly.
.PARAMETER Path
    Test files or folders to run. Defaults to this folder.
.PARAMETER Tag
    Run only tests with these tags.
.PARAMETER ExcludeTag
    Leave out tests with these tags, e.g. 'HyperV' on a machine without Hyper-V.
.PARAMETER OutputFile
    Also write the results as NUnit XML to this file (for CI test reports).
.PARAMETER Verbosity
    Pester's output detail: None, Normal, Detailed or Diagnostic.
.EXAMPLE
    PS C:\src\HyperVBackup> .\test\pester\Invoke-HvbPester.ps1
    Runs every test; the process exits with the number of failures.
.EXAMPLE
    PS C:\src\HyperVBackup> .\test\pester\Invoke-HvbPester.ps1 -ExcludeTag HyperV -OutputFile .\pester.xml
    Runs what works without Hyper-V and writes an NUnit report.
#>
[CmdletBinding()]
param(
    [string[]] $Path = @($PSScriptRoot),
    [string[]] $Tag,
    [string[]] $ExcludeTag,
    [string] $OutputFile,
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Verbosity = 'Detailed'
)

$ErrorActionPreference = 'Stop'

$pester = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.0.0' } |
    Sort-Object Version -Descending | Select-Object -First 1
if (-not $pester) {
    $found = @(Get-Module -ListAvailable -Name Pester | ForEach-Object { $_.Version.ToString() }) -join ', '
    if (-not $found) { $found = 'none' }
    Write-Error "Pester 5 or later is required (found: $found). Install it with: Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser -Force -SkipPublisherCheck"
    exit 1
}
Import-Module $pester -Force

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = $Verbosity
if ($Tag) { $configuration.Filter.Tag = $Tag }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag }
if ($OutputFile) {
    $configuration.TestResult.Enabled = $true
    $configuration.TestResult.OutputFormat = 'NUnitXml'
    $configuration.TestResult.OutputPath = $OutputFile
}

$result = Invoke-Pester -Configuration $configuration
Write-Host ("Pester {0}: {1} passed, {2} failed, {3} skipped" -f $pester.Version, $result.PassedCount, $result.FailedCount, $result.SkippedCount)
exit $result.FailedCount
