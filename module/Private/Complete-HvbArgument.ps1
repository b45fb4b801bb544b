function Complete-HvbArgument {
    <#
    .SYNOPSIS
        Tab completion of -VMName (VMs of the repository or of the host) and -RestorePointId.
    .DESCRIPTION
        Called by the completers Register-HvbArgumentCompleter registers, with the arguments of
        Register-ArgumentCompleter's script block. Reads what the command line already has:
          -VMName of a command with a repository (-Path given): the VMs backed up there.
          -VMName of a host command: the VMs of the lab (-LabPath) or of this host (Hyper-V's
             Get-VM when the Hyper-V module is there, else Msvm_ComputerSystem over CIM; on
             -ComputerName when the command line has it).
          -RestorePointId (-Path and usually -VMName given): the restore point ids, newest
             first, with time and kind as the tooltip.
        Completion must never disturb the prompt: any failure completes nothing.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -VMName w<Tab>
        Completes to web01 when web01 has backups in D:\Backups.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.CompletionResult])]
    param(
        [string] $CommandName,
        [string] $ParameterName,
        [string] $WordToComplete,
        [System.Collections.IDictionary] $FakeBoundParameters
    )

    $typed = $WordToComplete.Trim([char[]]@([char]39, [char]34))
    $pattern = [System.Management.Automation.WildcardPattern]::new("$([System.Management.Automation.WildcardPattern]::Escape($typed))*",
        [System.Management.Automation.WildcardOptions]::IgnoreCase)
    $resolve = { param([string] $Path) $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path) }
    # (text, tooltip) pairs, in the order they should be offered.
    $candidates = [System.Collections.Generic.List[object]]::new()
    try {
        if ($ParameterName -eq 'RestorePointId' -or $FakeBoundParameters.Contains('Path') -and $CommandName -notin 'New-RecoveryBackup', 'Get-VMBackupReadiness', 'Clear-VMBackupCheckpoint', 'Test-VMBackupHost') {
            if (-not $FakeBoundParameters.Contains('Path')) { return }
            $vm = $null
            if ($ParameterName -eq 'RestorePointId' -and $FakeBoundParameters.Contains('VMName')) { $vm = @($FakeBoundParameters['VMName'])[0] }
            $points = @(Get-HvbRestorePointList -Repository (& $resolve ([string]$FakeBoundParameters['Path'])) -VMName $vm -Cmdlet $PSCmdlet -ErrorHandling Throw)
            if ($ParameterName -eq 'RestorePointId') {
                foreach ($point in (ConvertTo-HvbSortedRestorePoint -InputObject $points)) {
                    $candidates.Add(@($point.RestorePointId, "$($point.VMName) $($point.Time) $($point.Kind)"))
                }
            } else {
                $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
                foreach ($point in $points) { if ($seen.Add($point.VMName)) { $candidates.Add(@($point.VMName, "$($point.VMName) ($($point.VMId))")) } }
            }
        } elseif ($FakeBoundParameters.Contains('LabPath')) {
            $outcome = Invoke-HvbCore -ArgumentList 'lab', 'ls', '--lab', (& $resolve ([string]$FakeBoundParameters['LabPath'])) -ErrorHandling Collect
            foreach ($data in $outcome.Data) {
                foreach ($machine in @(Get-HvbProperty $data 'vms' @())) { $candidates.Add(@([string]$machine.name, "$($machine.name) ($($machine.state))")) }
            }
        } elseif ($null -ne (Get-Command -Name 'Get-VM' -Module 'Hyper-V' -ErrorAction Ignore)) {
            # The VMs of the host the command will work on: -ComputerName when it is given.
            $where = @{}
            if ($FakeBoundParameters.Contains('ComputerName')) { $where['ComputerName'] = [string]$FakeBoundParameters['ComputerName'] }
            foreach ($machine in @(& 'Hyper-V\Get-VM' @where -ErrorAction Ignore)) { $candidates.Add(@([string]$machine.Name, "$($machine.Name) ($($machine.State))")) }
        } elseif ($null -ne (Get-Command -Name 'Get-CimInstance' -ErrorAction Ignore)) {
            $where = @{}
            if ($FakeBoundParameters.Contains('ComputerName')) { $where['ComputerName'] = [string]$FakeBoundParameters['ComputerName'] }
            foreach ($machine in @(& 'CimCmdlets\Get-CimInstance' @where -Namespace 'root/virtualization/v2' -ClassName 'Msvm_ComputerSystem' -Filter "Caption = 'Virtual Machine'" -ErrorAction Ignore)) {
                $candidates.Add(@([string]$machine.ElementName, [string]$machine.ElementName))
            }
        }
    } catch {
        $PSCmdlet.WriteDebug("HyperVBackup completion: $($_.Exception.Message)")
        return
    }
    foreach ($candidate in $candidates) {
        $text = $candidate[0]
        if ([string]::IsNullOrEmpty($text) -or -not $pattern.IsMatch($text)) { continue }
        $quoted = $text
        if ($text -match '[\s''"`$;,(){}&|@#<>]') { $quoted = "'" + $text.Replace("'", "''") + "'" }
        [System.Management.Automation.CompletionResult]::new($quoted, $text, 'ParameterValue', $candidate[1])
    }
}
