function ConvertTo-HvbErrorRecord {
    <#
    .SYNOPSIS
        Builds an ErrorRecord from an error the core reported.
    .DESCRIPTION
        The core reports failures as {code, category, message, target?}. The record's ErrorId is
        the code (so FullyQualifiedErrorId reads 'VhdxFormat,Get-VhdxFileInfo'), its category is
        the ErrorCategory of the same name (NotSpecified when unknown), its TargetObject is the
        target, and its exception is a .NET type that fits the category so that typed catch
        blocks work; the code is also kept in Exception.Data['HvbCode'].
    .PARAMETER Code
        Stable error code from the core, e.g. VhdxFormat, NotFound, Usage.
    .PARAMETER Category
        Name of a System.Management.Automation.ErrorCategory value, e.g. InvalidData.
    .PARAMETER Message
        The human-readable message; it already names the file and what is wrong.
    .PARAMETER Target
        The file, VM or parameter the error concerns.
    .PARAMETER InnerException
        An exception that caused this error, kept as the inner exception.
    .EXAMPLE
        PS C:\> ConvertTo-HvbErrorRecord -Code VhdxFormat -Category InvalidData -Message 'x.vhdx: bad header' -Target 'x.vhdx'
        Returns an ErrorRecord ready for $PSCmdlet.WriteError or ThrowTerminatingError.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)]
        [string] $Code,

        [string] $Category = 'NotSpecified',

        [Parameter(Mandatory)]
        [AllowEmptyString()]
        [string] $Message,

        [AllowNull()]
        [object] $Target,

        [System.Exception] $InnerException
    )

    $errorCategory = $Category -as [System.Management.Automation.ErrorCategory]
    if ($null -eq $errorCategory -or [string]::IsNullOrEmpty($Category)) {
        $errorCategory = [System.Management.Automation.ErrorCategory]::NotSpecified
    }
    if ([string]::IsNullOrWhiteSpace($Message)) { $Message = "The HyperVBackup core failed ($Code)." }

    $exception = switch ([string]$errorCategory) {
        'InvalidArgument' { [System.ArgumentException]::new($Message, $InnerException) }
        'InvalidData' { [System.IO.InvalidDataException]::new($Message, $InnerException) }
        'InvalidOperation' { [System.InvalidOperationException]::new($Message, $InnerException) }
        'ObjectNotFound' { [System.Management.Automation.ItemNotFoundException]::new($Message, $InnerException) }
        'PermissionDenied' { [System.UnauthorizedAccessException]::new($Message, $InnerException) }
        'NotImplemented' { [System.NotImplementedException]::new($Message, $InnerException) }
        'OperationStopped' { [System.OperationCanceledException]::new($Message, $InnerException) }
        { $_ -in 'ReadError', 'WriteError', 'DeviceError' } { [System.IO.IOException]::new($Message, $InnerException) }
        default { [System.Exception]::new($Message, $InnerException) }
    }
    $exception.Data['HvbCode'] = $Code

    [System.Management.Automation.ErrorRecord]::new($exception, $Code, $errorCategory, $Target)
}
