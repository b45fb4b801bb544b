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
        VMId, RestorePointId, RestorePointTime, DestinationPath, Disks, ReplacedFilesMovedTo,
        Warnings and SharedDisks (for a node of a guest cluster: each shared disk restored as a
        new VHD Set below 'Shared Disks' and attached to it - SourcePath, Path, VirtualSize;
        empty otherwise), one per member with -VMGroup, each with the set's SetId.
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
    .PARAMETER VMGroup
        Restore a whole backup set of a VM group (New-RecoveryBackup -VMGroup): every member of
        the set is restored, each into a folder of its own name below -DestinationPath. The set
        is the newest one unless -SetId, -PointInTime or -Latest says otherwise.
    .PARAMETER SetId
        With -VMGroup: the backup set to restore (the SetId Get-VMBackup shows).
    .PARAMETER Latest
        With -VMGroup: the newest backup set (the default; for scripts that want to say so).
    .PARAMETER ComputerName
        Restore onto another Hyper-V host: the command runs there through PowerShell remoting
        (HyperVBackup must be installed there) and reads the repository from there, so give -Path
        as that host sees it. Bound from a VM object of Get-VM -ComputerName, so such a VM is
        restored on its own host, never mixed up with a local VM of the same name. This
        computer's own name, '.' or 'localhost' run here. The confirmation is asked here.
    .PARAMETER Credential
        Credentials for the connection to -ComputerName.
    .PARAMETER CimSession
        The CimSession the module's host requests use here (the local host only: a session to
        another computer is refused, use -ComputerName for that).
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Restore-VMFromBackup -Path \\nas\hv-backups -VMGroup web-farm -NewVMId -DestinationPath D:\Restore -Confirm:$false
        Restores every member of the newest backup set of the VM group web-farm side by side, each with a new id in D:\Restore\<member name>.
    .EXAMPLE
        PS C:\> Restore-VMFromBackup -Path \\nas\hv-backups -VMName web01 -ComputerName HV02 -NewVMId -NewName web01-test
        Restores web01 on HV02 (through PowerShell remoting), after asking here.
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

        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName, ParameterSetName = 'ByRestorePoint')]
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName, ParameterSetName = 'ByTime')]
        [ValidateNotNullOrEmpty()]
        [string] $VMName,

        [Parameter(Mandatory, ParameterSetName = 'BySet')]
        [Parameter(Mandatory, ParameterSetName = 'BySetTime')]
        [ValidateNotNullOrEmpty()]
        [string] $VMGroup,

        [Parameter(ParameterSetName = 'BySet', ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $SetId,

        [Parameter(ParameterSetName = 'BySet')]
        [switch] $Latest,

        [Parameter(ParameterSetName = 'ByRestorePoint', Position = 1, ValueFromPipelineByPropertyName)]
        [Alias('Id')]
        [ValidateNotNullOrEmpty()]
        [string] $RestorePointId,

        [Parameter(Mandatory, ParameterSetName = 'ByTime')]
        [Parameter(Mandatory, ParameterSetName = 'BySetTime')]
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

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $ComputerName,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [object] $CimSession,

        [switch] $EnableException
    )

    begin {
        # -Path given here, or taken from each piped object (a restore point's Repository).
        $pathGiven = $PSBoundParameters.ContainsKey('Path')
        $pointGiven = $PSBoundParameters.ContainsKey('RestorePointId')
        $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    }

    process {
        if (Test-HvbPipedVMPath -Cmdlet $PSCmdlet -PathGiven $pathGiven -InputObject $_ -EnableException $EnableException) { return }
        # A piped VM's Id (Get-VM) is bound to -RestorePointId by its alias Id: it is the VM's id,
        # not a point's, so the point is then chosen as without -RestorePointId.
        $pointId = $RestorePointId
        $forwardExclude = @()
        if (-not $pointGiven -and (Test-HvbVMObject -InputObject $_)) {
            $pointId = $null
            $forwardExclude = @('RestorePointId')
        }
        $bySet = $PSCmdlet.ParameterSetName -like 'BySet*'
        $subject = "virtual machine '$VMName'"
        if ($bySet) { $subject = "VM group '$VMGroup'" }
        if (-not (Test-HvbLocalComputer -ComputerName $ComputerName)) {
            # A VM of another host (a Get-VM object's ComputerName): restored there, never here.
            if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("$subject on '$ComputerName' from '$Path'") -Action "Restore on '$ComputerName'" -EnableException $EnableException)) { return }
            Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName $ComputerName -Credential $Credential -CommandName 'Restore-VMFromBackup' -Exclude $forwardExclude
            return
        }
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $arguments = [System.Collections.Generic.List[string]]::new()
        if ($bySet) {
            foreach ($word in 'restore', '--repo', $repository, '--group', $VMGroup) { $arguments.Add($word) }
        } else {
            foreach ($word in 'restore', '--repo', $repository, '--vm', $VMName) { $arguments.Add($word) }
        }

        $which = 'the newest restore point'
        if ($bySet) { $which = 'the newest backup set' }
        if ($PSCmdlet.ParameterSetName -eq 'BySetTime') {
            $time = ConvertTo-HvbCoreTime -Value $PointInTime
            $arguments.Add('--set')
            $arguments.Add($time)
            $which = "the newest backup set at or before $($PointInTime.ToString('yyyy-MM-dd HH:mm:ss')) ($time)"
        } elseif ($bySet -and -not [string]::IsNullOrEmpty($SetId)) {
            $arguments.Add('--set')
            $arguments.Add($SetId)
            $which = "backup set $SetId"
        } elseif ($bySet -or $Latest) {
            $arguments.Add('--set')
            $arguments.Add('latest')
        } elseif ($PSCmdlet.ParameterSetName -eq 'ByTime') {
            $time = ConvertTo-HvbCoreTime -Value $PointInTime
            $arguments.Add('--point')
            $arguments.Add($time)
            $which = "the newest restore point at or before $($PointInTime.ToString('yyyy-MM-dd HH:mm:ss')) ($time)"
        } elseif (-not [string]::IsNullOrEmpty($pointId)) {
            $arguments.Add('--point')
            $arguments.Add($pointId)
            $which = "restore point $pointId"
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

        if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("$subject from '$repository'") -Action ("Restore $which $as") -EnableException $EnableException)) { return }

        $target = $VMName
        if ($bySet) { $target = $VMGroup }
        $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -CimSession $session -ArgumentList $arguments.ToArray() `
            -ErrorHandling (Get-HvbErrorHandling -EnableException $EnableException) -TargetObject $target `
            -ProgressActivity "Restoring $target"
        if ($outcome.ExitCode -ne 0) { return }
        foreach ($data in $outcome.Data) {
            if ($null -eq $data) { continue }
            # A set: one result per member, each saying which set it came from.
            $members = @($data)
            if ($bySet) { $members = @(foreach ($member in @(Get-HvbProperty $data 'members' @())) { if ($null -ne $member) { $member } }) }
            foreach ($member in $members) {
                $result = ConvertTo-HvbRestoreResult -InputObject $member
                if ($bySet) { $result.PSObject.Properties.Add([System.Management.Automation.PSNoteProperty]::new('SetId', [string](Get-HvbProperty $data 'setId' ''))) }
                $result
            }
        }
    }
}
