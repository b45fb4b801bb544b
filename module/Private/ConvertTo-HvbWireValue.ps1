function ConvertTo-HvbWireValue {
    <#
    .SYNOPSIS
        One CIM property or out-parameter value as the core's host channel carries it.
    .DESCRIPTION
        By the value's CimType: datetimes and intervals become DMTF text; 64-bit integers beyond
        2^53 become decimal text (JSON numbers are exact only up to there; the core reads both);
        a Reference becomes {"$ref": instance}, an Instance an embedded instance; arrays element
        by element. Everything else (strings - embedded-instance strings stay DTD 2.0 text -,
        numbers, booleans) passes as it is.
    .PARAMETER Value
        The value.
    .PARAMETER CimType
        Its Microsoft.Management.Infrastructure.CimType name (e.g. 'DateTime', 'ReferenceArray').
    .EXAMPLE
        PS C:\> ConvertTo-HvbWireValue -Value $result.OutParameters['Job'].Value -CimType Reference
    #>
    [CmdletBinding()]
    param(
        [AllowNull()] [object] $Value,
        [string] $CimType = ''
    )

    if ($null -eq $Value) { return $null }
    $elementType = $CimType -replace 'Array$', ''
    if ($CimType.EndsWith('Array') -or (($Value -is [System.Array]) -and $Value -isnot [byte[]])) {
        $items = [System.Collections.Generic.List[object]]::new()
        foreach ($element in @($Value)) { $items.Add((ConvertTo-HvbWireValue -Value $element -CimType $elementType)) }
        return , $items.ToArray()
    }
    if ($Value -is [byte[]]) { return , ([object[]]@($Value)) }
    if ($Value -is [datetime] -or $Value -is [timespan]) { return (ConvertTo-HvbDmtfDateTime -Value $Value) }
    $isInstance = $null -ne $Value.PSObject.Properties['CimSystemProperties'] -and $null -ne $Value.PSObject.Properties['CimInstanceProperties']
    if ($isInstance) {
        if ($elementType -eq 'Instance') { return (ConvertTo-HvbWireInstance -InputObject $Value -Embedded) }
        return [ordered]@{ '$ref' = (ConvertTo-HvbWireInstance -InputObject $Value -Reference) }
    }
    if (($Value -is [uint64] -or $Value -is [long]) -and [System.Math]::Abs([decimal]$Value) -gt 9007199254740991) {
        return ([System.IFormattable]$Value).ToString($null, [System.Globalization.CultureInfo]::InvariantCulture)
    }
    $Value
}
