# Stand-ins for PowerShell's CIM cmdlets, answered by a lab host, for the tests of the module's
# host channel (channel.test.ts). Dot-source this file after setting
#   $global:HvbStandIn = @{ Lab = '<lab folder>'; Node = '<node>'; Cli = '<hvbackup.cjs>'; Log = [System.Collections.Generic.List[string]]::new() }
# It defines global functions named like the cmdlets (functions win over cmdlets, so the module
# calls these), taking the cmdlets' parameters and returning objects shaped like CimInstance and
# CimMethodResult (CimSystemProperties, CimInstanceProperties with Name/Value/CimType/Flags,
# OutParameters), as the real ones are on a Hyper-V host. Underneath, each runs
# `hvbackup lab cim query|get|associators|invoke --events` against the lab. Like WMI they:
# - give datetimes as [datetime] and REF properties/out-parameters as key-only instances;
# - give string-embedded out-parameters (GetVirtualHardDiskState's State...) as DTD 2.0 text,
#   and parse the DTD 2.0 text the module sends for embedded arguments (by its TYPE attributes);
# - fail with an exception whose NativeErrorCode names the MI result (NotFound, InvalidClass...).
# Every call is logged in $global:HvbStandIn.Log as 'Cmdlet:detail'.

$global:HvbStandIn['Dir'] = $PSScriptRoot

function global:Invoke-HvbStandInLab {
    # One `hvbackup lab <words> --lab L --events` run, in the long-lived lab_cim_server.cjs.
    param([string[]] $Words, [string] $Namespace, [string] $ComputerName)
    if ($Namespace) { $Words += @('--namespace', $Namespace.Replace('/', '\')) }
    if ($ComputerName) { $Words += @('--node', $ComputerName) }
    if ($null -eq $global:HvbStandIn['Server']) {
        $start = [System.Diagnostics.ProcessStartInfo]::new()
        $start.FileName = $global:HvbStandIn.Node
        $start.ArgumentList.Add([System.IO.Path]::Combine($global:HvbStandIn['Dir'], 'lab_cim_server.cjs'))
        $start.ArgumentList.Add($global:HvbStandIn.Cli)
        $start.UseShellExecute = $false
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $global:HvbStandIn['Server'] = [System.Diagnostics.Process]::Start($start)
    }
    $server = $global:HvbStandIn['Server']
    $all = @('lab') + $Words + @('--lab', $global:HvbStandIn.Lab)
    $server.StandardInput.WriteLine((& (Get-Module HyperVBackup) { param($v) ConvertTo-HvbJsonText -Value $v } $all))
    $server.StandardInput.Flush()
    $last = $server.StandardOutput.ReadLine()
    $event = & (Get-Module HyperVBackup) { param($j) ConvertFrom-HvbJson -Json $j } $last
    if ($event.type -eq 'error') {
        $native = switch ([string]$event.code) {
            'CimNotFound' { 'NotFound' }
            'CimInvalidClass' { 'InvalidClass' }
            'CimInvalidMethod' { 'MethodNotFound' }
            'CimInvalidParameter' { 'InvalidParameter' }
            'CimInvalidQuery' { 'InvalidQuery' }
            default { 'Failed' }
        }
        $exception = [System.InvalidOperationException]::new([string]$event.message)
        $exception.PSObject.Properties.Add([psnoteproperty]::new('NativeErrorCode', $native))
        throw $exception
    }
    , $event.data
}

function global:ConvertTo-HvbStandInPath {
    # The namespace-relative object path of a (key-only) instance, from its Key-flagged properties.
    param($Instance)
    $pairs = @(foreach ($p in $Instance.CimInstanceProperties) {
            if ([string]$p.Flags -match 'Key') {
                $v = $p.Value
                if ($v -is [string]) { "$($p.Name)=""$($v.Replace('\', '\\').Replace('"', '\"'))""" } else { "$($p.Name)=$v" }
            }
        })
    $Instance.CimSystemProperties.Namespace.Replace('/', '\') + ':' + $Instance.CimSystemProperties.ClassName + $(if ($pairs.Count) { '.' + ($pairs -join ',') } else { '=@' })
}

function global:ConvertTo-HvbStandInDtd {
    # An embedded instance (lab object with __CLASS) as DTD 2.0 text, as WMI gives string-embedded values.
    param($Object)
    $sb = [System.Text.StringBuilder]::new()
    [void]$sb.Append("<INSTANCE CLASSNAME=""$($Object.__CLASS)"">")
    foreach ($p in $Object.PSObject.Properties) {
        if ($p.Name.StartsWith('__')) { continue }
        if ($p.Value -is [System.Array]) {
            [void]$sb.Append("<PROPERTY.ARRAY NAME=""$($p.Name)"" TYPE=""string""><VALUE.ARRAY>")
            foreach ($e in $p.Value) { [void]$sb.Append('<VALUE>').Append([System.Security.SecurityElement]::Escape([string]$e)).Append('</VALUE>') }
            [void]$sb.Append('</VALUE.ARRAY></PROPERTY.ARRAY>')
        } else {
            [void]$sb.Append("<PROPERTY NAME=""$($p.Name)"" TYPE=""string"">")
            if ($null -ne $p.Value) { [void]$sb.Append('<VALUE>').Append([System.Security.SecurityElement]::Escape([string]$p.Value)).Append('</VALUE>') }
            [void]$sb.Append('</PROPERTY>')
        }
    }
    [void]$sb.Append('</INSTANCE>').ToString()
}

function global:ConvertFrom-HvbStandInDtd {
    # DTD 2.0 text the module sent for an embedded argument -> the lab's object, typed by TYPE.
    param([string] $Text)
    $xml = [xml]$Text
    $out = [ordered]@{ __CLASS = $xml.INSTANCE.CLASSNAME }
    $typed = {
        param([string] $Type, [string] $Value)
        switch -regex ($Type) {
            '^boolean$' { return [bool]::Parse($Value) }
            '^(u|s)int(8|16|32|64)$' { return [long]$Value }
            '^real' { return [double]::Parse($Value, [System.Globalization.CultureInfo]::InvariantCulture) }
            '^(string|datetime|char16|reference)$' { return $Value }
            default { throw "The stand-in WMI does not know DTD type '$Type'" }
        }
    }
    foreach ($node in $xml.INSTANCE.ChildNodes) {
        if (-not $node.GetAttribute('TYPE')) { throw "Property $($node.GetAttribute('NAME')) has no TYPE" }
        if ($node.LocalName -eq 'PROPERTY') {
            $value = $null
            if ($node['VALUE']) { $value = & $typed $node.GetAttribute('TYPE') $node['VALUE'].InnerText }
            $out[$node.GetAttribute('NAME')] = $value
        } elseif ($node.LocalName -eq 'PROPERTY.ARRAY') {
            $out[$node.GetAttribute('NAME')] = @(foreach ($v in $node.SelectNodes('VALUE.ARRAY/VALUE')) { & $typed $node.GetAttribute('TYPE') $v.InnerText })
        } else { throw "Unexpected element $($node.LocalName)" }
    }
    $out
}

function global:New-HvbStandInInstance {
    # A CimInstance-shaped object: from a lab instance (keys taken from its __PATH), or from key values.
    param([string] $ClassName, [string] $Server, [System.Collections.IDictionary] $Properties, [string[]] $Keys, [string] $Namespace = 'root/virtualization/v2')
    $list = [System.Collections.Generic.List[object]]::new()
    $instance = [pscustomobject]@{
        CimSystemProperties   = [pscustomobject]@{ ClassName = $ClassName; Namespace = $Namespace.Replace('\', '/'); ServerName = $Server; Path = $null }
        CimInstanceProperties = $list
    }
    foreach ($name in $Properties.Keys) {
        $value = $Properties[$name]
        $type = 'String'
        if ($value -is [bool]) { $type = 'Boolean' }
        elseif ($value -is [long] -or $value -is [int]) { $type = 'UInt64' }
        elseif ($value -is [double]) { $type = 'Real64' }
        elseif ($value -is [string] -and $value -match '^\d{14}\.\d{6}[+-]\d{3}$') {
            $type = 'DateTime'
            $value = [datetime]::ParseExact($value.Substring(0, 21), 'yyyyMMddHHmmss.ffffff', [System.Globalization.CultureInfo]::InvariantCulture,
                [System.Globalization.DateTimeStyles]::AssumeUniversal -bor [System.Globalization.DateTimeStyles]::AdjustToUniversal)
        } elseif ($value -is [string] -and $value -match '^\\\\[^\\]+\\[^:]+:\w+[.=]') {
            $type = 'Reference'
            $value = ConvertFrom-HvbStandInPath $value
        } elseif ($value -is [System.Array]) {
            $type = 'StringArray'
            if (@($value | Where-Object { $_ -is [long] }).Count -gt 0) { $type = 'UInt16Array' }
        } elseif ($null -ne $value -and $value -isnot [string]) {
            $type = 'String'
            $value = ConvertTo-HvbStandInDtd $value
        }
        $flags = if ($Keys -contains $name) { 'Property, Key' } else { 'Property' }
        $list.Add([pscustomobject]@{ Name = $name; Value = $value; CimType = $type; Flags = $flags })
        $instance.PSObject.Properties.Add([psnoteproperty]::new($name, $value))
    }
    $instance
}

function global:ConvertFrom-HvbStandInPath {
    # A lab object path -> a key-only CimInstance-shaped object (what WMI gives for a REF).
    param([string] $Path)
    if ($Path -notmatch '^\\\\([^\\]+)\\([^:]+):(\w+)(?:\.(.*)|=@)?$') { throw "Not an object path: $Path" }
    $server = $Matches[1]; $ns = $Matches[2]; $class = $Matches[3]; $rest = [string]$Matches[4]
    $props = [ordered]@{}
    foreach ($m in [regex]::Matches($rest, '(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,]*))')) {
        if ($m.Groups[2].Success) { $props[$m.Groups[1].Value] = [regex]::Replace($m.Groups[2].Value, '\\(.)', '$1') }
        else { $props[$m.Groups[1].Value] = [long]$m.Groups[3].Value }
    }
    New-HvbStandInInstance -ClassName $class -Server $server -Properties $props -Keys @($props.Keys) -Namespace $ns
}

function global:ConvertFrom-HvbStandInLab {
    # A lab instance (JSON object) -> a CimInstance-shaped object.
    param($Row)
    $key = ConvertFrom-HvbStandInPath $Row.__PATH
    $props = [ordered]@{}
    foreach ($p in $Row.PSObject.Properties) { if (-not $p.Name.StartsWith('__')) { $props[$p.Name] = $p.Value } }
    $keys = @(foreach ($p in $key.CimInstanceProperties) { $p.Name })
    New-HvbStandInInstance -ClassName $Row.__CLASS -Server $key.CimSystemProperties.ServerName -Properties $props -Keys $keys -Namespace $key.CimSystemProperties.Namespace
}

function global:Get-CimInstance {
    [CmdletBinding()]
    param([string] $Namespace = 'root\cimv2', [string] $Query, [string] $ClassName, [object] $InputObject, [object] $CimSession, [string] $ComputerName)
    if ($null -ne $CimSession) { [void]$global:HvbStandIn.Log.Add("CimSession:$($CimSession.Name)") }
    if ($null -ne $InputObject) {
        $path = ConvertTo-HvbStandInPath $InputObject
        [void]$global:HvbStandIn.Log.Add("Get-CimInstance:$path")
        return (ConvertFrom-HvbStandInLab (Invoke-HvbStandInLab @('cim', 'get', '--path', $path) -Namespace $InputObject.CimSystemProperties.Namespace -ComputerName $ComputerName))
    }
    if (-not $Query) { $Query = "SELECT * FROM $ClassName" }
    [void]$global:HvbStandIn.Log.Add("Get-CimInstance:$Query")
    foreach ($row in (Invoke-HvbStandInLab @('cim', 'query', $Query) -Namespace $Namespace -ComputerName $ComputerName)) { ConvertFrom-HvbStandInLab $row }
}

function global:Get-CimAssociatedInstance {
    [CmdletBinding()]
    param([object] $InputObject, [string] $Association, [string] $ResultClassName, [object] $CimSession, [string] $ComputerName)
    $words = @('cim', 'associators', '--path', (ConvertTo-HvbStandInPath $InputObject))
    if ($Association) { $words += @('--assoc-class', $Association) }
    if ($ResultClassName) { $words += @('--result-class', $ResultClassName) }
    [void]$global:HvbStandIn.Log.Add("Get-CimAssociatedInstance:$($InputObject.CimSystemProperties.ClassName):$Association`:$ResultClassName")
    foreach ($row in (Invoke-HvbStandInLab $words -Namespace $InputObject.CimSystemProperties.Namespace -ComputerName $ComputerName)) { ConvertFrom-HvbStandInLab $row }
}

function global:New-CimInstance {
    [CmdletBinding()]
    param([string] $ClassName, [string] $Namespace = 'root/cimv2', [System.Collections.IDictionary] $Property, [string[]] $Key, [switch] $ClientOnly)
    if (-not $ClientOnly) { throw 'The stand-in makes client-only instances only' }
    New-HvbStandInInstance -ClassName $ClassName -Server '' -Properties $Property -Keys $Key -Namespace $Namespace
}

function global:Get-CimClass {
    # The class as the lab's host version declares it (`lab cim class`), named as the host spells
    # it, with CimType names as the cmdlet gives them (UInt8, StringArray, Instance...); a class
    # the lab serves but declares no schema for comes back without properties, and the module
    # infers types from values. A class the lab does not serve at all fails NotFound, as the real
    # cmdlet fails for a class the namespace lacks ("Not found").
    [CmdletBinding()]
    param([string] $Namespace, [string] $ClassName, [object] $CimSession, [string] $ComputerName)
    [void]$global:HvbStandIn.Log.Add("Get-CimClass:$ClassName")
    $names = @{ boolean = 'Boolean'; uint8 = 'UInt8'; sint8 = 'SInt8'; uint16 = 'UInt16'; sint16 = 'SInt16'; uint32 = 'UInt32'; sint32 = 'SInt32'
        uint64 = 'UInt64'; sint64 = 'SInt64'; real32 = 'Real32'; real64 = 'Real64'; string = 'String'; char16 = 'Char16'; datetime = 'DateTime'
        reference = 'Reference'; object = 'Instance' }
    $properties = @()
    $schema = $null
    try { $schema = Invoke-HvbStandInLab @('cim', 'class', '--class', $ClassName) -Namespace $Namespace -ComputerName $ComputerName } catch { if ([string]$_.Exception.NativeErrorCode -ne 'InvalidClass') { throw } }
    $name = $ClassName
    if ($null -ne $schema) {
        $name = [string]$schema.className
        $properties = @(foreach ($p in $schema.properties) { [pscustomobject]@{ Name = [string]$p.name; CimType = $names[[string]$p.type] + $(if ($p.isArray) { 'Array' } else { '' }) } })
    } else {
        try { $null = Invoke-HvbStandInLab @('cim', 'query', "SELECT * FROM $ClassName") -Namespace $Namespace -ComputerName $ComputerName }
        catch {
            if ([string]$_.Exception.NativeErrorCode -ne 'InvalidClass') { throw }
            $exception = [System.InvalidOperationException]::new('Not found')
            $exception.PSObject.Properties.Add([psnoteproperty]::new('NativeErrorCode', 'NotFound'))
            throw $exception
        }
    }
    [pscustomobject]@{ CimClassName = $name; CimClassProperties = $properties; CimClassMethods = @() }
}

function global:Invoke-CimMethod {
    [CmdletBinding()]
    param([object] $InputObject, [string] $MethodName, [System.Collections.IDictionary] $Arguments, [object] $CimSession, [string] $ComputerName)
    $path = ConvertTo-HvbStandInPath $InputObject
    [void]$global:HvbStandIn.Log.Add("Invoke-CimMethod:$($InputObject.CimSystemProperties.ClassName).$MethodName")
    $convert = $null
    $convert = {
        param($Value)
        if ($null -eq $Value) { return $null }
        if ($Value -is [System.Array]) { return , @(foreach ($e in $Value) { & $convert $e }) }
        if ($null -ne $Value.PSObject.Properties['CimInstanceProperties']) { return (ConvertTo-HvbStandInPath $Value) }
        if ($Value -is [string] -and $Value.StartsWith('<INSTANCE')) { return (ConvertFrom-HvbStandInDtd $Value) }
        if ($Value -is [string]) { return $Value }
        if ($Value -is [bool] -or $Value -is [int] -or $Value -is [long] -or $Value -is [byte] -or $Value -is [uint16] -or $Value -is [uint32] -or $Value -is [uint64] -or $Value -is [double]) { return $Value }
        throw "The stand-in cannot pass a $($Value.GetType().FullName) to WMI"
    }
    $args2 = [ordered]@{}
    foreach ($name in $Arguments.Keys) { $args2[$name] = & $convert $Arguments[$name] }
    $json = & (Get-Module HyperVBackup) { param($v) ConvertTo-HvbJsonText -Value $v } $args2
    $result = Invoke-HvbStandInLab @('cim', 'invoke', '--path', $path, '--method', $MethodName, '--args', $json) -Namespace $InputObject.CimSystemProperties.Namespace -ComputerName $ComputerName
    $outs = [System.Collections.Generic.List[object]]::new()
    foreach ($p in $result.PSObject.Properties) {
        if ($p.Name -eq 'ReturnValue') { continue }
        $shaped = New-HvbStandInInstance -ClassName 'Out' -Server '' -Properties ([ordered]@{ $p.Name = $p.Value }) -Keys @()
        $outs.Add($shaped.CimInstanceProperties[0])
    }
    # A test hook: told each method that ran (channel.test.ts stops a backup after CreateSnapshot).
    if ($global:HvbStandIn.ContainsKey('OnInvoke')) { & $global:HvbStandIn.OnInvoke $MethodName }
    [pscustomobject]@{ ReturnValue = [uint32]$result.ReturnValue; OutParameters = $outs.ToArray() }
}
