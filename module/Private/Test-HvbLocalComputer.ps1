function Test-HvbLocalComputer {
    <#
    .SYNOPSIS
        True when a -ComputerName value names this computer.
    .DESCRIPTION
        Empty, '.', 'localhost', '127.0.0.1', '::1', this computer's NetBIOS name or a name that
        starts with it and a dot (its FQDN) are this computer. Anything else is another host, on
        which the command must run (Invoke-HvbRemoteCommand), never here.
    .PARAMETER ComputerName
        The name to test.
    .EXAMPLE
        PS C:\> Test-HvbLocalComputer -ComputerName HV02
        False
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param([AllowEmptyString()] [AllowNull()] [string] $ComputerName)

    if ([string]::IsNullOrWhiteSpace($ComputerName)) { return $true }
    $name = $ComputerName.Trim()
    if ($name -eq '.' -or $name -eq 'localhost' -or $name -eq '127.0.0.1' -or $name -eq '::1') { return $true }
    $self = [System.Environment]::MachineName
    if ($name -eq $self -or $name.StartsWith("$self.", [System.StringComparison]::OrdinalIgnoreCase)) { return $true }
    $false
}
