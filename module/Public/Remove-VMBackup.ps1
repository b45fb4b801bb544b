function Remove-VMBackup {
    <#
    .SYNOPSIS
        Keeps the newest restore points of a VM and merges the older ones into the chain.
    .DESCRIPTION
        Applies a retention of -KeepLast restore points to a VM's backups in a repository.
        Backups are a forward-incremental chain (a full, then increments that each depend on the
        one before), so an old point is not simply deleted: the oldest increments are merged
        into the full in place, and the merged points disappear from the catalog. What the kept
        points restore does not change.

        The merge is crash safe: the catalog marks a point as merging before its data moves, and
        running the command again finishes an interrupted merge. Before asking for confirmation
        (ConfirmImpact High) the command reads the catalog to say which points would go, so
        -WhatIf shows them without changing anything.

        Returns nothing unless -PassThru is given; then a HyperVBackup.PruneResult (VMName,
        Removed, Kept, Repository) per VM. The ids removed are also written to the verbose stream.
    .PARAMETER Path
        The repository folder. Alias: Repository. Taken from the Repository property of piped
        restore points.
    .PARAMETER VMName
        The VM(s) whose old restore points are removed (names or ids). Accepts pipeline input:
        strings, and objects with a VMName or Name property such as the VMs of Get-VM or the
        restore points of Get-VMBackup (each VM is processed once).
    .PARAMETER KeepLast
        How many of the newest restore points to keep (at least 1: the newest point is never
        removed).
    .PARAMETER PassThru
        Return a HyperVBackup.PruneResult per VM, listing the ids removed and kept.
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Remove-VMBackup -Path \\nas\hv-backups -VMName web01 -KeepLast 14
        After confirmation, merges all but web01's newest 14 restore points into the chain.
    .EXAMPLE
        PS C:\> Remove-VMBackup -Path \\nas\hv-backups -VMName web01 -KeepLast 14 -WhatIf
        Lists the restore points that would be merged away, without changing anything.
    .EXAMPLE
        PS C:\> Get-VM | Remove-VMBackup -Path D:\Backups -KeepLast 30 -Confirm:$false -PassThru
        Applies a 30-point retention to every VM of the host, without prompting, and returns what was removed per VM.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -Latest | Remove-VMBackup -KeepLast 7 -Confirm:$false
        Applies a 7-point retention to every VM that has backups in the repository.
    .INPUTS
        System.String, or any object with a VMName or Name property and optionally a Repository property.
    .OUTPUTS
        None; with -PassThru, HyperVBackup.PruneResult.
    .LINK
        Get-VMBackup
    .LINK
        New-RecoveryBackup
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('HyperVBackup.PruneResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [Parameter(Mandatory)]
        [ValidateRange(1, 1000000)]
        [int] $KeepLast,

        [switch] $PassThru,

        [switch] $EnableException
    )

    begin {
        $errorHandling = Get-HvbErrorHandling -EnableException $EnableException
        $done = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    }

    process {
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        foreach ($name in $VMName) {
            if (-not $done.Add("$repository|$name")) { continue }

            # What would go: the points older than the newest -KeepLast (read-only, also under -WhatIf).
            $points = @(Sort-HvbRestorePoint -InputObject @(Get-HvbRestorePointList -Repository $repository -VMName $name `
                        -Cmdlet $PSCmdlet -ErrorHandling $errorHandling))
            if ($points.Count -eq 0) { continue }
            $doomed = @(for ($i = $KeepLast; $i -lt $points.Count; $i++) { $points[$i].RestorePointId })
            $action = "Keep the newest $KeepLast restore point(s): nothing to remove"
            if ($doomed.Count -gt 0) {
                [System.Array]::Reverse($doomed)
                $action = "Merge $($doomed.Count) restore point(s) ($($doomed -join ', ')) into newer ones, keeping the newest $KeepLast"
            }
            if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("backups of virtual machine '$name' in '$repository'") -Action ($action) -EnableException $EnableException)) { continue }

            $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet `
                -ArgumentList 'prune', '--repo', $repository, '--vm', $name, '--keep', ([string]$KeepLast) `
                -ErrorHandling $errorHandling -TargetObject $name -ProgressActivity "Pruning $name"
            if ($outcome.ExitCode -ne 0) { continue }
            foreach ($data in $outcome.Data) {
                if ($null -eq $data) { continue }
                $removed = [string[]]@(foreach ($id in @(Get-HvbProperty $data 'removed' @())) { if ($null -ne $id) { [string]$id } })
                $kept = [string[]]@(foreach ($id in @(Get-HvbProperty $data 'kept' @())) { if ($null -ne $id) { [string]$id } })
                foreach ($id in $removed) { $PSCmdlet.WriteVerbose("Removed restore point $id of '$name'.") }
                if ($PassThru) {
                    [pscustomobject]@{
                        PSTypeName = 'HyperVBackup.PruneResult'
                        VMName     = [string](Get-HvbProperty $data 'vmName' $name)
                        Removed    = $removed
                        Kept       = $kept
                        Repository = $repository
                    }
                }
            }
        }
    }
}
