function ConvertTo-HvbEmbeddedInstanceText {
    <#
    .SYNOPSIS
        An embedded instance as the WMI DTD 2.0 text Hyper-V's string-embedded parameters take.
    .DESCRIPTION
        Hyper-V's methods take settings (SnapshotSettings, ExportSettingData, SystemSettings,
        ResourceSettings[]) as strings holding one instance. Each property is written with its
        type from the class definition (Get-CimClass, once per class and run), as Microsoft's
        xHyper-VBackup sample gets it from Get-CimClass before serializing; a property the class
        does not declare is written with a type inferred from its value, and the host decides.
        The same writer runs on every engine (CimSerializer exists only where the native CIM
        client does), so what CI checks is what a host receives.
    .PARAMETER ClassName
        The embedded instance's class.
    .PARAMETER Properties
        Its properties (a PSCustomObject from the request, values already plain).
    .PARAMETER Namespace
        Where the class is defined.
    .PARAMETER Connection
        The channel's connection state (CimSession, class cache).
    .EXAMPLE
        PS C:\> ConvertTo-HvbEmbeddedInstanceText -ClassName Msvm_VirtualSystemSnapshotSettingData -Properties $p -Namespace root\virtualization\v2 -Connection $c
        <INSTANCE CLASSNAME="Msvm_VirtualSystemSnapshotSettingData"><PROPERTY NAME="ConsistencyLevel" TYPE="uint8"><VALUE>1</VALUE></PROPERTY>...</INSTANCE>
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [string] $ClassName,
        [AllowNull()] [object] $Properties,
        [string] $Namespace = 'root\virtualization\v2',
        [Parameter(Mandatory)] [hashtable] $Connection
    )

    $types = $null
    $cacheKey = "$Namespace`:$ClassName"
    if (-not $Connection.Classes.TryGetValue($cacheKey, [ref] $types)) {
        $types = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        $cim = @{ Namespace = $Namespace; ClassName = $ClassName }
        if ($null -ne $Connection.CimSession) { $cim['CimSession'] = $Connection.CimSession }
        $class = Get-CimClass @cim -ErrorAction Stop
        foreach ($classProperty in @($class.CimClassProperties)) { $types[[string]$classProperty.Name] = [string]$classProperty.CimType }
        $Connection.Classes[$cacheKey] = $types
    }

    $escape = { param([string] $Text) [System.Security.SecurityElement]::Escape($Text) }
    $invariant = [System.Globalization.CultureInfo]::InvariantCulture
    $text = { param($Item) if ($Item -is [bool]) { if ($Item) { 'true' } else { 'false' } } elseif ($Item -is [System.IFormattable]) { $Item.ToString($null, $invariant) } else { [string]$Item } }
    $builder = [System.Text.StringBuilder]::new()
    [void]$builder.Append('<INSTANCE CLASSNAME="').Append((& $escape $ClassName)).Append('">')
    if ($null -ne $Properties) {
        foreach ($property in $Properties.PSObject.Properties) {
            $value = $property.Value
            $cimType = $null
            if (-not $types.TryGetValue($property.Name, [ref] $cimType)) {
                $sample = $value
                if ($value -is [System.Array]) {
                    $sample = $null
                    foreach ($element in $value) { if ($null -eq $sample) { $sample = $element } }
                }
                $cimType = 'String'
                if ($sample -is [bool]) { $cimType = 'Boolean' }
                elseif ($sample -is [double] -or $sample -is [decimal]) { $cimType = 'Real64' }
                elseif ($sample -is [int] -or $sample -is [long]) { $cimType = 'SInt64' }
                if ($value -is [System.Array]) { $cimType += 'Array' }
            }
            $dtdType = ($cimType -replace 'Array$', '').ToLowerInvariant()
            if ($dtdType -eq 'instance' -or $dtdType -eq 'reference' -or $dtdType -eq 'unknown') { $dtdType = 'string' }
            $name = & $escape $property.Name
            if ($cimType.EndsWith('Array') -or $value -is [System.Array]) {
                [void]$builder.Append('<PROPERTY.ARRAY NAME="').Append($name).Append('" TYPE="').Append($dtdType).Append('">')
                if ($null -ne $value) {
                    [void]$builder.Append('<VALUE.ARRAY>')
                    foreach ($element in @($value)) { [void]$builder.Append('<VALUE>').Append((& $escape (& $text $element))).Append('</VALUE>') }
                    [void]$builder.Append('</VALUE.ARRAY>')
                }
                [void]$builder.Append('</PROPERTY.ARRAY>')
            } else {
                [void]$builder.Append('<PROPERTY NAME="').Append($name).Append('" TYPE="').Append($dtdType).Append('">')
                if ($null -ne $value) { [void]$builder.Append('<VALUE>').Append((& $escape (& $text $value))).Append('</VALUE>') }
                [void]$builder.Append('</PROPERTY>')
            }
        }
    }
    [void]$builder.Append('</INSTANCE>')
    $builder.ToString()
}
