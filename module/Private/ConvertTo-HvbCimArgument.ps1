function ConvertTo-HvbCimArgument {
    <#
    .SYNOPSIS
        One method argument of a host request as the value Invoke-CimMethod takes.
    .DESCRIPTION
        {"$ref": REF} becomes a key-only CIM instance (what the CIM cmdlets pass for a REF
        parameter); {"$instance": {className, properties}} the DTD 2.0 text of an embedded
        instance; arrays element by element. With -CimType (the parameter's type from the
        method's definition, when the host gave one) numbers are cast to it, so a uint16
        parameter receives a [uint16] rather than the [int] JSON gave.
    .PARAMETER Value
        The argument as the request carries it.
    .PARAMETER CimType
        The parameter's CimType name, or empty when unknown.
    .PARAMETER Connection
        The channel's connection state (CimSession, class cache).
    .EXAMPLE
        PS C:\> ConvertTo-HvbCimArgument -Value $request.args.AffectedSystem -Connection $c
    #>
    [CmdletBinding()]
    param(
        [AllowNull()] [object] $Value,
        [string] $CimType = '',
        [Parameter(Mandatory)] [hashtable] $Connection
    )

    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Array]) {
        $elementType = $CimType -replace 'Array$', ''
        $items = [System.Collections.Generic.List[object]]::new()
        foreach ($element in $Value) { $items.Add((ConvertTo-HvbCimArgument -Value $element -CimType $elementType -Connection $Connection)) }
        if ($elementType -eq 'String' -or ($items.Count -gt 0 -and @($items | Where-Object { $_ -isnot [string] }).Count -eq 0)) {
            return , ([string[]]$items.ToArray())
        }
        return , $items.ToArray()
    }
    if ($Value -is [System.Management.Automation.PSCustomObject]) {
        $ref = Get-HvbProperty $Value '$ref' $null
        if ($null -ne $ref) { return (New-HvbCimReference -Ref $ref) }
        $instance = Get-HvbProperty $Value '$instance' $null
        if ($null -ne $instance) {
            return (ConvertTo-HvbEmbeddedInstanceText -ClassName ([string]$instance.className) -Properties (Get-HvbProperty $instance 'properties' $null) -Connection $Connection)
        }
        throw [System.ArgumentException]::new('A host request carried an argument object that is neither $ref nor $instance.')
    }
    switch ($CimType) {
        'Boolean' { return [bool]$Value }
        'UInt8' { return [byte]$Value }
        'SInt8' { return [sbyte]$Value }
        'UInt16' { return [uint16]$Value }
        'SInt16' { return [int16]$Value }
        'UInt32' { return [uint32]$Value }
        'SInt32' { return [int]$Value }
        'UInt64' { return [uint64]$Value }
        'SInt64' { return [long]$Value }
        'Real32' { return [single]$Value }
        'Real64' { return [double]$Value }
        'String' { return [string]$Value }
    }
    $Value
}
