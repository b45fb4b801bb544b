function ConvertTo-HvbJsonText {
    <#
    .SYNOPSIS
        One line of JSON for a value: the module's writer for the lines it sends the core.
    .DESCRIPTION
        ConvertTo-Json is not in every engine the module runs on (docs/powershell-host.md), and
        its depth limit and date handling would change what the core receives. Dictionaries
        become objects (keys in their order), other enumerables arrays, PSCustomObjects objects
        of their properties; numbers are written in the invariant culture; every character
        outside printable ASCII is escaped, so the line is the same bytes in any stdin encoding.
    .PARAMETER Value
        The value to write.
    .EXAMPLE
        PS C:\> ConvertTo-HvbJsonText -Value ([ordered]@{ id = 1; ok = $true })
        {"id":1,"ok":true}
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowNull()] [object] $Value)

    $builder = [System.Text.StringBuilder]::new()
    $write = $null
    $write = {
        param($Item)
        if ($null -eq $Item) { [void]$builder.Append('null'); return }
        if ($Item -is [System.Management.Automation.PSObject] -and $Item -isnot [System.Management.Automation.PSCustomObject]) { $Item = $Item.psobject.BaseObject }
        if ($Item -is [bool]) { [void]$builder.Append($(if ($Item) { 'true' } else { 'false' })); return }
        if ($Item -is [string] -or $Item -is [char] -or $Item -is [guid] -or $Item -is [enum]) {
            [void]$builder.Append('"')
            foreach ($c in ([string]$Item).ToCharArray()) {
                $code = [int]$c
                if ($c -eq '"') { [void]$builder.Append('\"') }
                elseif ($c -eq '\') { [void]$builder.Append('\\') }
                elseif ($code -lt 0x20 -or $code -gt 0x7e) { [void]$builder.Append('\u').Append($code.ToString('x4')) }
                else { [void]$builder.Append($c) }
            }
            [void]$builder.Append('"')
            return
        }
        if ($Item -is [double] -or $Item -is [single]) {
            if ([double]::IsNaN($Item) -or [double]::IsInfinity($Item)) { [void]$builder.Append('null') }
            else { [void]$builder.Append(([double]$Item).ToString('R', [System.Globalization.CultureInfo]::InvariantCulture)) }
            return
        }
        if ($Item -is [byte] -or $Item -is [sbyte] -or $Item -is [int16] -or $Item -is [uint16] -or $Item -is [int] -or
            $Item -is [uint32] -or $Item -is [long] -or $Item -is [uint64] -or $Item -is [decimal]) {
            [void]$builder.Append(([System.IFormattable]$Item).ToString($null, [System.Globalization.CultureInfo]::InvariantCulture))
            return
        }
        if ($Item -is [System.Collections.IDictionary]) {
            [void]$builder.Append('{')
            $first = $true
            foreach ($key in $Item.Keys) {
                if (-not $first) { [void]$builder.Append(',') }
                $first = $false
                & $write ([string]$key)
                [void]$builder.Append(':')
                & $write $Item[$key]
            }
            [void]$builder.Append('}')
            return
        }
        if ($Item -is [System.Management.Automation.PSCustomObject]) {
            [void]$builder.Append('{')
            $first = $true
            foreach ($property in $Item.PSObject.Properties) {
                if (-not $first) { [void]$builder.Append(',') }
                $first = $false
                & $write $property.Name
                [void]$builder.Append(':')
                & $write $property.Value
            }
            [void]$builder.Append('}')
            return
        }
        if ($Item -is [System.Collections.IEnumerable]) {
            [void]$builder.Append('[')
            $first = $true
            foreach ($element in $Item) {
                if (-not $first) { [void]$builder.Append(',') }
                $first = $false
                & $write $element
            }
            [void]$builder.Append(']')
            return
        }
        & $write ([string]$Item)
    }
    & $write $Value
    $builder.ToString()
}
