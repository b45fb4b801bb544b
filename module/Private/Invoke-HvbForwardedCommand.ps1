function Invoke-HvbForwardedCommand {
    <#
    .SYNOPSIS
        Runs the calling public command again on another host, with the parameters it was given.
    .DESCRIPTION
        The one place where a public command hands its work to another Hyper-V host (a
        -ComputerName, or a Get-VM object's ComputerName): the bound parameters are copied, those
        named in -Exclude are left out, -Override replaces or adds values (for example the VM
        names gathered from the pipeline), and Invoke-HvbRemoteCommand runs the command there
        through PowerShell remoting. Connection parameters (ComputerName, Credential,
        CimSession) never travel: on the host the command runs locally.
    .PARAMETER BoundParameters
        The caller's $PSBoundParameters.
    .PARAMETER ComputerName
        The host.
    .PARAMETER Credential
        Credentials for the connection, or $null for the current account.
    .PARAMETER CommandName
        The public command to run there (normally the caller's own name).
    .PARAMETER Exclude
        Parameters that stay here (e.g. OutFile, which is written on this computer).
    .PARAMETER Override
        Values that replace or add to the bound ones.
    .EXAMPLE
        PS C:\> Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName HV02 -Credential $Credential -CommandName 'Restore-VMFromBackup'
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Collections.IDictionary] $BoundParameters,
        [Parameter(Mandatory)] [string] $ComputerName,
        [AllowNull()] [System.Management.Automation.PSCredential] $Credential,
        [Parameter(Mandatory)] [string] $CommandName,
        [string[]] $Exclude = @(),
        [System.Collections.IDictionary] $Override = @{}
    )

    $forwarded = @{}
    foreach ($key in $BoundParameters.Keys) {
        if ($Exclude -notcontains $key) { $forwarded[$key] = $BoundParameters[$key] }
    }
    foreach ($key in $Override.Keys) { $forwarded[$key] = $Override[$key] }
    Invoke-HvbRemoteCommand -ComputerName $ComputerName -Credential $Credential -CommandName $CommandName -Parameters $forwarded
}
