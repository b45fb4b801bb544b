function Get-VMBackupReadiness {
    <#
    .SYNOPSIS
        Tells what the next backup of a VM will do, and why.
    .DESCRIPTION
        Looks at a virtual machine on the host (and, with -Path, at its backups in a repository)
        without changing anything, and returns a HyperVBackup.BackupReadiness object: VMName,
        VMId, State, ConfigurationVersion, Generation, Ready and NotReady (when a backup of the
        VM alone would be refused - a node of a guest cluster sharing a VHD Set, a shared VHDX -
        NotReady's Code and Message give the backup's own refusal, and which VM group to back
        up instead), NextBackup (Full or Incremental; None when not ready), ExpectedConsistency
        (Application or CrashConsistent), Disks (per disk the method the next backup will use -
        rct, hash or full - and the reason when it is not RCT) and
        Warnings (for example a missing SCSI controller, a backup integration service that is
        off, or a configuration version older than 6.2, which has no RCT).

        Use it before the first backup of a VM, or to find out why backups of a VM are full or
        hashed instead of RCT incrementals.
    .PARAMETER VMName
        The virtual machine(s) to look at, by name or id. Accepts pipeline input: strings, and
        objects with a Name or VMName property such as the VMs of Get-VM.
    .PARAMETER Path
        The repository the VM is backed up to. Without it the answer is what a first backup
        would do. Alias: Repository. Not taken from the pipeline, because the VMs of Get-VM have
        a Path property of their own.
    .PARAMETER LabPath
        Look at a VM of a lab host (an emulated Hyper-V host in this folder) instead of the local
        Hyper-V host. For rehearsals and tests; the HYPERVBACKUP_LAB environment variable does
        the same.
    .PARAMETER EnableException
        Turn a failure (an unknown VM) into a terminating error instead of a non-terminating one.
    .PARAMETER ComputerName
        Ask another Hyper-V host, through PowerShell remoting (HyperVBackup must be installed
        there; give -Path as that host sees it). Bound from a Get-VM object's ComputerName, so a
        VM of another host is never taken for a local VM of the same name.
    .PARAMETER Credential
        Credentials for the connection to -ComputerName.
    .PARAMETER CimSession
        The CimSession the host requests use (the local host only; see docs/windows.md).
    .EXAMPLE
        PS C:\> Get-VMBackupReadiness -VMName web01 -Path \\nas\hv-backups
        Shows whether web01's next backup to that repository will be an RCT incremental, and if not, why.
    .EXAMPLE
        PS C:\> Get-VM | Get-VMBackupReadiness | Where-Object { $_.Warnings }
        Lists the VMs of the host that have something in the way of a good backup.
    .EXAMPLE
        PS C:\> (Get-VMBackupReadiness sql01 -Path D:\Backups).Disks | Format-Table Index, Method, Reason
        Shows per disk whether RCT, block hashes or a full copy will be used.
    .INPUTS
        System.String, or any object with a Name or VMName property (Microsoft.HyperV.PowerShell.VirtualMachine).
    .OUTPUTS
        HyperVBackup.BackupReadiness
    .LINK
        New-RecoveryBackup
    .LINK
        Clear-VMBackupCheckpoint
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.BackupReadiness')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [Parameter(Position = 1)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(DontShow)]
        [ValidateNotNullOrEmpty()]
        [string] $LabPath,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $ComputerName,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [object] $CimSession,

        [switch] $EnableException
    )

    begin {
        $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    }

    process {
        if (-not (Test-HvbLocalComputer -ComputerName $ComputerName)) {
            # A VM of another host (a Get-VM object's ComputerName): asked there, never here.
            Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName $ComputerName -Credential $Credential -CommandName 'Get-VMBackupReadiness'
            return
        }
        foreach ($name in $VMName) {
            $arguments = [System.Collections.Generic.List[string]]::new()
            foreach ($word in 'readiness', '--vm', $name) { $arguments.Add($word) }
            if ($PSBoundParameters.ContainsKey('Path')) {
                $arguments.Add('--repo')
                $arguments.Add((Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet))
            }
            if ($PSBoundParameters.ContainsKey('LabPath')) {
                $arguments.Add('--lab')
                $arguments.Add((Resolve-HvbPath -Path $LabPath -Cmdlet $PSCmdlet))
            }
            $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -CimSession $session -ArgumentList $arguments.ToArray() `
                -ErrorHandling (Get-HvbErrorHandling -EnableException $EnableException) -TargetObject $name `
                -ProgressActivity "Looking at $name"
            if ($outcome.ExitCode -ne 0) { continue }
            foreach ($data in $outcome.Data) {
                if ($null -eq $data) { continue }
                $readiness = ConvertTo-HvbBackupObject -InputObject $data -TypeName 'HyperVBackup.BackupReadiness' `
                    -Rename @{ configVersion = 'ConfigurationVersion' } `
                    -Convert @{
                    VMId                = { ConvertTo-HvbGuid $args[0] }
                    NextBackup          = { ConvertTo-HvbPropertyName -Name ([string]$args[0]) }
                    ExpectedConsistency = { if ($args[0] -eq 'crash') { 'CrashConsistent' } else { ConvertTo-HvbPropertyName -Name ([string]$args[0]) } }
                    Warnings            = { , [string[]]@(foreach ($warning in @($args[0])) { if ($null -ne $warning) { [string]$warning } }) }
                } -ElementTypeName @{ Disks = 'HyperVBackup.BackupReadinessDisk' }
                # A VM refused alone gets no next backup, as the core's text says ('none').
                if ($false -eq (Get-HvbProperty $data 'ready' $true)) { $readiness.NextBackup = 'None' }
                $readiness
            }
        }
    }
}
