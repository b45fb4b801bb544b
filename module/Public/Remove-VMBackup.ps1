function Remove-VMBackup {
    <#
    .SYNOPSIS
        Removes old restore points of a VM: a retention (-KeepLast, -KeepSince) or the points piped to it.
    .DESCRIPTION
        Backups are a forward-incremental chain (a full, then increments that each depend on the
        one before), so a point is not simply deleted: it is merged into the next point, which
        takes over the blocks it lacks (the oldest increments are merged into the full), and the
        merged points disappear from the catalog. What the kept points restore does not change.

        With -KeepLast and/or -KeepSince the command applies a retention to each VM: it keeps
        the newest -KeepLast points and every point taken at or after -KeepSince (the newest
        point is always kept). Given restore points (from Get-VMBackup, by pipeline or with
        -RestorePointId), it removes exactly those points, oldest first, each merged into the
        next one; any point but the newest can go (the next backup continues from the newest:
        asked to remove it, the command says so with ErrorId PointNotOldest and removes
        nothing else).

        The merge is crash safe: the catalog marks a point as merging before its data moves, and
        running the command again finishes an interrupted merge. Before asking for confirmation
        (ConfirmImpact High) the command reads the catalog to say which points would go, so
        -WhatIf shows them without changing anything. A session that cannot ask (a scheduled
        task run with -NonInteractive) changes nothing unless -Confirm:$false is given.

        Returns nothing unless -PassThru is given; then a HyperVBackup.PruneResult (VMName,
        Removed, Kept, Repository) per core run. The ids removed are also written to the verbose
        stream.
    .PARAMETER Path
        The repository folder. Alias: Repository. Taken from the Repository property of piped
        restore points.
    .PARAMETER VMName
        The VM(s) whose old restore points are removed (names or ids). Accepts pipeline input:
        strings, and objects with a VMName or Name property such as the VMs of Get-VM or the
        restore points of Get-VMBackup (with -KeepLast/-KeepSince each VM is processed once).
    .PARAMETER KeepLast
        How many of the newest restore points to keep (at least 1: the newest point is never
        removed).
    .PARAMETER KeepSince
        Keep every restore point taken at or after this time (local time unless the value says
        otherwise); older ones are removed, except the newest -KeepLast (1 when not given).
    .PARAMETER RestorePointId
        The restore point(s) to remove, as Get-VMBackup's RestorePointId (alias Id); taken from
        piped restore points. Removed oldest first, each merged into the next point; the
        newest point of a VM is never removed.
    .PARAMETER ClearStaleLock
        Take over the repository lock of a run that no longer exists (the error LockStale says
        when; a run stopped by a crash or a reboot leaves one). Never needed otherwise.
    .PARAMETER PassThru
        Return a HyperVBackup.PruneResult per core run, listing the ids removed and kept.
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Remove-VMBackup -Path \\nas\hv-backups -VMName web01 -KeepLast 14
        After confirmation, merges all but web01's newest 14 restore points into the chain.
    .EXAMPLE
        PS C:\> Remove-VMBackup -Path \\nas\hv-backups -VMName web01 -KeepLast 14 -WhatIf
        Lists the restore points that would be merged away, without changing anything.
    .EXAMPLE
        PS C:\> Get-VM | Remove-VMBackup -Path D:\Backups -KeepSince (Get-Date).AddDays(-30) -Confirm:$false -PassThru
        Keeps 30 days of restore points (and at least the newest) of every VM of the host, without prompting.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -Latest | Remove-VMBackup -KeepLast 7 -Confirm:$false
        Applies a 7-point retention to every VM that has backups in the repository.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -VMName web01 | Where-Object Time -lt '2026-11-01' | Remove-VMBackup
        Removes web01's restore points taken before November, oldest first, asking for each.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -VMName web01 | Where-Object RestorePointId -eq $id | Remove-VMBackup -Confirm:$false
        Removes one point from the middle of web01's chain; the next point takes over its blocks.
    .INPUTS
        System.String, or any object with a VMName or Name property and optionally a Repository
        property; restore points of Get-VMBackup (RestorePointId, VMName, Repository).
    .OUTPUTS
        None; with -PassThru, HyperVBackup.PruneResult.
    .LINK
        Get-VMBackup
    .LINK
        New-RecoveryBackup
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(DefaultParameterSetName = 'KeepSince', SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('HyperVBackup.PruneResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory, ValueFromPipelineByPropertyName, ParameterSetName = 'RestorePoint')]
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName, ParameterSetName = 'KeepSince')]
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName, ParameterSetName = 'KeepLast')]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [Parameter(Mandatory, ParameterSetName = 'KeepLast')]
        [ValidateRange(1, 1000000)]
        [int] $KeepLast,

        [Parameter(ParameterSetName = 'KeepLast')]
        [Parameter(Mandatory, ParameterSetName = 'KeepSince')]
        [datetime] $KeepSince,

        [Parameter(Mandatory, ValueFromPipelineByPropertyName, ParameterSetName = 'RestorePoint')]
        [Alias('Id')]
        [ValidateNotNullOrEmpty()]
        [string[]] $RestorePointId,

        [switch] $ClearStaleLock,

        [switch] $PassThru,

        [switch] $EnableException
    )

    begin {
        # -Path given here, or taken from each piped object (a restore point's Repository).
        $pathGiven = $PSBoundParameters.ContainsKey('Path')
        $errorHandling = Get-HvbErrorHandling -EnableException $EnableException
        $done = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        # Piped restore points, per repository and VM, removed in end {} oldest first.
        $requested = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
        $keep = 1
        if ($PSBoundParameters.ContainsKey('KeepLast')) { $keep = $KeepLast }

        # Runs `prune` once: its PruneResult (with -PassThru), or $false alone when it failed.
        $prune = {
            param([string] $Repository, [string] $Name, [string[]] $Selection)
            $arguments = [System.Collections.Generic.List[string]]::new()
            foreach ($word in 'prune', '--repo', $Repository, '--vm', $Name) { $arguments.Add($word) }
            foreach ($word in $Selection) { $arguments.Add($word) }
            if ($ClearStaleLock) { $arguments.Add('--clear-stale-lock') }
            $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList $arguments.ToArray() `
                -ErrorHandling $errorHandling -TargetObject $Name -ProgressActivity "Pruning $Name"
            if ($outcome.ExitCode -ne 0) { return $false }
            foreach ($data in $outcome.Data) {
                if ($null -eq $data) { continue }
                $removed = [string[]]@(foreach ($id in @(Get-HvbProperty $data 'removed' @())) { if ($null -ne $id) { [string]$id } })
                $kept = [string[]]@(foreach ($id in @(Get-HvbProperty $data 'kept' @())) { if ($null -ne $id) { [string]$id } })
                foreach ($id in $removed) { $PSCmdlet.WriteVerbose("Removed restore point $id of '$Name'.") }
                if ($PassThru) {
                    [pscustomobject]@{
                        PSTypeName = 'HyperVBackup.PruneResult'
                        VMName     = [string](Get-HvbProperty $data 'vmName' $Name)
                        Removed    = $removed
                        Kept       = $kept
                        Repository = $Repository
                    }
                }
            }
        }
    }

    process {
        if (Test-HvbPipedVMPath -Cmdlet $PSCmdlet -PathGiven $pathGiven -InputObject $_ -EnableException $EnableException) { return }
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        if ($PSCmdlet.ParameterSetName -eq 'RestorePoint') {
            foreach ($name in $VMName) {
                $key = "$repository|$name"
                if (-not $requested.Contains($key)) {
                    $requested[$key] = [pscustomobject]@{ Repository = $repository; Name = $name; Ids = [System.Collections.Generic.List[string]]::new() }
                }
                foreach ($id in $RestorePointId) { if (-not $requested[$key].Ids.Contains($id)) { $requested[$key].Ids.Add($id) } }
            }
            return
        }

        foreach ($name in $VMName) {
            if (-not $done.Add("$repository|$name")) { continue }

            # What would go, as the core decides it (read-only, also under -WhatIf): oldest first,
            # while more than -KeepLast remain and the oldest is older than -KeepSince.
            $points = @(ConvertTo-HvbSortedRestorePoint -InputObject @(Get-HvbRestorePointList -Repository $repository -VMName $name `
                        -Cmdlet $PSCmdlet -ErrorHandling $errorHandling))
            if ($points.Count -eq 0) { continue }
            [System.Array]::Reverse($points)
            $doomed = [System.Collections.Generic.List[string]]::new()
            $selection = [System.Collections.Generic.List[string]]::new()
            $rule = [System.Collections.Generic.List[string]]::new()
            if ($PSBoundParameters.ContainsKey('KeepLast')) {
                $selection.Add('--keep'); $selection.Add([string]$KeepLast); $rule.Add("the newest $KeepLast")
            }
            if ($PSBoundParameters.ContainsKey('KeepSince')) {
                $selection.Add('--keep-since'); $selection.Add((ConvertTo-HvbCoreTime -Value $KeepSince)); $rule.Add("those taken since $($KeepSince.ToUniversalTime().ToString('u'))")
            }
            for ($i = 0; $i -lt $points.Count - $keep; $i++) {
                if ($PSBoundParameters.ContainsKey('KeepSince') -and $points[$i].Time.ToUniversalTime() -ge $KeepSince.ToUniversalTime()) { break }
                $doomed.Add($points[$i].RestorePointId)
            }
            $action = "Keep $($rule -join ' and ') restore point(s): nothing to remove"
            if ($doomed.Count -gt 0) {
                $action = "Merge $($doomed.Count) restore point(s) ($($doomed -join ', ')) into newer ones, keeping $($rule -join ' and ')"
            }
            if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("backups of virtual machine '$name' in '$repository'") -Action ($action) -EnableException $EnableException)) { continue }
            foreach ($item in @(& $prune $repository $name $selection.ToArray())) { if ($item -isnot [bool]) { $item } }
        }
    }

    end {
        foreach ($request in $requested.Values) {
            # Oldest first, in the catalog's (chain) order as `list` gives it; ids it does not know
            # go last (the core names them).
            $points = @(Get-HvbRestorePointList -Repository $request.Repository -VMName $request.Name -Cmdlet $PSCmdlet -ErrorHandling $errorHandling)
            $ordered = [System.Collections.Generic.List[string]]::new()
            foreach ($point in $points) { if ($request.Ids.Contains($point.RestorePointId)) { $ordered.Add($point.RestorePointId) } }
            foreach ($id in $request.Ids) { if (-not $ordered.Contains($id)) { $ordered.Add($id) } }
            foreach ($id in $ordered) {
                $target = "restore point $id of virtual machine '$($request.Name)' in '$($request.Repository)'"
                # A point kept (declined, or no one to ask): stop this VM there, one answer per VM.
                if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target $target -Action 'Remove (merge it into the next restore point)' -EnableException $EnableException)) { break }
                # One failure, one record: the later points of this VM cannot go once one could not.
                $result = @(& $prune $request.Repository $request.Name @('--point', $id))
                if ($result.Count -gt 0 -and $result[0] -is [bool]) { break }
                $result
            }
        }
    }
}
