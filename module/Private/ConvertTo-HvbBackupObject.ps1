function ConvertTo-HvbBackupObject {
    <#
    .SYNOPSIS
        Turns a JSON object from the core into a typed [pscustomobject] with PowerShell casing.
    .DESCRIPTION
        Copies every property of a core result (camelCase, as parsed by ConvertFrom-HvbJson) into
        a new object whose property names start with a capital letter (pointId -> PointId),
        recursively for nested objects and arrays. -Rename gives some properties other names
        (id -> RestorePointId), -Convert replaces the value of some properties by the result of
        a script block ({ ConvertTo-HvbGuid $args[0] }), and -TypeName inserts the type name the
        module's Format.ps1xml views select on. Fields the core adds later are kept.
    .PARAMETER InputObject
        The parsed JSON object.
    .PARAMETER TypeName
        The PSTypeName to insert, e.g. HyperVBackup.RestoreResult.
    .PARAMETER Rename
        Core property name -> PowerShell property name, for names that differ by more than case.
    .PARAMETER Convert
        PowerShell property name -> script block turning the core's value into the property's
        value (its first argument is the value).
    .PARAMETER ElementTypeName
        PowerShell property name -> PSTypeName for the objects of that property's array.
    .EXAMPLE
        PS C:\> ConvertTo-HvbBackupObject -InputObject $data -TypeName 'HyperVBackup.RestoreResult' -Rename @{ pointId = 'RestorePointId' }
        Returns a HyperVBackup.RestoreResult with VMName, VMId, RestorePointId and so on.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.PSCustomObject])]
    param(
        [Parameter(Mandatory)]
        [AllowNull()]
        [object] $InputObject,

        [string] $TypeName,

        [hashtable] $Rename = @{},

        [hashtable] $Convert = @{},

        [hashtable] $ElementTypeName = @{}
    )

    if ($null -eq $InputObject) { return $null }
    $properties = [ordered]@{}
    if (-not [string]::IsNullOrEmpty($TypeName)) { $properties['PSTypeName'] = $TypeName }
    foreach ($property in $InputObject.PSObject.Properties) {
        $name = ConvertTo-HvbPropertyName -Name $property.Name
        if ($Rename.ContainsKey($property.Name)) { $name = $Rename[$property.Name] }
        $value = $property.Value
        if ($Convert.ContainsKey($name)) {
            $value = & $Convert[$name] $value
        } elseif ($value -is [System.Management.Automation.PSCustomObject]) {
            $value = ConvertTo-HvbBackupObject -InputObject $value
        } elseif ($value -is [array]) {
            $elementType = $null
            if ($ElementTypeName.ContainsKey($name)) { $elementType = $ElementTypeName[$name] }
            $value = ConvertTo-HvbBackupArray -InputObject $value -TypeName $elementType
        }
        $properties[$name] = $value
    }
    [pscustomobject]$properties
}

function ConvertTo-HvbBackupArray {
    # The elements of a JSON array, objects converted with ConvertTo-HvbBackupObject; always an array.
    [CmdletBinding()]
    param([AllowNull()] [object[]] $InputObject, [string] $TypeName)

    $items = [System.Collections.Generic.List[object]]::new()
    foreach ($item in @($InputObject)) {
        if ($item -is [System.Management.Automation.PSCustomObject]) {
            $items.Add((ConvertTo-HvbBackupObject -InputObject $item -TypeName $TypeName))
        } else {
            $items.Add($item)
        }
    }
    , $items.ToArray()
}

function ConvertTo-HvbPropertyName {
    # The core's camelCase name in PowerShell casing: vmName -> VMName, vmId -> VMId, time -> Time.
    param([Parameter(Mandatory)] [string] $Name)
    if ($Name -cmatch '^vm(?=[A-Z]|$)') { return 'VM' + $Name.Substring(2) }
    $Name.Substring(0, 1).ToUpperInvariant() + $Name.Substring(1)
}

function ConvertTo-HvbDateTime {
    # An ISO 8601 time from the core ('2026-11-20T23:00:00.000Z') as a local [datetime]; anything else unchanged.
    param([AllowNull()] $Value)
    $parsed = [datetime]::MinValue
    if ($Value -is [string] -and [datetime]::TryParse($Value, [System.Globalization.CultureInfo]::InvariantCulture,
            [System.Globalization.DateTimeStyles]::RoundtripKind, [ref] $parsed)) {
        if ($parsed.Kind -eq [System.DateTimeKind]::Unspecified) { return $parsed }
        return $parsed.ToLocalTime()
    }
    $Value
}

function ConvertTo-HvbCoreTime {
    # A [datetime] as the core reads times: UTC, ISO 8601 with milliseconds. Unspecified kind counts as local.
    param([Parameter(Mandatory)] [datetime] $Value)
    $Value.ToUniversalTime().ToString('yyyy-MM-dd\THH:mm:ss.fff\Z', [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertTo-HvbRestorePoint {
    <#
    .SYNOPSIS
        Turns a restore point record of the core (backup result, list entry) into a HyperVBackup.RestorePoint.
    .DESCRIPTION
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
    }
    # Fields the core adds later are kept.
    $known = 'id', 'vmName', 'vmId', 'time', 'kind', 'consistency', 'sizeBytes', 'parentId', 'disks', 'hasReferencePoint', 'warnings'
    foreach ($property in $InputObject.PSObject.Properties) {
        if ($known -notcontains $property.Name) { $properties[(ConvertTo-HvbPropertyName -Name $property.Name)] = $property.Value }
    }
    $point = [pscustomobject]$properties
    $point.PSObject.Properties.Add([System.Management.Automation.PSAliasProperty]::new('Id', 'RestorePointId'))
    $point
}

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

function Get-HvbErrorHandling {
    # 'Throw' with -EnableException, otherwise 'Write'.
    param([bool] $EnableException)
    if ($EnableException) { return 'Throw' }
    'Write'
}

function Write-HvbErrorRecord {
    # Writes a record through the public command, or throws it with -EnableException.
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [System.Management.Automation.ErrorRecord] $Record,
        [bool] $EnableException
    )
    if ($EnableException) { $Cmdlet.ThrowTerminatingError($Record) }
    $Cmdlet.WriteError($Record)
}

function Sort-HvbRestorePoint {
    <#
    .SYNOPSIS
        Orders restore points by VM name, then newest first (Sort-Object is a Utility cmdlet).
    .PARAMETER InputObject
        HyperVBackup.RestorePoint objects.
    .EXAMPLE
        PS C:\> Sort-HvbRestorePoint -InputObject $points
        Returns the points of each VM newest first, the VMs in name order.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.RestorePoint')]
    param([AllowNull()] [AllowEmptyCollection()] [object[]] $InputObject)

    $items = @(foreach ($item in @($InputObject)) { if ($null -ne $item) { $item } })
    if ($items.Count -eq 0) { return }
    $keys = [string[]]::new($items.Count)
    for ($i = 0; $i -lt $items.Count; $i++) {
        $ticks = 0L
        if ($items[$i].Time -is [datetime]) { $ticks = $items[$i].Time.ToUniversalTime().Ticks }
        # Newest first: the complement of the ticks, zero-padded so that ordinal order is numeric order.
        $keys[$i] = '{0}|{1:D19}|{2}|{3:D9}' -f ([string]$items[$i].VMName).ToUpperInvariant(), ([datetime]::MaxValue.Ticks - $ticks), $items[$i].RestorePointId, $i
    }
    # The non-generic overload, spelled out: PowerShell would otherwise pick Sort<TKey, TValue>
    # and sort a converted copy of $items, leaving $items itself in its old order.
    [System.Array]::Sort([System.Array]$keys, [System.Array]$items, [System.Collections.IComparer][System.StringComparer]::Ordinal)
    foreach ($item in $items) { $item }
}

function ConvertTo-HvbCleanupItem {
    # A checkpoint or reference point of a cleanup result as text: its instance id (strings are kept).
    param([AllowNull()] $Item)
    if ($Item -is [System.Management.Automation.PSCustomObject]) {
        return [string](Get-HvbProperty $Item 'instanceId' (Get-HvbProperty $Item 'name' $Item))
    }
    [string]$Item
}

function ConvertTo-HvbCleanupResult {
    <#
    .SYNOPSIS
        Turns the core's cleanup result into a HyperVBackup.CleanupResult.
    .PARAMETER InputObject
        The result of `hvbackup cleanup --json`.
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
