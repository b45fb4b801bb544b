function Invoke-HvbRemoteCommand {
    <#
    .SYNOPSIS
        Runs one of the module's commands on another Hyper-V host, through PowerShell remoting.
    .DESCRIPTION
        The data path stays on the host: HyperVBackup, installed there, starts its core there,
        reads the checkpoint's disks there and writes to the repository from there (a UNC path
        the host's computer account can write). Nothing is pulled across the network to this
        computer. Switches travel as booleans (a SwitchParameter does not survive
        serialization), and the command runs there with -Confirm:$false: the caller has already
        asked here. Output and errors come back through Invoke-Command (deserialized objects,
        whose PSComputerName names the host).
    .PARAMETER ComputerName
        The host.
    .PARAMETER Credential
        Credentials for the connection, or $null for the current account.
    .PARAMETER CommandName
        The module's command to run there, e.g. 'New-RecoveryBackup'.
    .PARAMETER Parameters
        Its parameters (ComputerName, Credential and CimSession are left out).
    .EXAMPLE
        PS C:\> Invoke-HvbRemoteCommand -ComputerName HV02 -CommandName New-RecoveryBackup -Parameters @{ VMName = 'web01'; Path = '\\nas\hv-backups' }
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $ComputerName,
        [AllowNull()] [System.Management.Automation.PSCredential] $Credential,
        [Parameter(Mandatory)] [string] $CommandName,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Parameters
    )

    $remote = @{}
    foreach ($key in $Parameters.Keys) {
        if ($key -in @('ComputerName', 'Credential', 'CimSession', 'Confirm', 'WhatIf')) { continue }
        $value = $Parameters[$key]
        if ($value -is [System.Management.Automation.SwitchParameter]) { $value = $value.IsPresent }
        $remote[$key] = $value
    }
    $remote['Confirm'] = $false
    $invoke = @{
        ComputerName = $ComputerName
        ScriptBlock  = {
            param([string] $Name, [hashtable] $Arguments)
            Import-Module HyperVBackup -ErrorAction Stop
            & $Name @Arguments
        }
        ArgumentList = @($CommandName, $remote)
    }
    if ($null -ne $Credential) { $invoke['Credential'] = $Credential }
    Invoke-Command @invoke
}
