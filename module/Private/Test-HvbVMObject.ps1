function Test-HvbVMObject {
    <#
    .SYNOPSIS
        True when a piped object is a virtual machine's (Get-VM, Get-VMHardDiskDrive, ...), not a restore point.
    .DESCRIPTION
        Such an object has a VMId but neither a Repository nor a RestorePointId. Its Path is the
        VM's own folder (or a disk) and its Id the VM's id: the commands that take -Path and
        -RestorePointId (alias Id) by property name from restore points must not take them from
        it (Test-HvbPipedVMPath; Restore-VMFromBackup and Export-VMBackupDisk ignore its Id).
    .PARAMETER InputObject
        The current pipeline object ($_ in process{}), or $null.
    .EXAMPLE
        PS C:\> if (Test-HvbVMObject -InputObject $_) { $pointId = $null }
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [AllowNull()] [object] $InputObject
    )

    if ($null -eq $InputObject -or $InputObject -is [string] -or $InputObject -is [System.ValueType]) { return $false }
    $properties = $InputObject.PSObject.Properties
    ($null -ne $properties['VMId']) -and ($null -eq $properties['Repository']) -and ($null -eq $properties['RestorePointId'])
}
