function ConvertTo-HvbRestoreResult {
    <#
    .SYNOPSIS
        Turns a restore result of the core (one VM, or one member of a set) into a HyperVBackup.RestoreResult.
    .PARAMETER InputObject
        The result record as parsed from the core's JSON.
    .EXAMPLE
        PS C:\> ConvertTo-HvbRestoreResult -InputObject $data
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.RestoreResult')]
    param([Parameter(Mandatory)] [object] $InputObject)

    ConvertTo-HvbBackupObject -InputObject $InputObject -TypeName 'HyperVBackup.RestoreResult' `
        -Rename @{ pointId = 'RestorePointId'; pointTime = 'RestorePointTime'; destination = 'DestinationPath' } `
        -Convert @{
        VMId             = { ConvertTo-HvbGuid $args[0] }
        RestorePointTime = { ConvertTo-HvbDateTime $args[0] }
        Warnings         = { , [string[]]@(foreach ($warning in @($args[0])) { if ($null -ne $warning) { [string]$warning } }) }
    } -ElementTypeName @{ Disks = 'HyperVBackup.RestoredDisk' }
}
