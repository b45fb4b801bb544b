function ConvertFrom-HvbJsonValue {
    # JavaScriptSerializer's Dictionary/object[]/int/decimal to the same shapes as above.
    [CmdletBinding()]
    param([AllowNull()] $Value)

    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Collections.IDictionary]) {
        $properties = [ordered]@{}
        foreach ($key in $Value.Keys) {
            $properties[[string]$key] = ConvertFrom-HvbJsonValue -Value $Value[$key]
        }
        return [pscustomobject]$properties
    }
    if ($Value -is [string]) { return $Value }
    if ($Value -is [System.Collections.IEnumerable]) {
        $items = [System.Collections.Generic.List[object]]::new()
        foreach ($item in $Value) { $items.Add((ConvertFrom-HvbJsonValue -Value $item)) }
        return , $items.ToArray()
    }
    if ($Value -is [int]) { return [long]$Value }
    if ($Value -is [decimal]) {
        if ([decimal]::Truncate($Value) -eq $Value -and $Value -le [long]::MaxValue -and $Value -ge [long]::MinValue) {
            return [long]$Value
        }
        return [double]$Value
    }
    $Value
}
