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
