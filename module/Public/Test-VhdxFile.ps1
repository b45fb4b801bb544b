function Test-VhdxFile {
    <#
    .SYNOPSIS
        Tests whether a VHDX file and its parent chain are structurally valid.
    .DESCRIPTION
        Runs the HyperVBackup core's structural check on the file: file identifier, both headers,
        the log, region tables, metadata, every BAT entry (state allowed for the disk type, block
        inside the file, no overlaps) and, for a differencing disk, that each parent opens and
        its DataWriteGuid matches the child's parent_linkage. The file is not changed.

        Returns $true when the file is valid and $false otherwise (a missing or unreadable file
        is not valid). The problems found are written to the verbose stream; with -Detailed a
        HyperVBackup.VhdxTestResult object (Path, IsValid, Problems) is returned instead of a
        Boolean. Only a failure to run the check at all (Node.js or the core missing, a usage
        error) is written as an error.
    .PARAMETER Path
        The VHDX or AVHDX file(s) to check. Relative paths start at the current PowerShell
        location; wildcards are expanded. Accepts pipeline input: strings, and objects with a
        FullName or PSPath property such as the FileInfo objects of Get-ChildItem.
    .PARAMETER ParentPath
        Check the chain with this file as the parent instead of the one the parent locator names.
        Use it when a backup chain was moved and its locators point to the old place.
    .PARAMETER Detailed
        Return a HyperVBackup.VhdxTestResult object per file, listing every problem, instead of
        $true or $false.
    .PARAMETER EnableException
        Turn a failure to run the check into a terminating error. An invalid file is never an
        error: it is the answer $false.
    .EXAMPLE
        PS C:\> Test-VhdxFile -Path D:\Backups\web01\disk0.vhdx
        Returns True when the file and its chain are valid.
    .EXAMPLE
        PS C:\> Get-ChildItem D:\Backups -Recurse -Include *.vhdx, *.avhdx | Test-VhdxFile -Detailed | Where-Object { -not $_.IsValid }
        Lists every backup disk that fails the check, with the problems found.
    .EXAMPLE
        PS C:\> if (-not (Test-VhdxFile .\restored.vhdx -Verbose)) { throw 'restore produced a damaged disk' }
        Stops a script when the disk is damaged; -Verbose shows each problem.
    .EXAMPLE
        PS C:\> Test-VhdxFile .\moved\disk0.avhdx -ParentPath .\moved\disk0.vhdx -Detailed
        Checks a differencing disk against the parent given explicitly.
    .INPUTS
        System.String, or any object with a FullName or PSPath property.
    .OUTPUTS
        System.Boolean, or HyperVBackup.VhdxTestResult with -Detailed.
    .LINK
        Get-VhdxFileInfo
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    [OutputType('HyperVBackup.VhdxTestResult')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath')]
        [ValidateNotNullOrEmpty()]
        [string[]] $Path,

        [ValidateNotNullOrEmpty()]
        [string] $ParentPath,

        [switch] $Detailed,

        [switch] $EnableException
    )

    process {
        foreach ($item in $Path) {
            foreach ($file in (Resolve-HvbPath -Path $item -Cmdlet $PSCmdlet -ExpandWildcard)) {
                $arguments = [System.Collections.Generic.List[string]]::new()
                foreach ($word in 'vhdx', 'check', $file) { $arguments.Add($word) }
                if ($PSBoundParameters.ContainsKey('ParentPath')) {
                    $arguments.Add('--parent')
                    $arguments.Add((Resolve-HvbPath -Path $ParentPath -Cmdlet $PSCmdlet))
                }
                $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList $arguments.ToArray() `
                    -ErrorHandling Collect -TargetObject $file -ProgressActivity 'Checking VHDX'

                # Exit code 1 means "not valid"; anything else non-zero means the check did not run.
                if ($outcome.ExitCode -ne 0 -and $outcome.ExitCode -ne 1) {
                    foreach ($record in $outcome.Errors) {
                        if ($EnableException) { $PSCmdlet.ThrowTerminatingError($record) }
                        $PSCmdlet.WriteError($record)
                    }
                    continue
                }

                $problems = [System.Collections.Generic.List[string]]::new()
                $report = $null
                foreach ($data in $outcome.Data) {
                    if ($null -ne $data -and $null -ne $data.PSObject.Properties['ok']) { $report = $data }
                }
                if ($null -ne $report) {
                    foreach ($problem in @(Get-HvbProperty $report 'problems' @())) {
                        if ($null -ne $problem) { $problems.Add([string]$problem) }
                    }
                }
                if ($null -eq $report) {
                    # No report: the core stopped early; its error message is the problem.
                    foreach ($record in $outcome.Errors) { $problems.Add($record.Exception.Message) }
                }
                $isValid = $outcome.ExitCode -eq 0 -and $problems.Count -eq 0
                if ($null -ne $report -and -not [bool]$report.ok) { $isValid = $false }

                foreach ($problem in $problems) { $PSCmdlet.WriteVerbose("${file}: $problem") }
                if ($Detailed) {
                    [pscustomobject]@{
                        PSTypeName = 'HyperVBackup.VhdxTestResult'
                        Path       = $file
                        IsValid    = $isValid
                        Problems   = $problems.ToArray()
                    }
                } else {
                    $isValid
                }
            }
        }
    }
}
