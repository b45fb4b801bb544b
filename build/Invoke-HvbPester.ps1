#Requires -Version 5.1
<#
.SYNOPSIS
    Runs HyperVBackup's Pester suite (test/pester/*.Tests.ps1) on Windows PowerShell 5.1 or PowerShell 7.
.DESCRIPTION
    Needs Pester 5. It is taken, in this order, from -PesterPath, from the modules on PSModulePath
    (Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser -SkipPublisherCheck on Windows
    PowerShell, whose built-in Pester 3.4 is too old), or from the NuGet package cache
    ($env:NUGET_PACKAGES, else ~/.nuget/packages: pester/5.x/tools), where build/setup-dotnet.sh
    puts Pester 5.7.1 for CI.

    Tests tagged 'HyperV' need the Hyper-V PowerShell module and an elevated session; without
    them they are reported as skipped, each with the reason. Tests tagged 'Node' need Node.js 20+
    and a built core (npm run build).

    The exit code is the number of failed tests plus the number of test files or blocks that
    failed outside a test (a file that does not load, an error in discovery or in a BeforeAll),
    so CI can use it directly: a suite that cannot even be discovered never exits 0.
.PARAMETER Path
    Test files or folders to run. Defaults to test/pester beside this folder. In a folder the
    *.Host.Tests.ps1 files run first (the host suite starts with Test-VMBackupHost -Deep), then
    the others in name order.
.PARAMETER Tag
    Run only tests with these tags.
.PARAMETER ExcludeTag
    Leave out tests with these tags, e.g. 'HyperV'.
.PARAMETER OutputFile
    Also write the results as NUnit XML to this file (for CI test reports).
.PARAMETER PesterPath
    The Pester.psd1 to use, for a Pester that is neither installed nor in the NuGet cache.
.PARAMETER Verbosity
    Pester's output detail: None, Normal, Detailed or Diagnostic.
.EXAMPLE
    PS C:\src\HyperVBackup> .\build\Invoke-HvbPester.ps1
    Runs every test; the process exits with the number of failures.
.EXAMPLE
    PS C:\src\HyperVBackup> .\build\Invoke-HvbPester.ps1 -ExcludeTag HyperV -OutputFile .\pester.xml
    Runs what works without Hyper-V and writes an NUnit report.
#>
[CmdletBinding()]
param(
    [string[]] $Path = @([System.IO.Path]::Combine($PSScriptRoot, '..', 'test', 'pester')),
    [string[]] $Tag,
    [string[]] $ExcludeTag,
    [string] $OutputFile,
    [string] $PesterPath,
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Verbosity = 'Normal'
)

$ErrorActionPreference = 'Stop'

# The newest Pester 5 in the NuGet cache: pester/<version>/tools/Pester.psd1.
function Find-PesterInNuGetCache {
    $roots = @()
    if ($env:NUGET_PACKAGES) { $roots += $env:NUGET_PACKAGES }
    $userHome = [System.Environment]::GetFolderPath('UserProfile')
    if ($userHome) { $roots += [System.IO.Path]::Combine($userHome, '.nuget', 'packages') }
    foreach ($root in $roots) {
        $folder = [System.IO.Path]::Combine($root, 'pester')
        if (-not [System.IO.Directory]::Exists($folder)) { continue }
        $candidates = foreach ($directory in [System.IO.Directory]::GetDirectories($folder)) {
            $version = $null
            $manifest = [System.IO.Path]::Combine($directory, 'tools', 'Pester.psd1')
            if ([version]::TryParse([System.IO.Path]::GetFileName($directory), [ref] $version) -and
                $version.Major -eq 5 -and [System.IO.File]::Exists($manifest)) {
                [pscustomobject]@{ Version = $version; Manifest = $manifest }
            }
        }
        $best = $candidates | Sort-Object Version -Descending | Select-Object -First 1
        if ($best) { return $best.Manifest }
    }
    $null
}

if (-not $PesterPath) {
    $installed = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version.Major -eq 5 } |
        Sort-Object Version -Descending | Select-Object -First 1
    if ($installed) { $PesterPath = $installed.Path } else { $PesterPath = Find-PesterInNuGetCache }
}
if (-not $PesterPath) {
    $found = @(Get-Module -ListAvailable -Name Pester | ForEach-Object { $_.Version.ToString() }) -join ', '
    if (-not $found) { $found = 'none' }
    Write-Error ("Pester 5 is required (installed: $found; none in the NuGet cache). Install it with " +
        "'Install-Module Pester -MinimumVersion 5.0 -MaximumVersion 5.99 -Scope CurrentUser -Force -SkipPublisherCheck', " +
        "or run build/setup-dotnet.sh, or pass -PesterPath.") -ErrorAction Continue
    exit 1
}
Get-Module Pester | Remove-Module -Force
$pester = Import-Module $PesterPath -Force -PassThru

# The host suite starts with the preflight: in a folder, *.Host.Tests.ps1 (Test-VMBackupHost
# -Deep, then a running VM backed up application-consistent) run before the other files, which
# follow in name order. Pester keeps the order of the paths it is given.
$ordered = foreach ($item in $Path) {
    if ([System.IO.Directory]::Exists($item)) {
        Get-ChildItem -LiteralPath $item -Recurse -File -Filter '*.Tests.ps1' |
            Sort-Object @{ Expression = { $_.Name -notlike '*.Host.Tests.ps1' } }, FullName |
            ForEach-Object { $_.FullName }
    } else {
        $item
    }
}
if (@($ordered).Count -eq 0) {
    Write-Host ("Pester: no test files in {0}." -f ($Path -join ', '))
    exit 1
}

$configuration = New-PesterConfiguration
$configuration.Run.Path = [string[]]@($ordered)
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = $Verbosity
if ($Tag) { $configuration.Filter.Tag = $Tag }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag }
if ($OutputFile) {
    $configuration.TestResult.Enabled = $true
    $configuration.TestResult.OutputFormat = 'NUnit3'
    $configuration.TestResult.OutputPath = [System.IO.Path]::GetFullPath($OutputFile)
}

$result = Invoke-Pester -Configuration $configuration

# Pester counts a file that fails to load or discover, and a failing BeforeAll/AfterAll, apart
# from failed tests: both must fail the run. (A file whose tests failed is 'Failed' too, without
# an error of its own: that is counted once, as its tests.)
$failedContainers = @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and @($_.ErrorRecord).Count -gt 0 })
$failedBlocks = @($result.FailedBlocks)
foreach ($container in $failedContainers) {
    $reason = @($container.ErrorRecord | ForEach-Object { $_.ToString() }) -join '; '
    Write-Host ("Pester: {0} failed outside any test: {1}" -f $container.Item, $reason)
}
foreach ($block in $failedBlocks) {
    $reason = @($block.ErrorRecord | ForEach-Object { $_.ToString() }) -join '; '
    Write-Host ("Pester: block '{0}' failed: {1}" -f $block.ExpandedPath, $reason)
}
if ($result.TotalCount -eq 0 -and $failedContainers.Count -eq 0) {
    Write-Host 'Pester: no tests were discovered.'
    exit 1
}
Write-Host ("Pester {0}: {1} passed, {2} failed, {3} skipped, {4} not run, {5} file(s) and {6} block(s) failed outside tests" -f
    $pester.Version, $result.PassedCount, $result.FailedCount, $result.SkippedCount, $result.NotRunCount,
    $failedContainers.Count, $failedBlocks.Count)
exit ($result.FailedCount + $failedContainers.Count + $failedBlocks.Count)
