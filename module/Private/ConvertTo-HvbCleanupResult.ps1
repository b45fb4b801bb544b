function ConvertTo-HvbCleanupResult {
    <#
    .SYNOPSIS
        Turns the core's cleanup result into a HyperVBackup.CleanupResult.
    .PARAMETER InputObject
        The data of `hvbackup cleanup --events`'s result event.
    .PARAMETER VMName
        The VM as the user named it, when the result does not name it.
    .EXAMPLE
        PS C:\> ConvertTo-HvbCleanupResult -InputObject $data -VMName web01
        Returns VMName, RemovedCheckpoints, RemovedReferencePoints and KeptReferencePoints.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.CleanupResult')]
    param([Parameter(Mandatory)] [object] $InputObject, [string] $VMName)

    [pscustomobject]@{
        PSTypeName             = 'HyperVBackup.CleanupResult'
        VMName                 = [string](Get-HvbProperty $InputObject 'vmName' $VMName)
        RemovedCheckpoints     = [string[]]@(foreach ($item in @(Get-HvbProperty $InputObject 'removedCheckpoints' @())) { if ($null -ne $item) { ConvertTo-HvbCleanupItem $item } })
        RemovedReferencePoints = [string[]]@(foreach ($item in @(Get-HvbProperty $InputObject 'removedReferencePoints' @())) { if ($null -ne $item) { ConvertTo-HvbCleanupItem $item } })
        KeptReferencePoints    = ConvertTo-HvbBackupArray -InputObject @(Get-HvbProperty $InputObject 'keptReferencePoints' @()) -TypeName 'HyperVBackup.KeptReferencePoint'
    }
}
