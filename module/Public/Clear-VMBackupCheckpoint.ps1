function Clear-VMBackupCheckpoint {
    <#
    .SYNOPSIS
        Removes recovery checkpoints and stale reference points that backups left on a VM.
    .DESCRIPTION
        A backup that was killed (host crash, stopped service) can leave a recovery checkpoint on
        the VM, which keeps the VM on a differencing disk that grows until it is merged, and
        reference points of earlier backups that are no longer needed. This command merges the
        lingering recovery checkpoints back into the VM's disks and removes the reference points
        this product made that are no longer the base of the next incremental.

        Reference points of other backup products are never removed. Without -Path, the
        command cannot tell this product's reference points from other products', so it leaves
        all of them alone (with a warning); give the repository to clean them up too.

        The command first looks at what would be removed (without changing anything), then asks
        for confirmation naming it, so -WhatIf shows the checkpoints and reference points that
        would go. Returns nothing unless -PassThru is given; then a HyperVBackup.CleanupResult
        per VM (VMName, RemovedCheckpoints, RemovedReferencePoints, KeptReferencePoints).
    .PARAMETER VMName
        The virtual machine(s) to clean up, by name or id. Accepts pipeline input: strings, and
        objects with a Name or VMName property such as the VMs of Get-VM.
    .PARAMETER Path
        The repository the VM is backed up to, which tells this product's reference points
        apart (and which one the next incremental needs). Alias: Repository. Not taken from the
        pipeline, because the VMs of Get-VM have a Path property of their own.
    .PARAMETER PassThru
        Return a HyperVBackup.CleanupResult per VM.
    .PARAMETER LabPath
        Clean up a VM of a lab host (an emulated Hyper-V host in this folder) instead of the
        local Hyper-V host. For rehearsals and tests; the HYPERVBACKUP_LAB environment variable
        does the same.
    .PARAMETER ClearStaleLock
        Take over the repository lock of a run that no longer exists (the error LockStale says
        when; a run stopped by a crash or a reboot leaves one). Never needed otherwise.
    .PARAMETER ComputerName
        Clean up VMs of another Hyper-V host: the command runs there through PowerShell remoting
        (HyperVBackup must be installed there). Bound from a VM object of Get-VM -ComputerName,
        so such a VM is cleaned up on its own host, never mixed up with a local VM of the same
        name. The confirmation is asked here, before anything is looked at there.
    .PARAMETER Credential
        Credentials for the connection to -ComputerName.
    .PARAMETER CimSession
        The CimSession the module's host requests use here (the local host only: a session to
        another computer is refused, use -ComputerName for that).
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Clear-VMBackupCheckpoint -VMName web01 -Path \\nas\hv-backups -WhatIf
        Lists the recovery checkpoints and reference points that would be removed from web01, without removing them.
    .EXAMPLE
        PS C:\> Get-VM | Clear-VMBackupCheckpoint -Path \\nas\hv-backups -Confirm:$false -PassThru
        Cleans up every VM of the host after a crash during the backup window and reports what was removed.
    .EXAMPLE
        PS C:\> Get-VM -ComputerName HV02 -Name web01 | Clear-VMBackupCheckpoint -Path \\nas\hv-backups -Credential (Get-Credential)
        Cleans up web01 on HV02 through PowerShell remoting (not a local VM called web01).
    .EXAMPLE
        PS C:\> Clear-VMBackupCheckpoint web01 -Verbose
        Merges lingering recovery checkpoints of web01 and leaves reference points alone (no repository given).
    .INPUTS
        System.String, or any object with a Name or VMName property (Microsoft.HyperV.PowerShell.VirtualMachine).
    .OUTPUTS
        None; with -PassThru, HyperVBackup.CleanupResult.
    .LINK
        Get-VMBackupReadiness
    .LINK
        New-RecoveryBackup
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('HyperVBackup.CleanupResult')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [Parameter(Position = 1)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [switch] $PassThru,

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
        $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    }

    process {
        $errorHandling = Get-HvbErrorHandling -EnableException $EnableException
        if (-not (Test-HvbLocalComputer -ComputerName $ComputerName)) {
            # VMs of another host (a Get-VM object's ComputerName): cleaned up there, never here.
            $there = @(foreach ($name in $VMName) { if ((Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$name' on '$ComputerName'") -Action "Merge lingering recovery checkpoints and remove stale reference points on '$ComputerName'" -EnableException $EnableException)) { $name } })
            if ($there.Count -eq 0) { return }
            Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName $ComputerName -Credential $Credential -CommandName 'Clear-VMBackupCheckpoint' -Override @{ VMName = [string[]]$there }
            return
        }
        foreach ($name in $VMName) {
            $arguments = [System.Collections.Generic.List[string]]::new()
            foreach ($word in 'cleanup', '--vm', $name) { $arguments.Add($word) }
            if ($ClearStaleLock) { $arguments.Add('--clear-stale-lock') }
            if ($PSBoundParameters.ContainsKey('Path')) {
                $arguments.Add('--repo')
                $arguments.Add((Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet))
            }
            if ($PSBoundParameters.ContainsKey('LabPath')) {
                $arguments.Add('--lab')
                $arguments.Add((Resolve-HvbPath -Path $LabPath -Cmdlet $PSCmdlet))
            }

            # A dry run says what would go; its warnings come again with the real run.
            $dryArguments = [System.Collections.Generic.List[string]]::new($arguments)
            $dryArguments.Add('--what-if')
            $dry = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -CimSession $session -ArgumentList $dryArguments.ToArray() -ErrorHandling $errorHandling `
                -TargetObject $name -ProgressActivity "Cleaning up $name" -QuietWarningCode '*'
            if ($dry.ExitCode -ne 0) { continue }
            $plan = $null
            foreach ($data in $dry.Data) { if ($null -ne $data) { $plan = $data } }
            if ($null -eq $plan) { continue }
            $checkpoints = @(foreach ($item in @(Get-HvbProperty $plan 'removedCheckpoints' @())) { if ($null -ne $item) { ConvertTo-HvbCleanupItem $item } })
            $referencePoints = @(foreach ($item in @(Get-HvbProperty $plan 'removedReferencePoints' @())) { if ($null -ne $item) { ConvertTo-HvbCleanupItem $item } })
            if ($checkpoints.Count + $referencePoints.Count -eq 0) {
                $PSCmdlet.WriteVerbose("'$name' has no lingering recovery checkpoint and no stale reference point.")
                foreach ($kept in @(Get-HvbProperty $plan 'keptReferencePoints' @())) {
                    if ($null -ne $kept) { $PSCmdlet.WriteVerbose("Kept reference point $(ConvertTo-HvbCleanupItem $kept): $(Get-HvbProperty $kept 'reason' '')") }
                }
                if ($PassThru -and -not $WhatIfPreference) { ConvertTo-HvbCleanupResult -InputObject $plan -VMName $name }
                continue
            }
            $parts = @()
            if ($checkpoints.Count -gt 0) { $parts += "merge $($checkpoints.Count) recovery checkpoint(s) ($($checkpoints -join ', '))" }
            if ($referencePoints.Count -gt 0) { $parts += "remove $($referencePoints.Count) reference point(s) ($($referencePoints -join ', '))" }
            $action = ($parts -join ' and ')
            $action = $action.Substring(0, 1).ToUpperInvariant() + $action.Substring(1)
            if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ("virtual machine '$name'") -Action ($action) -EnableException $EnableException)) { continue }

            $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -CimSession $session -ArgumentList $arguments.ToArray() -ErrorHandling $errorHandling `
                -TargetObject $name -ProgressActivity "Cleaning up $name"
            if ($outcome.ExitCode -ne 0) { continue }
            foreach ($data in $outcome.Data) {
                if ($null -eq $data) { continue }
                foreach ($item in @(Get-HvbProperty $data 'removedCheckpoints' @())) {
                    if ($null -ne $item) { $PSCmdlet.WriteVerbose("Merged recovery checkpoint $(ConvertTo-HvbCleanupItem $item) of '$name'.") }
                }
                foreach ($item in @(Get-HvbProperty $data 'removedReferencePoints' @())) {
                    if ($null -ne $item) { $PSCmdlet.WriteVerbose("Removed reference point $(ConvertTo-HvbCleanupItem $item) of '$name'.") }
                }
                if ($PassThru) { ConvertTo-HvbCleanupResult -InputObject $data -VMName $name }
            }
        }
    }
}
