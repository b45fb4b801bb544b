function New-RecoveryBackup {
    <#
    .SYNOPSIS
        Backs up Hyper-V virtual machines into a repository: a full backup first, then RCT incrementals.
    .DESCRIPTION
        Takes a recovery checkpoint of each virtual machine (application consistent by default),
        copies its disks into a new restore point in the repository and turns the checkpoint into
        a reference point for the next backup. The first backup of a VM in a repository is a full
        backup (every allocated block in a dynamic VHDX); later ones ask Hyper-V's resilient
        change tracking (RCT) which blocks changed and store only those, in a differencing VHDX
        whose parent is the previous restore point. When RCT cannot be used (no reference point,
        configuration version older than 6.2, a VHD disk) the changes are found by comparing
        block hashes instead. A failed backup leaves no checkpoint and no half-written point.

        Every VM given on the command line or through the pipeline is backed up by one run of
        the core at the end of the pipeline, at most -ThrottleLimit at once. One VM's failure
        does not stop the others: it is written as a non-terminating error whose TargetObject is
        the VM, and the restore points of the other VMs are still returned.

        Returns one HyperVBackup.RestorePoint per VM backed up (VMName, RestorePointId, Time,
        Kind, ConsistencyLevel, SizeBytes, ParentId, VMId, Disks, Warnings, Repository).
        Progress is shown per VM; warnings (for example a fall-back to crash consistency) are
        written as warnings.
    .PARAMETER VMName
        The virtual machine(s) to back up, by name (or id as a string). Accepts pipeline input:
        strings, and objects with a Name or VMName property such as the VMs of Get-VM.
    .PARAMETER VMId
        The virtual machine(s) to back up, by id. Use it when several VMs share a name. Accepts
        pipeline input by the property name VMId.
    .PARAMETER Path
        The repository: a folder (local or a UNC path) that holds one folder per VM. It is
        created if it does not exist. Alias: Repository. Not taken from the pipeline, because
        the VMs of Get-VM have a Path property of their own.
    .PARAMETER Full
        Take a full backup even when an incremental one is possible, for example to start a new
        chain after a disk was replaced.
    .PARAMETER ConsistencyLevel
        Application (default): ask the guest's VSS writers for an application-consistent
        checkpoint, and fall back to a crash-consistent one with a warning when the guest cannot
        give it (see -NoCrashFallback). FileSystem: the same request, for Linux guests, whose
        integration services freeze their file systems (a point of a Linux guest records
        file-system consistency either way). CrashConsistent: do not involve the guest.
    .PARAMETER NoCrashFallback
        With -ConsistencyLevel Application, fail the backup of a VM whose guest cannot give an
        application-consistent checkpoint instead of falling back to crash consistency.
    .PARAMETER HashChangeDetection
        For VMs without Resilient Change Tracking (configuration version 5.0, VHD disks, or a
        reference point lost since the last backup): instead of a full copy, read the disk and
        store only the blocks whose SHA-256 differs from the previous restore point.
    .PARAMETER ThrottleLimit
        How many VMs are backed up at once (the core's default is 2). Each backup reads its VM's
        disks and writes to the repository, so a higher value helps only when storage and
        network have room.
    .PARAMETER LabPath
        Back up from a lab host (an emulated Hyper-V host in this folder, made with
        `hvbackup lab init`) instead of the local Hyper-V host. For rehearsals and tests; the
        HYPERVBACKUP_LAB environment variable does the same.
    .PARAMETER ComputerName
        Back up on another Hyper-V host: the command runs there through PowerShell remoting
        (HyperVBackup must be installed there), its disks are read there and the repository is
        written from there, so give -Path as that host sees it (a UNC path its computer account
        can write). Bound from a VM object of Get-VM -ComputerName, so such a VM is backed up on
        its own host, never mistaken for a local VM of the same name. This computer's own name,
        '.' or 'localhost' run here.
    .PARAMETER Credential
        Credentials for the connection to -ComputerName.
    .PARAMETER CimSession
        The CimSession the module's host requests use here (the local host only: a session to
        another computer is refused, use -ComputerName for that; see docs/windows.md).
    .PARAMETER ClearStaleLock
        Take over the repository lock of a run that no longer exists (the error LockStale says
        when; a run stopped by a crash or a reboot leaves one). Never needed otherwise.
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one. When several
        VMs are backed up, the restore points of those that succeeded are returned first.
    .EXAMPLE
        PS C:\> Get-VM web01, sql01 | New-RecoveryBackup -Path \\nas\hv-backups
        Backs up web01 and sql01, two at a time: a full backup the first time, an RCT incremental afterwards. Returns one restore point per VM.
    .EXAMPLE
        PS C:\> New-RecoveryBackup -VMName web01 -Path D:\Backups -Full
        Takes a full backup of web01 even if an incremental one would be possible.
    .EXAMPLE
        PS C:\> New-RecoveryBackup -VMName sql01 -Path D:\Backups -NoCrashFallback -EnableException
        Backs up sql01 application consistent, and stops the script with an error if the guest cannot give that.
    .EXAMPLE
        PS C:\> Get-VM | Where-Object State -eq Running | New-RecoveryBackup -Path \\nas\hv-backups -ThrottleLimit 4 -ErrorVariable failed
        Backs up every running VM, four at a time; the VMs that failed are in $failed (each record's TargetObject is the VM) and the others' restore points are returned.
    .EXAMPLE
        PS C:\> New-RecoveryBackup -VMId 5c0b6f0e-2a0e-4d6a-9f4e-2d8c2b1d7a11 -Path D:\Backups -ConsistencyLevel CrashConsistent -WhatIf
        Shows which VM would be backed up, without taking a checkpoint.
    .INPUTS
        System.String, or any object with a Name, VMName or VMId property (Microsoft.HyperV.PowerShell.VirtualMachine).
    .OUTPUTS
        HyperVBackup.RestorePoint
    .LINK
        Get-VMBackup
    .LINK
        Restore-VMFromBackup
    .LINK
        Get-VMBackupReadiness
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(DefaultParameterSetName = 'ByName', SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('HyperVBackup.RestorePoint')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName, ParameterSetName = 'ByName')]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [Parameter(Mandatory, ValueFromPipelineByPropertyName, ParameterSetName = 'ById')]
        [guid[]] $VMId,

        [Parameter(Mandatory, Position = 1)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [switch] $Full,

        [ValidateSet('Application', 'FileSystem', 'CrashConsistent')]
        [string] $ConsistencyLevel = 'Application',

        [switch] $NoCrashFallback,

        [switch] $HashChangeDetection,

        [ValidateRange(1, 64)]
        [int] $ThrottleLimit,

        [Parameter(DontShow)]
        [ValidateNotNullOrEmpty()]
        [string] $LabPath,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $ComputerName,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [object] $CimSession,

        [switch] $ClearStaleLock,

        [switch] $EnableException
    )

    begin {
        # Every VM of the pipeline, in order, once; backed up by one core run in end{}.
        $vms = [System.Collections.Generic.List[string]]::new()
        $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        # VMs of other hosts (-ComputerName, or a Get-VM object's ComputerName), per host: backed
        # up on that host, never mistaken for a local VM of the same name.
        $remoteVms = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.List[string]]]::new([System.StringComparer]::OrdinalIgnoreCase)
        $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    }

    process {
        $names = @()
        if ($PSCmdlet.ParameterSetName -eq 'ById') {
            $names = @(foreach ($id in $VMId) { $id.ToString() })
        } else {
            $names = @($VMName)
        }
        if (-not (Test-HvbLocalComputer -ComputerName $ComputerName)) {
            $list = $null
            if (-not $remoteVms.TryGetValue($ComputerName, [ref] $list)) {
                $list = [System.Collections.Generic.List[string]]::new()
                $remoteVms[$ComputerName] = $list
            }
            foreach ($name in $names) { if (-not [string]::IsNullOrWhiteSpace($name) -and -not $list.Contains($name)) { $list.Add($name) } }
            return
        }
        foreach ($name in $names) {
            if ([string]::IsNullOrWhiteSpace($name)) { continue }
            if ($seen.Add($name)) { $vms.Add($name) }
        }
    }

    end {
        foreach ($remote in $remoteVms.GetEnumerator()) {
            $approvedThere = [System.Collections.Generic.List[string]]::new()
            foreach ($vm in $remote.Value) {
                if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$vm' on '$($remote.Key)'") -Action "Back up on '$($remote.Key)' to '$Path'" -EnableException $EnableException)) { $approvedThere.Add($vm) }
            }
            if ($approvedThere.Count -eq 0) { continue }
            $forwarded = @{}
            foreach ($key in $PSBoundParameters.Keys) { $forwarded[$key] = $PSBoundParameters[$key] }
            [void]$forwarded.Remove('VMId')
            $forwarded['VMName'] = $approvedThere.ToArray()
            Invoke-HvbRemoteCommand -ComputerName $remote.Key -Credential $Credential -CommandName 'New-RecoveryBackup' -Parameters $forwarded
        }
        if ($vms.Count -eq 0) { return }
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $action = "Back up to '$repository'"
        if ($Full) { $action = "Take a full backup to '$repository'" }
        if ($ConsistencyLevel -eq 'CrashConsistent') { $action += ' (crash consistent)' }

        $approved = [System.Collections.Generic.List[string]]::new()
        foreach ($vm in $vms) {
            if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$vm'") -Action ($action) -EnableException $EnableException)) { $approved.Add($vm) }
        }
        if ($approved.Count -eq 0) { return }

        $arguments = [System.Collections.Generic.List[string]]::new()
        $arguments.Add('backup')
        foreach ($vm in $approved) {
            $arguments.Add('--vm')
            $arguments.Add($vm)
        }
        $arguments.Add('--repo')
        $arguments.Add($repository)
        if ($Full) { $arguments.Add('--full') }
        $arguments.Add('--consistency')
        if ($ConsistencyLevel -eq 'CrashConsistent') { $arguments.Add('crash') } elseif ($ConsistencyLevel -eq 'FileSystem') { $arguments.Add('file-system') } else { $arguments.Add('application') }
        if ($NoCrashFallback) { $arguments.Add('--no-crash-fallback') }
        if ($HashChangeDetection) { $arguments.Add('--hash-changes') }
        if ($ClearStaleLock) { $arguments.Add('--clear-stale-lock') }
        if ($PSBoundParameters.ContainsKey('ThrottleLimit')) {
            $arguments.Add('--parallel')
            $arguments.Add([string]$ThrottleLimit)
        }
        if ($PSBoundParameters.ContainsKey('LabPath')) {
            $arguments.Add('--lab')
            $arguments.Add((Resolve-HvbPath -Path $LabPath -Cmdlet $PSCmdlet))
        }

        $target = $approved[0]
        if ($approved.Count -gt 1) { $target = $repository }
        # A failed VM of several is reported by the core as a warning and in the results; it
        # becomes an ErrorRecord below, so the warning goes to the verbose stream.
        $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -CimSession $session -ArgumentList $arguments.ToArray() -ErrorHandling Collect `
            -TargetObject $target -ProgressActivity 'Backing up' -QuietWarningCode 'BackupFailed'

        $failures = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
        foreach ($record in $outcome.Errors) { $failures.Add($record) }
        $points = [System.Collections.Generic.Dictionary[string, object]]::new([System.StringComparer]::OrdinalIgnoreCase)
        $failed = [System.Collections.Generic.Dictionary[string, object]]::new([System.StringComparer]::OrdinalIgnoreCase)
        foreach ($data in $outcome.Data) {
            if ($null -eq $data) { continue }
            $results = Get-HvbProperty $data 'results' $null
            if ($null -eq $results) {
                # One VM: the result is the restore point itself.
                if ($null -ne $data.PSObject.Properties['id']) { $points[$approved[0]] = $data }
                continue
            }
            foreach ($entry in @($results)) {
                if ($null -eq $entry) { continue }
                $vm = [string](Get-HvbProperty $entry 'vm' '')
                if ([bool](Get-HvbProperty $entry 'ok' $false)) {
                    $points[$vm] = Get-HvbProperty $entry 'point' $null
                } else {
                    $failed[$vm] = $entry
                }
            }
        }

        # Points in the order the VMs were given, then the failures in the same order.
        foreach ($vm in $approved) {
            if ($points.ContainsKey($vm) -and $null -ne $points[$vm]) {
                ConvertTo-HvbRestorePoint -InputObject $points[$vm] -Repository $repository
            }
        }
        foreach ($vm in $approved) {
            if (-not $failed.ContainsKey($vm)) { continue }
            $entry = $failed[$vm]
            $reason = Get-HvbProperty $entry 'error' $null
            $code = [string](Get-HvbProperty $entry 'code' 'BackupFailed')
            $category = [string](Get-HvbProperty $entry 'category' 'NotSpecified')
            # Newer cores may report the error as an object {code, category, message}.
            if ($reason -is [System.Management.Automation.PSCustomObject]) {
                $code = [string](Get-HvbProperty $reason 'code' $code)
                $category = [string](Get-HvbProperty $reason 'category' $category)
                $reason = Get-HvbProperty $reason 'message' ''
            }
            $failures.Add((ConvertTo-HvbErrorRecord -Code $code -Category $category -Target $vm `
                        -Message "Backup of '$vm' failed: $reason"))
        }
        foreach ($record in $failures) {
            Write-HvbErrorRecord -Cmdlet $PSCmdlet -Record $record -EnableException $EnableException
        }
    }
}
