function ConvertTo-HvbWireInstance {
    <#
    .SYNOPSIS
        A CIM instance as the core's host channel carries it.
    .DESCRIPTION
        Writes {__CLASS, __NAMESPACE, __SERVER, __KEYS, property: value...}: the core builds the
        instance's object path from these (the CIM cmdlets give no __PATH; Microsoft's
        xHyper-VBackup sample builds it the same way, from the key properties). Key properties
        are the ones flagged Key; failing that the class's properties with a Key qualifier; an
        instance that only names another (a REF out-parameter such as a method's Job carries
        its keys and nothing else) counts every property that has a value as a key.
        With -Embedded, __KEYS is left out: an embedded instance has no path.
    .PARAMETER InputObject
        A CimInstance (or an object shaped like one: CimSystemProperties, CimInstanceProperties).
    .PARAMETER Embedded
        The instance is a value (an embedded instance), not a row with a path.
    .PARAMETER Reference
        The instance only names another one (a reference): properties with values are its keys.
    .EXAMPLE
        PS C:\> ConvertTo-HvbWireInstance -InputObject (Get-CimInstance -Namespace root/virtualization/v2 -ClassName Msvm_ComputerSystem)[0]
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory)] [object] $InputObject,
        [switch] $Embedded,
        [switch] $Reference
    )

    $system = $InputObject.CimSystemProperties
    $out = [ordered]@{
        __CLASS     = [string]$system.ClassName
        __NAMESPACE = [string]$system.Namespace
        __SERVER    = [string]$system.ServerName
    }
    $keys = [System.Collections.Generic.List[string]]::new()
    $properties = @($InputObject.CimInstanceProperties)
    foreach ($property in $properties) {
        if (([string]$property.Flags) -match '\bKey\b') { $keys.Add([string]$property.Name) }
    }
    if ($keys.Count -eq 0) {
        $class = Get-HvbProperty $InputObject 'CimClass' $null
        if ($null -ne $class) {
            foreach ($classProperty in @($class.CimClassProperties)) {
                foreach ($qualifier in @($classProperty.Qualifiers)) {
                    if ([string]$qualifier.Name -eq 'Key') { $keys.Add([string]$classProperty.Name) }
                }
            }
        }
    }
    if ($keys.Count -eq 0 -and $Reference) {
        foreach ($property in $properties) { if ($null -ne $property.Value) { $keys.Add([string]$property.Name) } }
    }
    if (-not $Embedded) { $out['__KEYS'] = $keys.ToArray() }
    foreach ($property in $properties) {
        $out[[string]$property.Name] = ConvertTo-HvbWireValue -Value $property.Value -CimType ([string]$property.CimType)
    }
    $out
}
