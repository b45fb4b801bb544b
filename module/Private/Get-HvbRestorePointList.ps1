function Get-HvbRestorePointList {
    <#
    .SYNOPSIS
        Runs `hvbackup list --repo R [--vm N]` and returns HyperVBackup.RestorePoint objects, oldest first per VM.
    .PARAMETER Repository
        The repository's full path.
    .PARAMETER VMName
        One VM's name or id; all VMs when omitted.
    .PARAMETER Cmdlet
        The public command's $PSCmdlet.
    .PARAMETER ErrorHandling
        Write (default) or Throw, as for Invoke-HvbCore.
    .EXAMPLE
        PS C:\> Get-HvbRestorePointList -Repository 'D:\Backups' -VMName web01 -Cmdlet $PSCmdlet
        Returns web01's restore points.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.RestorePoint')]
    param(
        [Parameter(Mandatory)] [string] $Repository,
        [string] $VMName,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [ValidateSet('Write', 'Throw')] [string] $ErrorHandling = 'Write'
    )

    $arguments = [System.Collections.Generic.List[string]]::new()
    foreach ($word in 'list', '--repo', $Repository) { $arguments.Add($word) }
    $target = $Repository
    if (-not [string]::IsNullOrEmpty($VMName)) {
        $arguments.Add('--vm')
        $arguments.Add($VMName)
        $target = $VMName
    }
    $outcome = Invoke-HvbCore -Cmdlet $Cmdlet -ArgumentList $arguments.ToArray() -ErrorHandling $ErrorHandling `
        -TargetObject $target -ProgressActivity 'Listing restore points'
    if ($outcome.ExitCode -ne 0) { return }
    foreach ($data in $outcome.Data) {
        foreach ($record in @($data)) {
            if ($null -ne $record -and $null -ne $record.PSObject.Properties['id']) {
                ConvertTo-HvbRestorePoint -InputObject $record -Repository $Repository
            }
        }
    }
}
