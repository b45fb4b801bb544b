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
        the core at the end of the pipeline, at most -ThrottleLimit at once (so `Get-VM |
        New-RecoveryBackup` is one run with one summary, not one run per VM). On a failover
        cluster the VMs are grouped by the node that runs them and each node's VMs are backed up
        on that node through PowerShell remoting (the module is copied to a node that lacks this
        version, as Save-Module lays it out), writing straight to the repository; give -Path as
        a UNC path every node's computer account can write. One VM's failure
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
    .PARAMETER VMGroup
        Back up VM groups (New-VMGroup) as backup sets: every member is checkpointed at one
        moment and gets its point in one set, all or none (the points' SetId names the set). Pipe
        Get-VMGroup to it: a piped object with a VMMembers property is taken as a group by its Name.
    .PARAMETER VMMembers
        Not for typing: bound by property name from a Get-VMGroup object, whose Name is then
        taken as a VM group's (a VM of Get-VM has no VMMembers).
    .PARAMETER All
        Back up every VM of the host (on a failover cluster, of every node), as one run.
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
        How many VMs are backed up at once (the core's --parallel; its default is 2). Each backup
        reads its VM's disks and writes to the repository, so a higher value helps only when
        storage and network have room. Alias: Parallel. On a cluster it applies per node.
    .PARAMETER VolumeThrottleLimit
        At most this many VMs at once whose disks share a volume (a CSV included), so that one
        volume does not carry every checkpoint and copy of the run (the core's --per-volume; by
        default no limit, 1 on a failover cluster).
    .PARAMETER HostThrottleLimit
        At most this many VMs at once per host or cluster node (the core's --per-host; by
        default no limit, 1 on a failover cluster).
    .PARAMETER StorageSnapshot
        Take one storage snapshot for the whole run: the VMs take their recovery checkpoints
        volume after volume, one volume shadow copy is made per volume involved as soon as its
        VMs have theirs, those checkpoints become their reference points right after it, and the
        disks are copied from the shadow copies. VMs are back on their own disks within seconds
        however long the copy takes. Where the host has no usable
        shadow copy provider a warning says so and each VM is backed up from its own checkpoint.
    .PARAMETER PassThroughDisk
        What to do with a VM that has pass-through disks (host disks given to the guest, which
        no checkpoint captures). Warn (default): back up its virtual disks and say in a warning
        which disks are not in the backup. Refuse: fail that VM's backup.
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
    .PARAMETER OnNode
        Internal: set on the run a cluster node is given by the node that split the work, so that
        it backs up its VMs itself instead of splitting again.
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
        PS C:\> Get-VMGroup web-farm | New-RecoveryBackup -Path \\nas\hv-backups
        Backs up every member of the VM group web-farm as one consistent backup set; Get-VMBackup shows the set's SetId on each point.
    .EXAMPLE
        PS C:\> New-RecoveryBackup -All -Path \\nas\hv-backups -ThrottleLimit 4
        Backs up every VM of the host (of every node on a failover cluster, each node's VMs on that node), four at a time, in one run.
    .EXAMPLE
        PS C:\> New-RecoveryBackup -All -Path \\nas\hv-backups -ThrottleLimit 8 -VolumeThrottleLimit 2 -StorageSnapshot -InformationVariable run
        Backs up every VM of the host, eight at a time but at most two per volume, from one storage snapshot per volume; $run holds the run's summary (per VM the outcome, bytes, seconds and seconds on a checkpoint).
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

        # VMGroup takes pipeline input by property name and -All is not mandatory so that the
        # binder keeps weighing every set against a piped object: with a set whose mandatory
        # parameter cannot come from the pipeline, it settles on the default set first, and a
        # piped object with only a VMId would be bound as a VM name (backup_create.test.ts
        # proves it binds ById). -All never comes from a piped object: backing up every VM of
        # the host is asked for on the command line only.
        [Parameter(Mandatory, ValueFromPipelineByPropertyName, ParameterSetName = 'ByGroup')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMGroup,

        # Get-VMGroup's objects carry VMMembers (a VM has none): its Name is then a group's.
        [Parameter(ValueFromPipelineByPropertyName, ParameterSetName = 'ByName', DontShow)]
        [AllowNull()]
        [object[]] $VMMembers,

        [Parameter(ParameterSetName = 'All')]
        [switch] $All,

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
        [Alias('Parallel')]
        [int] $ThrottleLimit,

        [ValidateRange(1, 64)]
        [int] $VolumeThrottleLimit,

        [ValidateRange(1, 64)]
        [int] $HostThrottleLimit,

        [switch] $StorageSnapshot,

        [ValidateSet('Warn', 'Refuse')]
        [string] $PassThroughDisk = 'Warn',

        [Parameter(DontShow)]
        [string] $OnNode,

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
        # Every VM and group of the pipeline, in order, once; backed up by one core run in end{}.
        $vms = [System.Collections.Generic.List[string]]::new()
        $groups = [System.Collections.Generic.List[string]]::new()
        $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        # VMs and groups of other hosts (-ComputerName, or a Get-VM object's ComputerName), per
        # host: backed up on that host, never mistaken for a local VM of the same name.
        $remoteVms = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.List[string]]]::new([System.StringComparer]::OrdinalIgnoreCase)
        $remoteGroups = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.List[string]]]::new([System.StringComparer]::OrdinalIgnoreCase)
        $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    }

    process {
        $names = @()
        $areGroups = $false
        if ($PSCmdlet.ParameterSetName -eq 'ById') {
            $names = @(foreach ($id in $VMId) { $id.ToString() })
        } elseif ($PSCmdlet.ParameterSetName -eq 'ByGroup') {
            $names = @($VMGroup)
            $areGroups = $true
        } elseif ($PSCmdlet.ParameterSetName -eq 'ByName') {
            $names = @($VMName)
            $areGroups = $PSBoundParameters.ContainsKey('VMMembers')
            # A parameter bound from an earlier pipeline object stays in $PSBoundParameters (and
            # its variable) for the later ones (PowerShell/PowerShell#5202): a VM piped after a
            # Get-VMGroup object would be taken for a group. Piped, the object at hand decides.
            if ($PSCmdlet.MyInvocation.ExpectingInput) { $areGroups = $null -ne $_ -and $null -ne $_.PSObject.Properties['VMMembers'] }
        }
        if (-not (Test-HvbLocalComputer -ComputerName $ComputerName)) {
            $byHost = $remoteVms
            if ($areGroups) { $byHost = $remoteGroups }
            $list = $null
            if (-not $byHost.TryGetValue($ComputerName, [ref] $list)) {
                $list = [System.Collections.Generic.List[string]]::new()
                $byHost[$ComputerName] = $list
            }
            foreach ($name in $names) { if (-not [string]::IsNullOrWhiteSpace($name) -and -not $list.Contains($name)) { $list.Add($name) } }
            return
        }
        foreach ($name in $names) {
            if ([string]::IsNullOrWhiteSpace($name)) { continue }
            if ($areGroups) {
                if ($seen.Add("group:$name")) { $groups.Add($name) }
            } elseif ($seen.Add($name)) { $vms.Add($name) }
        }
    }

    end {
        $remoteHosts = [System.Collections.Generic.List[string]]::new()
        foreach ($name in @($remoteVms.Keys) + @($remoteGroups.Keys)) { if (-not $remoteHosts.Contains($name)) { $remoteHosts.Add($name) } }
        if ($All -and -not (Test-HvbLocalComputer -ComputerName $ComputerName)) { $remoteHosts.Add($ComputerName) }
        foreach ($remote in $remoteHosts) {
            $override = @{}
            $list = $null
            if ($remoteVms.TryGetValue($remote, [ref] $list)) {
                $approvedThere = @(foreach ($vm in $list) { if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$vm' on '$remote'") -Action "Back up on '$remote' to '$Path'" -EnableException $EnableException)) { $vm } })
                if ($approvedThere.Count -gt 0) { $override['VMName'] = [string[]]$approvedThere }
            }
            if ($remoteGroups.TryGetValue($remote, [ref] $list)) {
                $approvedThere = @(foreach ($group in $list) { if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("VM group '$group' on '$remote'") -Action "Back up on '$remote' to '$Path'" -EnableException $EnableException)) { $group } })
                if ($approvedThere.Count -gt 0) { $override['VMGroup'] = [string[]]$approvedThere }
            }
            if ($All -and (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("every virtual machine on '$remote'") -Action "Back up on '$remote' to '$Path'" -EnableException $EnableException)) { $override['All'] = $true }
            if ($override.Count -eq 0) { continue }
            Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName $remote -Credential $Credential -CommandName 'New-RecoveryBackup' `
                -Exclude 'VMId', 'VMName', 'VMGroup', 'VMMembers', 'All' -Override $override
        }
        if ($vms.Count -eq 0 -and $groups.Count -eq 0 -and -not ($All -and (Test-HvbLocalComputer -ComputerName $ComputerName))) { return }
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $action = "Back up to '$repository'"
        if ($Full) { $action = "Take a full backup to '$repository'" }
        if ($ConsistencyLevel -eq 'CrashConsistent') { $action += ' (crash consistent)' }

        $approved = @(foreach ($vm in $vms) { if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$vm'") -Action ($action) -EnableException $EnableException)) { $vm } })
        $approvedGroups = @(foreach ($group in $groups) { if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("VM group '$group' (every member, as one backup set)") -Action ($action) -EnableException $EnableException)) { $group } })
        $everything = $All -and (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target 'every virtual machine of the host' -Action ($action) -EnableException $EnableException)
        if ($approved.Count -eq 0 -and $approvedGroups.Count -eq 0 -and -not $everything) { return }

        $options = [System.Collections.Generic.List[string]]::new()
        $options.Add('--repo')
        $options.Add($repository)
        if ($Full) { $options.Add('--full') }
        $options.Add('--consistency')
        if ($ConsistencyLevel -eq 'CrashConsistent') { $options.Add('crash') } elseif ($ConsistencyLevel -eq 'FileSystem') { $options.Add('file-system') } else { $options.Add('application') }
        if ($NoCrashFallback) { $options.Add('--no-crash-fallback') }
        if ($HashChangeDetection) { $options.Add('--hash-changes') }
        if ($ClearStaleLock) { $options.Add('--clear-stale-lock') }
        if ($PSBoundParameters.ContainsKey('ThrottleLimit')) {
            $options.Add('--parallel')
            $options.Add([string]$ThrottleLimit)
        }
        if ($PSBoundParameters.ContainsKey('VolumeThrottleLimit')) {
            $options.Add('--per-volume')
            $options.Add([string]$VolumeThrottleLimit)
        }
        if ($PSBoundParameters.ContainsKey('HostThrottleLimit')) {
            $options.Add('--per-host')
            $options.Add([string]$HostThrottleLimit)
        }
        if ($StorageSnapshot) { $options.Add('--storage-snapshot') }
        if ($PSBoundParameters.ContainsKey('PassThroughDisk')) {
            $options.Add('--passthrough')
            $options.Add($PassThroughDisk.ToLowerInvariant())
        }
        $lab = ''
        if ($PSBoundParameters.ContainsKey('LabPath')) {
            $lab = Resolve-HvbPath -Path $LabPath -Cmdlet $PSCmdlet
            $options.Add('--lab')
            $options.Add($lab)
        }

        # On a failover cluster each node's VMs are backed up on that node (groups stay here:
        # a group's members are checkpointed by one call on one host).
        $local = [string[]]$approved
        if ([string]::IsNullOrEmpty($OnNode) -and ($approved.Count -gt 0 -or $everything)) {
            $owners = Get-HvbVMOwner -Cmdlet $PSCmdlet -CimSession $session -VMName $approved -All $everything -LabPath $lab
            if ($owners.Clustered) {
                $here = [System.Collections.Generic.List[string]]::new($owners.Unresolved)
                foreach ($node in $owners.Nodes.GetEnumerator()) {
                    if (Test-HvbLocalComputer -ComputerName $node.Key) { foreach ($vm in $node.Value) { $here.Add($vm) } ; continue }
                    Install-HvbModuleOnNode -ComputerName $node.Key -Credential $Credential
                    Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName $node.Key -Credential $Credential -CommandName 'New-RecoveryBackup' `
                        -Exclude 'VMId', 'VMName', 'VMGroup', 'VMMembers', 'All' -Override @{ VMName = $node.Value.ToArray(); OnNode = $node.Key }
                }
                $local = $here.ToArray()
                $everything = $false
            }
        }
        if ($local.Count -eq 0 -and $approvedGroups.Count -eq 0 -and -not $everything) { return }
        Invoke-HvbBackupRun -Cmdlet $PSCmdlet -CimSession $session -Options $options.ToArray() -VMName $local -VMGroup $approvedGroups `
            -All $everything -Repository $repository -EnableException $EnableException
    }
}
