function Invoke-HvbBackupRun {
    <#
    .SYNOPSIS
        One run of the core's `backup` for New-RecoveryBackup: every VM, group or --all at once.
    .DESCRIPTION
        Adds --vm, --group and --all to the options New-RecoveryBackup built, runs the core once
        (so --parallel and the run's summary cover every VM), returns a HyperVBackup.RestorePoint
        per VM backed up (the members of a group's set carry its SetId) in the order given, and
        writes one ErrorRecord per VM or group that failed (TargetObject: its name).
    .PARAMETER Cmdlet
        New-RecoveryBackup's $PSCmdlet.
    .PARAMETER CimSession
        The CimSession for host requests.
    .PARAMETER Options
        The words after `backup` other than the selection (--repo R, --full, ...).
    .PARAMETER VMName
        VM names, ids or patterns.
    .PARAMETER VMGroup
        VM group names.
    .PARAMETER All
        Every VM of the host.
    .PARAMETER Repository
        The repository's full path (the points' Repository).
    .PARAMETER EnableException
        Throw the first failure.
    .EXAMPLE
        PS C:\> Invoke-HvbBackupRun -Cmdlet $PSCmdlet -Options '--repo', 'D:\Backups' -VMName web01 -Repository 'D:\Backups'
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [object] $CimSession,
        [Parameter(Mandatory)] [string[]] $Options,
        [string[]] $VMName = @(),
        [string[]] $VMGroup = @(),
        [bool] $All,
        [Parameter(Mandatory)] [string] $Repository,
        [bool] $EnableException
    )

    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.Add('backup')
    foreach ($vm in $VMName) { $arguments.Add('--vm'); $arguments.Add($vm) }
    foreach ($group in $VMGroup) { $arguments.Add('--group'); $arguments.Add($group) }
    if ($All) { $arguments.Add('--all') }
    foreach ($word in $Options) { $arguments.Add($word) }

    $target = $Repository
    if ($VMName.Count + $VMGroup.Count -eq 1 -and -not $All) { $target = @($VMName + $VMGroup)[0] }
    # A failed VM of several is reported by the core as a warning and in the results; it
    # becomes an ErrorRecord below, so the warning goes to the verbose stream.
    $outcome = Invoke-HvbCore -Cmdlet $Cmdlet -HostChannel -CimSession $CimSession -ArgumentList $arguments.ToArray() -ErrorHandling Collect `
        -TargetObject $target -ProgressActivity 'Backing up' -QuietWarningCode 'BackupFailed'

    $failures = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
    foreach ($record in $outcome.Errors) { $failures.Add($record) }
    $points = [System.Collections.Generic.List[object]]::new()
    $failed = [System.Collections.Generic.List[object]]::new()
    foreach ($data in $outcome.Data) {
        if ($null -eq $data) { continue }
        $entries = Get-HvbProperty $data 'results' $null
        if ($null -eq $entries) {
            # One VM: the point itself; one group: its entry.
            if ($null -ne $data.PSObject.Properties['id']) { $points.Add($data); continue }
            $entries = @($data)
        }
        foreach ($entry in @($entries)) {
            if ($null -eq $entry) { continue }
            $isGroup = $null -ne $entry.PSObject.Properties['group']
            if (-not [bool](Get-HvbProperty $entry 'ok' $false)) { $failed.Add($entry); continue }
            if ($isGroup) {
                foreach ($point in @(Get-HvbProperty $entry 'points' @())) { if ($null -ne $point) { $points.Add($point) } }
            } else {
                $point = Get-HvbProperty $entry 'point' $null
                if ($null -ne $point) { $points.Add($point) }
            }
        }
    }

    # Points of the VMs named in the order they were given (the core may finish them in any
    # order), then the others (patterns, -All, group members) in the core's order.
    $emitted = [System.Collections.Generic.HashSet[object]]::new()
    foreach ($vm in $VMName) {
        foreach ($point in $points) {
            if ($emitted.Contains($point)) { continue }
            if ([string](Get-HvbProperty $point 'vmName' '') -eq $vm -or [string](Get-HvbProperty $point 'vmId' '') -eq $vm) {
                [void]$emitted.Add($point)
                ConvertTo-HvbRestorePoint -InputObject $point -Repository $Repository
            }
        }
    }
    foreach ($point in $points) { if (-not $emitted.Contains($point)) { ConvertTo-HvbRestorePoint -InputObject $point -Repository $Repository } }
    foreach ($entry in $failed) {
        $name = [string](Get-HvbProperty $entry 'vm' (Get-HvbProperty $entry 'group' ''))
        $what = "'$name'"
        if ($null -ne $entry.PSObject.Properties['group']) { $what = "VM group '$name' (no member got a new point)" }
        $reason = Get-HvbProperty $entry 'error' $null
        $code = [string](Get-HvbProperty $entry 'code' 'BackupFailed')
        $category = [string](Get-HvbProperty $entry 'category' 'NotSpecified')
        # Newer cores may report the error as an object {code, category, message}.
        if ($reason -is [System.Management.Automation.PSCustomObject]) {
            $code = [string](Get-HvbProperty $reason 'code' $code)
            $category = [string](Get-HvbProperty $reason 'category' $category)
            $reason = Get-HvbProperty $reason 'message' ''
        }
        $failures.Add((ConvertTo-HvbErrorRecord -Code $code -Category $category -Target $name -Message "Backup of $what failed: $reason"))
    }
    # The run's summary (several VMs): how each went and how long it ran on a checkpoint, as
    # one record of the Information stream (-InformationVariable), its text for the host.
    foreach ($data in $outcome.Data) {
        $summary = Get-HvbProperty $data 'summary' $null
        if ($null -eq $summary) { continue }
        $vmRuns = @(foreach ($entry in @(Get-HvbProperty $data 'results' @())) {
            if ($null -eq $entry -or $null -ne $entry.PSObject.Properties['group']) { continue }
            [pscustomobject]@{
                PSTypeName        = 'HyperVBackup.BackupRunVM'
                VMName            = [string](Get-HvbProperty $entry 'vm' '')
                Succeeded         = [bool](Get-HvbProperty $entry 'ok' $false)
                Node              = Get-HvbProperty $entry 'node' $null
                Bytes             = [long](Get-HvbProperty $entry 'bytes' 0)
                Seconds           = [double](Get-HvbProperty $entry 'seconds' 0)
                CheckpointSeconds = [double](Get-HvbProperty $entry 'checkpointSeconds' 0)
            }
        })
        $run = [pscustomobject]@{
            PSTypeName              = 'HyperVBackup.BackupRunSummary'
            Total                   = [int](Get-HvbProperty $summary 'total' 0)
            Succeeded               = [int](Get-HvbProperty $summary 'succeeded' 0)
            Failed                  = [int](Get-HvbProperty $summary 'failed' 0)
            Bytes                   = [long](Get-HvbProperty $summary 'bytes' 0)
            Seconds                 = [double](Get-HvbProperty $summary 'seconds' 0)
            MedianCheckpointSeconds = [double](Get-HvbProperty $summary 'medianCheckpointSeconds' 0)
            StorageSnapshot         = [bool](Get-HvbProperty $summary 'storageSnapshot' $false)
            VMs                     = $vmRuns
        }
        $with = ''
        if ($run.StorageSnapshot) { $with = ' (with one storage snapshot)' }
        $Cmdlet.WriteInformation([System.Management.Automation.InformationRecord]::new($run, 'New-RecoveryBackup'))
        $Cmdlet.WriteVerbose("$($run.Succeeded) of $($run.Total) VMs backed up, $($run.Failed) failed; $($run.Bytes) bytes added in $($run.Seconds) s; median $($run.MedianCheckpointSeconds) s on a checkpoint$with")
    }
    foreach ($record in $failures) {
        Write-HvbErrorRecord -Cmdlet $Cmdlet -Record $record -EnableException $EnableException
    }
}
