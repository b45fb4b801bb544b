function Restore-VMFromBackup {
    <#
    .SYNOPSIS
        Restores a virtual machine from a restore point.
    .DESCRIPTION
        Flattens the chain of restore points up to the chosen one into new VHDX files in the
        destination, checking every block against the manifest, places the exported
        configuration there, imports the VM with Hyper-V and points its disks at the restored
        files. The restored VM is left turned off.

        By default the VM keeps its id, which fails (VmExists) while the original VM is still on
        the host: use -NewVMId (and usually -NewName) to restore side by side with production,
        or -Force to replace the original, which is then stopped and whose files are moved aside
        (never deleted; ReplacedFilesMovedTo says where).

        The restore point is the newest one unless -RestorePointId or -PointInTime chooses
        another. Pipe a restore point from Get-VMBackup to restore exactly that point: the
        repository, the VM and the id are taken from it. Asks for confirmation (ConfirmImpact
        High); use -Confirm:$false in scripts. Returns a HyperVBackup.RestoreResult: VMName,
        VMId, RestorePointId, RestorePointTime, DestinationPath, Disks, ReplacedFilesMovedTo and
        Warnings.
    .PARAMETER Path
        The repository folder. Alias: Repository. Taken from the Repository property of a piped
        restore point.
    .PARAMETER VMName
        The VM whose backup is restored (its name, or its id when several VMs in the repository
        share the name). Taken from the VMName property of a piped restore point.
    .PARAMETER RestorePointId
        The restore point to restore (an id as Get-VMBackup shows it). Accepts pipeline input
        from Get-VMBackup. Without it and without -PointInTime, the newest point is restored.
        Alias: Id.
    .PARAMETER PointInTime
        Restore the newest restore point taken at or before this time (local time unless the
        value says otherwise), e.g. '2026-11-20 23:00'. It is an error if every point is newer.
    .PARAMETER NewVMId
        Give the restored VM a new id, so that it can run beside the original. Alias:
        GenerateNewId, the name Import-VM gives the same choice.
    .PARAMETER NewName
        The restored VM's name; by default the name it had when it was backed up. Use it with
        -NewVMId to tell the copy from the original.
    .PARAMETER DestinationPath
        The folder for the restored VM's configuration and disks. By default the host's default
        location for a new VM (in a lab host, a folder of the lab). It must not hold files of the
        same names.
    .PARAMETER Force
        Replace an existing VM with the same id: it is stopped and its files are moved aside,
        never deleted. This does not suppress the confirmation prompt.
    .PARAMETER LabPath
        Restore onto a lab host (an emulated Hyper-V host in this folder) instead of the local
        Hyper-V host. For rehearsals and tests; the HYPERVBACKUP_LAB environment variable does
        the same.
    .PARAMETER ClearStaleLock
        Take over the repository lock of a run that no longer exists (the error LockStale says
        when; a run stopped by a crash or a reboot leaves one). Never needed otherwise.
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Restore-VMFromBackup -Path \\nas\hv-backups -VMName web01 -PointInTime '2026-11-20 23:00' -NewVMId -NewName web01-restoretest -DestinationPath D:\Restore
        After confirmation, restores web01 as it was at the last backup before 23:00 on 20 November, as a new VM web01-restoretest beside the original.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path \\nas\hv-backups -VMName web01 -Latest | Restore-VMFromBackup -WhatIf
        Shows what restoring the newest restore point of web01 would do, without changing anything.
    .EXAMPLE
        PS C:\> Restore-VMFromBackup -Path D:\Backups -VMName sql01 -Force -Confirm:$false
        Replaces sql01 with its newest backup: the running VM is stopped and its files are moved aside, then the backup is imported with the same id.
    .EXAMPLE
        PS C:\> Get-VMBackup D:\Backups -VMName web01 -RestorePointId 20261120T230000.000Z-incr | Restore-VMFromBackup -NewVMId -NewName web01-1120 -Confirm:$false | Format-List
        Restores one particular restore point as a new VM and shows the whole result.
    .INPUTS
        HyperVBackup.RestorePoint (Repository, VMName and RestorePointId are bound by property name).
    .OUTPUTS
        HyperVBackup.RestoreResult
    .LINK
        Get-VMBackup
    .LINK
        Export-VMBackupDisk
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(DefaultParameterSetName = 'ByRestorePoint', SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('HyperVBackup.RestoreResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $VMName,

        [Parameter(ParameterSetName = 'ByRestorePoint', Position = 1, ValueFromPipelineByPropertyName)]
        [Alias('Id')]
        [ValidateNotNullOrEmpty()]
        [string] $RestorePointId,

        [Parameter(Mandatory, ParameterSetName = 'ByTime')]
        [datetime] $PointInTime,

        [Alias('GenerateNewId')]
        [switch] $NewVMId,

        [ValidateNotNullOrEmpty()]
        [string] $NewName,

        [ValidateNotNullOrEmpty()]
        [string] $DestinationPath,

        [switch] $Force,

        [Parameter(DontShow)]
        [ValidateNotNullOrEmpty()]
        [string] $LabPath,

        [switch] $ClearStaleLock,

        [switch] $EnableException
    )

    process {
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $arguments = [System.Collections.Generic.List[string]]::new()
        foreach ($word in 'restore', '--repo', $repository, '--vm', $VMName) { $arguments.Add($word) }

        $which = 'the newest restore point'
        if ($PSCmdlet.ParameterSetName -eq 'ByTime') {
            $time = ConvertTo-HvbCoreTime -Value $PointInTime
            $arguments.Add('--point')
            $arguments.Add($time)
            $which = "the newest restore point at or before $($PointInTime.ToString('yyyy-MM-dd HH:mm:ss')) ($time)"
        } elseif (-not [string]::IsNullOrEmpty($RestorePointId)) {
            $arguments.Add('--point')
            $arguments.Add($RestorePointId)
            $which = "restore point $RestorePointId"
        }
        $as = 'with its own id'
        if ($NewVMId) {
            $arguments.Add('--new-id')
            $as = 'with a new id'
        }
        if ($PSBoundParameters.ContainsKey('NewName')) {
            $arguments.Add('--name')
            $arguments.Add($NewName)
            $as = "as '$NewName' $as"
        }
        $destination = $null
        if ($PSBoundParameters.ContainsKey('DestinationPath')) {
            $destination = Resolve-HvbPath -Path $DestinationPath -Cmdlet $PSCmdlet
            $arguments.Add('--dest')
            $arguments.Add($destination)
            $as += " into '$destination'"
        }
        if ($Force) {
            $arguments.Add('--force')
            if (-not $NewVMId) { $as += ', replacing the existing VM (it is stopped and its files are moved aside)' }
        }
        if ($ClearStaleLock) { $arguments.Add('--clear-stale-lock') }
        if ($PSBoundParameters.ContainsKey('LabPath')) {
            $arguments.Add('--lab')
            $arguments.Add((Resolve-HvbPath -Path $LabPath -Cmdlet $PSCmdlet))
        }

        if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$VMName' from '$repository'") -Action ("Restore $which $as") -EnableException $EnableException)) { return }

        $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -ArgumentList $arguments.ToArray() `
            -ErrorHandling (Get-HvbErrorHandling -EnableException $EnableException) -TargetObject $VMName `
            -ProgressActivity "Restoring $VMName"
        if ($outcome.ExitCode -ne 0) { return }
        foreach ($data in $outcome.Data) {
            if ($null -eq $data) { continue }
            ConvertTo-HvbBackupObject -InputObject $data -TypeName 'HyperVBackup.RestoreResult' `
                -Rename @{ pointId = 'RestorePointId'; pointTime = 'RestorePointTime'; destination = 'DestinationPath' } `
                -Convert @{
                VMId             = { ConvertTo-HvbGuid $args[0] }
                RestorePointTime = { ConvertTo-HvbDateTime $args[0] }
                Warnings         = { , [string[]]@(foreach ($warning in @($args[0])) { if ($null -ne $warning) { [string]$warning } }) }
            } -ElementTypeName @{ Disks = 'HyperVBackup.RestoredDisk' }
        }
    }
}
