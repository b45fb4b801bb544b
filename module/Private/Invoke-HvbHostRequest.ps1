function Invoke-HvbHostRequest {
    <#
    .SYNOPSIS
        Answers one host request of the core with PowerShell's CIM cmdlets.
    .DESCRIPTION
        The core, started with HVBACKUP_HOST=channel, asks for what it needs from Hyper-V's WMI
        (root\virtualization\v2) as host-request events (src/hyperv/transports/channel_session.ts
        describes the lines). Each is answered here with the cmdlets an administrator uses:
          query        Get-CimInstance -Namespace -Query
          get          Get-CimInstance -InputObject (a key-only instance of the target)
          associators  Get-CimAssociatedInstance -InputObject -Association -ResultClassName
          invoke       Get-CimInstance -InputObject, then Invoke-CimMethod -MethodName -Arguments
          class        Get-CimClass -Namespace -ClassName: the class's properties and their CIM
                       types (the core reads them before it builds an embedded instance)
        each with -CimSession when the command was given one, or -ComputerName when the request
        names another node (a cluster's). Returns the answer line: the
        result as {"id","ok":true,"result"}, a failure as {"id","ok":false,"error":{code,message}}
        (a missing instance of 'get' is the result null; a class the namespace lacks is
        CimInvalidClass for 'class' and 'invoke', though Get-CimClass and reading the target may
        say "Not found"). Never throws: whatever goes wrong
        becomes the answer, so the core decides what it means.
    .PARAMETER Request
        The host-request event (parsed JSON).
    .PARAMETER Connection
        The channel's state: CimSession (or $null) and the class cache.
    .EXAMPLE
        PS C:\> $line = Invoke-HvbHostRequest -Request $event -Connection @{ CimSession = $null; Classes = $cache }
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [object] $Request,
        [Parameter(Mandatory)] [hashtable] $Connection
    )

    $id = Get-HvbProperty $Request 'id' $null
    $session = @{}
    $node = Get-HvbProperty $Request 'node' $null
    if (-not [string]::IsNullOrEmpty($node)) {
        # Another computer (a cluster node): the CIM cmdlets connect to it by name, with the
        # caller's credentials; the session given for the host itself is not for it.
        $session['ComputerName'] = [string]$node
    } elseif ($null -ne $Connection.CimSession) {
        $session['CimSession'] = $Connection.CimSession
    }
    $instances = {
        param($Items)
        $list = [System.Collections.Generic.List[object]]::new()
        foreach ($item in @($Items)) { if ($null -ne $item) { $list.Add((ConvertTo-HvbWireInstance -InputObject $item)) } }
        , $list.ToArray()
    }
    $op = ''
    try {
        $op = [string](Get-HvbProperty $Request 'op' '')
        switch ($op) {
            'query' {
                $namespace = [string](Get-HvbProperty $Request 'namespace' 'root\virtualization\v2')
                $found = Get-CimInstance @session -Namespace $namespace -Query ([string]$Request.wql) -ErrorAction Stop
                $result = & $instances $found
            }
            'get' {
                $target = New-HvbCimReference -Ref $Request.target
                $result = $null
                try {
                    $found = Get-CimInstance @session -InputObject $target -ErrorAction Stop
                    if ($null -ne $found) { $result = ConvertTo-HvbWireInstance -InputObject @($found)[0] }
                } catch {
                    if ((Get-HvbCimErrorCode -Exception $_.Exception) -ne 'CimNotFound') { throw }
                }
            }
            'associators' {
                $filter = @{}
                $assocClass = Get-HvbProperty $Request 'assocClass' $null
                $resultClass = Get-HvbProperty $Request 'resultClass' $null
                if (-not [string]::IsNullOrEmpty($assocClass)) { $filter['Association'] = [string]$assocClass }
                if (-not [string]::IsNullOrEmpty($resultClass)) { $filter['ResultClassName'] = [string]$resultClass }
                $target = New-HvbCimReference -Ref $Request.target
                $found = Get-CimAssociatedInstance @session @filter -InputObject $target -ErrorAction Stop
                $result = & $instances $found
            }
            'invoke' {
                $method = [string]$Request.method
                # Read the target first: a live instance carries its class, whose method
                # definition gives each parameter's type.
                $target = @(Get-CimInstance @session -InputObject (New-HvbCimReference -Ref $Request.target) -ErrorAction Stop)[0]
                $parameterTypes = @{}
                $class = Get-HvbProperty $target 'CimClass' $null
                if ($null -ne $class) {
                    $definition = $null
                    foreach ($candidate in @($class.CimClassMethods)) { if ([string]$candidate.Name -eq $method) { $definition = $candidate } }
                    if ($null -ne $definition) {
                        foreach ($parameter in @($definition.Parameters)) { $parameterTypes[[string]$parameter.Name] = [string]$parameter.CimType }
                    }
                }
                $arguments = @{}
                $given = Get-HvbProperty $Request 'args' $null
                if ($null -ne $given) {
                    foreach ($argument in $given.PSObject.Properties) {
                        $cimType = ''
                        if ($parameterTypes.ContainsKey($argument.Name)) { $cimType = $parameterTypes[$argument.Name] }
                        $arguments[$argument.Name] = ConvertTo-HvbCimArgument -Value $argument.Value -CimType $cimType -Connection $Connection
                    }
                }
                $answer = Invoke-CimMethod @session -InputObject $target -MethodName $method -Arguments $arguments -ErrorAction Stop
                $result = [ordered]@{ ReturnValue = $null }
                foreach ($out in @($answer.OutParameters)) {
                    $result[[string]$out.Name] = ConvertTo-HvbWireValue -Value $out.Value -CimType ([string]$out.CimType)
                }
                if ($null -eq $result['ReturnValue']) { $result['ReturnValue'] = $answer.ReturnValue }
            }
            'class' {
                $namespace = [string](Get-HvbProperty $Request 'namespace' 'root\virtualization\v2')
                $class = Get-CimClass @session -Namespace $namespace -ClassName ([string]$Request.className) -ErrorAction Stop
                $properties = [System.Collections.Generic.List[object]]::new()
                foreach ($property in @($class.CimClassProperties)) {
                    # CimType names: UInt8, StringArray, Instance...; the core wants uint8, string + isArray, object.
                    $type = [string]$property.CimType
                    $isArray = $type.EndsWith('Array')
                    if ($isArray) { $type = $type.Substring(0, $type.Length - 5) }
                    if ($type -eq 'Instance') { $type = 'object' }
                    $properties.Add([ordered]@{ name = [string]$property.Name; type = $type.ToLowerInvariant(); isArray = $isArray })
                }
                $result = [ordered]@{ className = [string]$class.CimClassName; properties = $properties.ToArray() }
            }
            default { throw [System.ArgumentException]::new("Unknown host request '$op'.") }
        }
        ConvertTo-HvbJsonText -Value ([ordered]@{ id = $id; ok = $true; result = $result })
    } catch {
        $code = Get-HvbCimErrorCode -Exception $_.Exception
        $message = $_.Exception.Message
        if ($code -eq 'CimNotFound' -and $op -eq 'class') {
            # Get-CimClass answers "Not found" for a class the namespace lacks: to the core that
            # is an invalid class (CimInvalidClass), not a missing instance.
            $code = 'CimInvalidClass'
            $message = "Invalid class '$([string]$Request.className)': $message"
        } elseif ($code -eq 'CimNotFound' -and $op -eq 'invoke') {
            # Reading the target of a class the namespace lacks can answer "Not found" as for a
            # missing instance; the core tells them apart (CimInvalidClass), so ask for the class.
            $className = [string](Get-HvbProperty $Request.target 'className' '')
            $classNamespace = [string](Get-HvbProperty $Request.target 'namespace' 'root\virtualization\v2')
            $classExists = $true
            try { $null = Get-CimClass @session -Namespace $classNamespace -ClassName $className -ErrorAction Stop } catch {
                if ((Get-HvbCimErrorCode -Exception $_.Exception) -in @('CimNotFound', 'CimInvalidClass')) { $classExists = $false }
            }
            if (-not $classExists) {
                $code = 'CimInvalidClass'
                $message = "Invalid class '$className': $message"
            }
        }
        ConvertTo-HvbJsonText -Value ([ordered]@{ id = $id; ok = $false; error = [ordered]@{ code = $code; message = $message } })
    }
}
