function ConvertFrom-HvbJson {
    <#
    .SYNOPSIS
        Parses one JSON text into PSCustomObjects, arrays and scalars.
    .DESCRIPTION
        ConvertFrom-Json is a Microsoft.PowerShell.Utility cmdlet, which the core-only engine
        lacks, so the module parses JSON with .NET: System.Text.Json where it exists (PowerShell 7),
        otherwise JavaScriptSerializer from System.Web.Extensions (Windows PowerShell 5.1).
        Objects become [pscustomobject] with properties in document order, arrays become
        object[], integers become [long] (or [double] when they do not fit), true/false/null
        become $true/$false/$null. Throws when the text is not valid JSON.
    .PARAMETER Json
        The JSON text: one value (object, array, string, number, true, false or null).
    .EXAMPLE
        PS C:\> ConvertFrom-HvbJson -Json '{"type":"warning","message":"low disk space"}'
        Returns an object with the properties type and message.
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param(
        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [string] $Json
    )

    $parser = Get-HvbJsonParser
    if ($parser -eq 'SystemTextJson') {
        $options = [System.Text.Json.JsonDocumentOptions]::new()
        $options.AllowTrailingCommas = $false
        $options.MaxDepth = 256
        $document = [System.Text.Json.JsonDocument]::Parse($Json, $options)
        try {
            , (ConvertFrom-HvbJsonElement -Element $document.RootElement)
        } finally {
            $document.Dispose()
        }
    } else {
        $serializer = [System.Web.Script.Serialization.JavaScriptSerializer]::new()
        $serializer.MaxJsonLength = [int]::MaxValue
        $serializer.RecursionLimit = 256
        , (ConvertFrom-HvbJsonValue -Value $serializer.DeserializeObject($Json))
    }
}

# The JSON API chosen for this session (Get-HvbJsonParser); set on first use.
$script:HvbJsonParser = $null

function Get-HvbJsonParser {
    # Picks the JSON API once per session: 'SystemTextJson' or 'JavaScriptSerializer'.
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if ($script:HvbJsonParser) { return $script:HvbJsonParser }
    if ($null -eq ('System.Text.Json.JsonDocument' -as [type])) {
        try { [void][System.Reflection.Assembly]::Load('System.Text.Json') } catch { $null = $_ }
    }
    if ($null -ne ('System.Text.Json.JsonDocument' -as [type])) {
        $script:HvbJsonParser = 'SystemTextJson'
    } else {
        if ($null -eq ('System.Web.Script.Serialization.JavaScriptSerializer' -as [type])) {
            [void][System.Reflection.Assembly]::Load('System.Web.Extensions, Version=4.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35')
        }
        $script:HvbJsonParser = 'JavaScriptSerializer'
    }
    $script:HvbJsonParser
}

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
