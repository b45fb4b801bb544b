# HyperVBackup root module: loads the private helpers, then the public commands, one per file.
#
# Runs on Windows PowerShell 5.1 and PowerShell 7 with one code path: language features,
# Microsoft.PowerShell.Core cmdlets and .NET only - no Join-Path, Test-Path, Write-Warning or
# ConvertFrom-Json here or in the files it loads. See docs/powershell-host.md.

Set-StrictMode -Version 3.0

$script:HvbModuleRoot = $PSScriptRoot

$publicNames = [System.Collections.Generic.List[string]]::new()
foreach ($folder in 'Private', 'Public') {
    $directory = [System.IO.Path]::Combine($PSScriptRoot, $folder)
    if (-not [System.IO.Directory]::Exists($directory)) { continue }
    $files = [System.IO.Directory]::GetFiles($directory, '*.ps1')
    [System.Array]::Sort($files, [System.StringComparer]::OrdinalIgnoreCase)
    foreach ($file in $files) {
        try {
            . $file
        } catch {
            throw "HyperVBackup: cannot load '$file': $($_.Exception.Message)"
        }
        if ($folder -eq 'Public') {
            $publicNames.Add([System.IO.Path]::GetFileNameWithoutExtension($file))
        }
    }
}

Register-HvbArgumentCompleter -CommandName $publicNames.ToArray()

Export-ModuleMember -Function $publicNames.ToArray() -Variable @() -Alias @()
