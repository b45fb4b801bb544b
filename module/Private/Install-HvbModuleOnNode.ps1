function Install-HvbModuleOnNode {
    <#
    .SYNOPSIS
        Makes sure this version of HyperVBackup is installed on a cluster node, copying it there if not.
    .DESCRIPTION
        A node's backups run on the node (PowerShell remoting), so the module must be there. If
        Get-Module -ListAvailable on the node does not list this version, the module's folder is
        copied through a PSSession into
        <ProgramFiles>\WindowsPowerShell\Modules\HyperVBackup\<version> on the node: the layout
        Save-Module and Install-Module make, which Windows PowerShell 5.1 finds by name. The
        package carries the core (bin\hvbackup.exe), so the node needs nothing else.
    .PARAMETER ComputerName
        The node.
    .PARAMETER Credential
        Credentials for the connection, or $null.
    .EXAMPLE
        PS C:\> Install-HvbModuleOnNode -ComputerName NODE2 -Credential $null
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $ComputerName,
        [AllowNull()] [System.Management.Automation.PSCredential] $Credential
    )

    $module = $MyInvocation.MyCommand.Module
    $version = [string]$module.Version
    $connection = @{ ComputerName = $ComputerName }
    if ($null -ne $Credential) { $connection['Credential'] = $Credential }
    $probe = {
        param([string] $Version)
        @(Get-Module -ListAvailable -Name HyperVBackup | Where-Object { [string]$_.Version -eq $Version }).Count -gt 0
    }
    $present = Invoke-Command @connection -ScriptBlock $probe -ArgumentList $version
    if ([bool]$present) { return }
    $session = New-PSSession @connection
    try {
        $target = Invoke-Command -Session $session -ScriptBlock {
            param([string] $Version)
            [System.IO.Path]::Combine([System.Environment]::GetFolderPath('ProgramFiles'), 'WindowsPowerShell', 'Modules', 'HyperVBackup', $Version)
        } -ArgumentList $version
        $PSCmdlet.WriteVerbose("Copying HyperVBackup $version to $ComputerName ($target).")
        # The whole folder the manifest is in, as Save-Module lays it out.
        Copy-Item -Path ([System.IO.Path]::Combine($module.ModuleBase, '*')) -Destination $target -ToSession $session -Recurse -Force
    } finally {
        Remove-PSSession -Session $session
    }
}
