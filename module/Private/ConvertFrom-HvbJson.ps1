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
