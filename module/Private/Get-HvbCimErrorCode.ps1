function Get-HvbCimErrorCode {
    <#
    .SYNOPSIS
        The core's error code for an exception a CIM cmdlet threw.
    .DESCRIPTION
        A CimException carries the MI result as NativeErrorCode (NotFound, InvalidClass, ...):
        the core's CimSession contract names the same failures CimNotFound, CimInvalidClass,
        CimInvalidMethod, CimInvalidParameter and CimInvalidQuery. Access denied becomes
        HyperVAccessDenied; anything else WmiCallFailed, with the exception's message.
    .PARAMETER Exception
        The exception (the ErrorRecord's Exception, or its inner one).
    .EXAMPLE
        PS C:\> try { Get-CimInstance -Namespace root/virtualization/v2 -ClassName Nope } catch { Get-HvbCimErrorCode $_.Exception }
        CimInvalidClass
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [System.Exception] $Exception)

    for ($e = $Exception; $null -ne $e; $e = $e.InnerException) {
        $native = Get-HvbProperty $e 'NativeErrorCode' $null
        if ($null -eq $native) { continue }
        switch ([string]$native) {
            'NotFound' { return 'CimNotFound' }
            'InvalidClass' { return 'CimInvalidClass' }
            'InvalidNamespace' { return 'CimInvalidClass' }
            'MethodNotFound' { return 'CimInvalidMethod' }
            'MethodNotAvailable' { return 'CimInvalidMethod' }
            'InvalidParameter' { return 'CimInvalidParameter' }
            'TypeMismatch' { return 'CimInvalidParameter' }
            'NoSuchProperty' { return 'CimInvalidParameter' }
            'InvalidQuery' { return 'CimInvalidQuery' }
            'QueryLanguageNotSupported' { return 'CimInvalidQuery' }
            'AccessDenied' { return 'HyperVAccessDenied' }
        }
        return 'WmiCallFailed'
    }
    'WmiCallFailed'
}
