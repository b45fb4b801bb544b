function Test-VMBackupHost {
    <#
    .SYNOPSIS
        Checks a Hyper-V host, its VMs and a repository before you trust backups of them.
    .DESCRIPTION
        The preflight an administrator runs first (the core's `hvbackup doctor`). One result per
        check, each a HyperVBackup.HostCheck with Name, Passed, Detail and Remedy:
          Operating system                  the Windows release and build (Win32_OperatingSystem)
          Hyper-V host version              Windows Server 2016 (build 14393) or later
          Hyper-V namespace                 root\virtualization\v2 answers
          Virtual Machine Management service   vmms is running
          Rights                            the namespace is readable and a method call is allowed
          Rights (this account's token)     an elevated Administrator or a Hyper-V Administrator
          <VM>: configuration version       6.2 or later, so backups after the first are RCT incrementals
          <VM>: disk format                 VHDX (a VHD disk is copied whole every time)
          <VM>: pass-through or shared disks   none (they are not in checkpoints)
          <VM>: guest backup integration    the Backup (volume shadow copy) service answers
          <VM>: free space for checkpoints  beside the VM's disks
          Repository location               a local path, or a UNC path's share the host's computer
                                            account writes; a mapped drive letter fails (with -Path)
          Repository                        reachable and writable (with -Path)
        Every VM of the host is checked, or the ones named. With -OutFile the results are also
        written as JSON (computer, time, passed, checks): a file a user can send back.
    .PARAMETER VMName
        The VMs to check (default: every VM of the host). Accepts VM objects from Get-VM.
    .PARAMETER Path
        A repository to check for reachability and write access.
    .PARAMETER Deep
        Also run the product end to end on a scratch VM: a new VM with a new 64 MiB VHDX is made
        in the host's default folder (through DefineSystem, AddResourceSettings and
        CreateVirtualHardDisk), backed up full and incremental (into -Path, else a repository in
        the scratch folder), restored side by side under a new id, the restored disk compared
        with the source, and everything removed again (both VMs, their checkpoints and reference
        points, the disks, the scratch VM's restore points), also after a failure. One
        HostCheck per step ('Deep: ...'). Takes a minute or two on a host.
    .PARAMETER OutFile
        Also write the results to this JSON file.
    .PARAMETER LabPath
        Check a lab host (made with `hvbackup lab init`) instead of the local Hyper-V host.
    .PARAMETER ComputerName
        Check another Hyper-V host: the checks run there through PowerShell remoting
        (HyperVBackup must be installed there); -OutFile is written here.
    .PARAMETER Credential
        Credentials for the connection to -ComputerName.
    .PARAMETER CimSession
        The CimSession the host requests use (the local host only; see docs/windows.md).
    .PARAMETER EnableException
        Throw the first error instead of writing it. A failed check is a result, not an error.
    .EXAMPLE
        PS C:\> Test-VMBackupHost -Path \\nas\hv-backups | Where-Object { -not $_.Passed }
        Shows the checks that failed, each with its remedy.
    .EXAMPLE
        PS C:\> Test-VMBackupHost -VMName web01 -OutFile C:\Temp\hvbackup-report.json
        Checks the host and web01, and writes the report to send back.
    .EXAMPLE
        PS C:\> Test-VMBackupHost -Deep -Path \\nas\hv-backups -OutFile C:\Temp\hvbackup-deep.json
        Runs every check, then backs up, restores and compares a scratch VM into the real repository, removes it, and writes the report.
    .EXAMPLE
        PS C:\> Get-VM -ComputerName HV02 | Test-VMBackupHost -ComputerName HV02 -Credential (Get-Credential)
        Runs the checks on HV02 through PowerShell remoting, for the VMs Get-VM lists there.
    .OUTPUTS
        HyperVBackup.HostCheck
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.HostCheck')]
    param(
        [Parameter(Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [string[]] $VMName,

        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [switch] $Deep,

        [ValidateNotNullOrEmpty()]
        [string] $OutFile,

        [Parameter(DontShow)]
        [ValidateNotNullOrEmpty()]
        [string] $LabPath,

        [string] $ComputerName,

        [System.Management.Automation.PSCredential]
        [System.Management.Automation.Credential()]
        $Credential,

        [object] $CimSession,

        [switch] $EnableException
    )

    begin {
        $names = [System.Collections.Generic.List[string]]::new()
        $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    }

    process {
        foreach ($name in @($VMName)) { if (-not [string]::IsNullOrWhiteSpace($name) -and -not $names.Contains($name)) { $names.Add($name) } }
    }

    end {
        $checks = [System.Collections.Generic.List[object]]::new()
        $computer = [System.Environment]::MachineName
        if (-not (Test-HvbLocalComputer -ComputerName $ComputerName)) {
            $override = @{}
            if ($names.Count -gt 0) { $override['VMName'] = $names.ToArray() }
            foreach ($check in @(Invoke-HvbForwardedCommand -BoundParameters $PSBoundParameters -ComputerName $ComputerName -Credential $Credential -CommandName 'Test-VMBackupHost' -Exclude 'OutFile' -Override $override)) {
                $checks.Add([pscustomobject]@{ PSTypeName = 'HyperVBackup.HostCheck'; Name = [string]$check.Name; Passed = [bool]$check.Passed; Detail = [string]$check.Detail; Remedy = [string]$check.Remedy })
            }
            $computer = $ComputerName
        } else {
            $arguments = [System.Collections.Generic.List[string]]::new()
            $arguments.Add('doctor')
            foreach ($name in $names) { $arguments.Add('--vm'); $arguments.Add($name) }
            if ($Deep) { $arguments.Add('--deep') }
            if ($PSBoundParameters.ContainsKey('Path')) { $arguments.Add('--repo'); $arguments.Add((Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet)) }
            if ($PSBoundParameters.ContainsKey('LabPath')) { $arguments.Add('--lab'); $arguments.Add((Resolve-HvbPath -Path $LabPath -Cmdlet $PSCmdlet)) }
            $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -HostChannel -CimSession $session -ArgumentList $arguments.ToArray() `
                -ErrorHandling (Get-HvbErrorHandling -EnableException $EnableException) -TargetObject $computer -ProgressActivity 'Checking the host'
            foreach ($data in $outcome.Data) {
                foreach ($check in @(Get-HvbProperty $data 'checks' @())) {
                    if ($null -eq $check) { continue }
                    $checks.Add([pscustomobject]@{
                            PSTypeName = 'HyperVBackup.HostCheck'
                            Name       = [string](Get-HvbProperty $check 'name' '')
                            Passed     = [bool](Get-HvbProperty $check 'passed' $false)
                            Detail     = [string](Get-HvbProperty $check 'detail' '')
                            Remedy     = [string](Get-HvbProperty $check 'remedy' '')
                        })
                }
            }
        }

        # The token of this account, on a real host only (a lab host has no rights to check).
        if ((Test-HvbLocalComputer -ComputerName $ComputerName) -and -not $PSBoundParameters.ContainsKey('LabPath') -and [string]::IsNullOrEmpty($env:HYPERVBACKUP_LAB)) {
            $token = Get-HvbTokenRightsCheck
            if ($null -ne $token) { $checks.Add($token) }
        }

        if ($PSBoundParameters.ContainsKey('OutFile') -and $checks.Count -gt 0) {
            $passed = $true
            $rows = [System.Collections.Generic.List[object]]::new()
            foreach ($check in $checks) {
                if (-not $check.Passed) { $passed = $false }
                $rows.Add([ordered]@{ name = $check.Name; passed = $check.Passed; detail = $check.Detail; remedy = $check.Remedy })
            }
            $report = [ordered]@{
                computer = $computer
                time     = [datetime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', [System.Globalization.CultureInfo]::InvariantCulture)
                module   = [string]$MyInvocation.MyCommand.Module.Version
                passed   = $passed
                checks   = $rows.ToArray()
            }
            $file = Resolve-HvbPath -Path $OutFile -Cmdlet $PSCmdlet
            [System.IO.File]::WriteAllText($file, (ConvertTo-HvbJsonText -Value $report), [System.Text.UTF8Encoding]::new($false))
        }
        foreach ($check in $checks) { $check }
    }
}
