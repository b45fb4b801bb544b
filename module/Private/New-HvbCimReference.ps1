function New-HvbCimReference {
    <#
    .SYNOPSIS
        A key-only client-side CIM instance naming the instance the core's request targets.
    .DESCRIPTION
        The core names instances by object path, which the channel sends taken apart
        ({className, namespace, host, keys}). New-CimInstance -ClientOnly with those keys gives
        the CIM cmdlets what they take for -InputObject and for REF arguments; nothing is read
        from the host here.
    .PARAMETER Ref
        The request's target (className, namespace, keys).
    .EXAMPLE
        PS C:\> New-HvbCimReference -Ref $request.target | Get-CimInstance
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [object] $Ref)

    $properties = @{}
    $keyNames = [System.Collections.Generic.List[string]]::new()
    $keys = Get-HvbProperty $Ref 'keys' $null
    if ($null -ne $keys) {
        foreach ($key in $keys.PSObject.Properties) {
            $properties[$key.Name] = $key.Value
            $keyNames.Add($key.Name)
        }
    }
    $namespace = [string](Get-HvbProperty $Ref 'namespace' 'root\virtualization\v2')
    if ($keyNames.Count -eq 0) {
        return (New-CimInstance -ClassName ([string]$Ref.className) -Namespace $namespace -ClientOnly -Property $properties)
    }
    New-CimInstance -ClassName ([string]$Ref.className) -Namespace $namespace -ClientOnly -Property $properties -Key $keyNames.ToArray()
}
