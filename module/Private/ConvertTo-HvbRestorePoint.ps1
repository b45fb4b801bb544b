function ConvertTo-HvbRestorePoint {
    <#
    .SYNOPSIS
        Turns a restore point record of the core (backup result, list entry) into a HyperVBackup.RestorePoint.
    .DESCRIPTION
        setId (the backup set of a VM group) becomes SetId, $null for a VM backed up alone.
        id becomes RestorePointId (with an Id alias), time a local [datetime], vmId a [guid], kind
        'Full' or 'Incremental', consistency the -ConsistencyLevel value it corresponds to
        ('Application' or 'CrashConsistent'), disks HyperVBackup.RestorePointDisk objects.
        Repository is the repository's full path, so that the object can be piped to the
        commands that take -Path by property name (Restore-VMFromBackup, Export-VMBackupDisk,
        Test-VMBackup, Remove-VMBackup).
    .PARAMETER InputObject
        The point record as parsed from the core's JSON.
    .PARAMETER Repository
        The repository the point is in (full path).
    .EXAMPLE
        PS C:\> ConvertTo-HvbRestorePoint -InputObject $record -Repository 'D:\Backups'
        Returns the HyperVBackup.RestorePoint Get-VMBackup outputs.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.RestorePoint')]
    param(
        [Parameter(Mandatory)]
        [object] $InputObject,

        [string] $Repository
    )

    $consistency = [string](Get-HvbProperty $InputObject 'consistency' '')
    switch ($consistency) {
        'application' { $consistency = 'Application' }
        'crash' { $consistency = 'CrashConsistent' }
        default { if ($consistency.Length -gt 0) { $consistency = ConvertTo-HvbPropertyName -Name $consistency } }
    }
    $kind = [string](Get-HvbProperty $InputObject 'kind' '')
    if ($kind.Length -gt 0) { $kind = ConvertTo-HvbPropertyName -Name $kind }
    $size = Get-HvbProperty $InputObject 'sizeBytes' $null
    if ($null -ne $size) { $size = [long]$size }
    $warnings = [string[]]@(foreach ($warning in @(Get-HvbProperty $InputObject 'warnings' @())) { if ($null -ne $warning) { [string]$warning } })

    $properties = [ordered]@{
        PSTypeName        = 'HyperVBackup.RestorePoint'
        VMName            = [string](Get-HvbProperty $InputObject 'vmName' $null)
        RestorePointId    = [string](Get-HvbProperty $InputObject 'id' $null)
        Time              = ConvertTo-HvbDateTime (Get-HvbProperty $InputObject 'time' $null)
        Kind              = $kind
        ConsistencyLevel  = $consistency
        SizeBytes         = $size
        ParentId          = Get-HvbProperty $InputObject 'parentId' $null
        VMId              = ConvertTo-HvbGuid (Get-HvbProperty $InputObject 'vmId' $null)
        Disks             = ConvertTo-HvbBackupArray -InputObject @(Get-HvbProperty $InputObject 'disks' @()) -TypeName 'HyperVBackup.RestorePointDisk'
        HasReferencePoint = Get-HvbProperty $InputObject 'hasReferencePoint' $null
        Warnings          = $warnings
        Repository        = $Repository
        # The backup set of a VM group the point belongs to (New-RecoveryBackup -VMGroup), else $null.
        SetId             = Get-HvbProperty $InputObject 'setId' $null
    }
    # Fields the core adds later are kept.
    $known = 'id', 'vmName', 'vmId', 'time', 'kind', 'consistency', 'sizeBytes', 'parentId', 'disks', 'hasReferencePoint', 'warnings', 'setId'
    foreach ($property in $InputObject.PSObject.Properties) {
        if ($known -notcontains $property.Name) { $properties[(ConvertTo-HvbPropertyName -Name $property.Name)] = $property.Value }
    }
    $point = [pscustomobject]$properties
    $point.PSObject.Properties.Add([System.Management.Automation.PSAliasProperty]::new('Id', 'RestorePointId'))
    $point
}
