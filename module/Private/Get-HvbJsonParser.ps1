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
