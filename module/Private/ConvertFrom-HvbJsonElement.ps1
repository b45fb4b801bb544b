function ConvertFrom-HvbJsonElement {
    # One System.Text.Json.JsonElement to PowerShell values; arrays are returned unrolled-safe.
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Element)

    switch ([string]$Element.ValueKind) {
        'Object' {
            $properties = [ordered]@{}
            foreach ($property in $Element.EnumerateObject()) {
                $properties[$property.Name] = ConvertFrom-HvbJsonElement -Element $property.Value
            }
            return [pscustomobject]$properties
        }
        'Array' {
            $items = [System.Collections.Generic.List[object]]::new()
            foreach ($item in $Element.EnumerateArray()) {
                $items.Add((ConvertFrom-HvbJsonElement -Element $item))
            }
            return , $items.ToArray()
        }
        'String' { return $Element.GetString() }
        'Number' {
            [long] $integer = 0
            if ($Element.TryGetInt64([ref] $integer)) { return $integer }
            return $Element.GetDouble()
        }
        'True' { return $true }
        'False' { return $false }
        default { return $null }
    }
}
