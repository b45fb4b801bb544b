#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Pester 5 tests that only a real Hyper-V host can answer (tagged 'HyperV'); everywhere else
    each is skipped with its reason. Run them with build/Invoke-HvbPester.ps1 on a host, in an
    elevated session, from a source checkout (Node.js and npm run build) or the package.

    1. Test-VMBackupHost -Deep, first: the documented calls the lab emulates (DefineSystem,
       AddResourceSettings with hand-built resource instances, CreateVirtualHardDisk), a full and
       an incremental backup through real WMI and real RCT, a side-by-side restore through
       ImportSystemDefinition, the disks compared, and nothing left behind; plus the host checks
       the lab can only pose: Windows release and build, rights of this token, vmms.
    2. A running VM backed up application-consistent: the guest's VSS writers through the
       Backup integration service, which no lab has. Names the VM in $env:HVB_PESTER_VM (a
       running VM with a Windows guest and integration services); the test does not change it
       beyond a recovery checkpoint that the backup removes again.
    3. The package's standalone command: bin\hvbackup.exe of `npm run package` reaching WMI on its
       own, through the edge-js addon and the shim assembly compiled at build time beside it (no
       Node.js, no compiler on the host). Names the package folder in $env:HVB_PESTER_PACKAGE
       (dist\HyperVBackup\<version>, copied to the host).
#>

BeforeAll {
    $script:RepoRoot = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($PSScriptRoot, '..', '..'))
    $script:Manifest = [System.IO.Path]::Combine($script:RepoRoot, 'HyperVBackup.psd1')
    Get-Module HyperVBackup | Remove-Module -Force
    Import-Module $script:Manifest -Force -ErrorAction Stop

    $script:HostSkipReason = $null
    if (-not (Get-Command New-VM -ErrorAction Ignore)) {
        $script:HostSkipReason = 'needs a Hyper-V host: the Hyper-V PowerShell module (New-VM, Get-VM) is not available here'
    } elseif (-not (Get-Command node -CommandType Application -ErrorAction Ignore) -and
        -not [System.IO.File]::Exists([System.IO.Path]::Combine($script:RepoRoot, 'module', 'bin', 'hvbackup.exe'))) {
        $script:HostSkipReason = 'needs a Hyper-V host with the core: Node.js 20+ and npm run build, or the package (bin\hvbackup.exe)'
    }
    $script:GuestSkipReason = $script:HostSkipReason
    if ($null -eq $script:GuestSkipReason -and [string]::IsNullOrEmpty($env:HVB_PESTER_VM)) {
        $script:GuestSkipReason = 'needs a Hyper-V host with a running VM whose guest runs the Backup integration service: set HVB_PESTER_VM to its name'
    }
}

AfterAll {
    Get-Module HyperVBackup | Remove-Module -Force
}

Describe 'Test-VMBackupHost -Deep on a real Hyper-V host' -Tag 'HyperV', 'Node' {
    It 'makes, backs up, restores, compares and removes a scratch VM, and passes the host checks' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason; return }
        $report = Join-Path $TestDrive 'deep.json'
        $repository = Join-Path $TestDrive 'repo'
        $before = @(Get-VM | ForEach-Object { $_.Id })
        $checks = @(Test-VMBackupHost -Deep -Path $repository -OutFile $report)
        $deep = @($checks | Where-Object { $_.Name -like 'Deep: *' })
        @($deep | ForEach-Object { $_.Name }) | Should -Be @('Deep: scratch VM', 'Deep: full backup', 'Deep: incremental backup', 'Deep: restore side by side', 'Deep: compare disks', 'Deep: clean up')
        foreach ($check in $deep) { $check.Passed | Should -BeTrue -Because "$($check.Name): $($check.Detail)" }
        foreach ($name in 'Operating system', 'Hyper-V host version', 'Hyper-V namespace', 'Virtual Machine Management service', 'Rights', "Rights (this account's token)") {
            $check = @($checks | Where-Object { $_.Name -eq $name })[0]
            $check | Should -Not -BeNullOrEmpty -Because "the check '$name' runs on a host"
            $check.Passed | Should -BeTrue -Because "$name`: $($check.Detail)"
        }
        # Nothing is left: the same VMs, no scratch VM of any name, the report written.
        @(Get-VM | ForEach-Object { $_.Id }) | Should -Be $before
        @(Get-VM -Name 'hvbackup-doctor-*' -ErrorAction Ignore) | Should -BeNullOrEmpty
        [System.IO.File]::Exists($report) | Should -BeTrue
    }
}

Describe 'A running VM backed up application-consistent' -Tag 'HyperV', 'Node' {
    BeforeAll {
        $script:Repository = Join-Path $TestDrive 'repo-app'
    }

    It 'takes an application-consistent point through the guest, leaves no recovery checkpoint, and the point verifies' {
        if ($script:GuestSkipReason) { Set-ItResult -Skipped -Because $script:GuestSkipReason; return }
        $vm = Get-VM -Name $env:HVB_PESTER_VM -ErrorAction Stop
        $vm.State | Should -Be 'Running'
        $point = $vm | New-RecoveryBackup -Path $script:Repository -ConsistencyLevel Application -NoCrashFallback -Confirm:$false -EnableException
        $point.ConsistencyLevel | Should -Be 'Application'
        $point.Kind | Should -Be 'Full'
        Get-VMSnapshot -VMName $vm.Name -SnapshotType Recovery -ErrorAction Ignore | Should -BeNullOrEmpty
        Test-VMBackup -Path $script:Repository -VMName $vm.Name -Deep -Quiet | Should -BeTrue
        $next = $vm | New-RecoveryBackup -Path $script:Repository -ConsistencyLevel Application -NoCrashFallback -Confirm:$false -EnableException
        $next.Kind | Should -Be 'Incremental'
        $next.ConsistencyLevel | Should -Be 'Application'
    }
}

Describe "The package's standalone command on a real Hyper-V host" -Tag 'HyperV' {
    It 'reaches WMI through the precompiled shim: doctor --json answers the namespace, the rights and vmms' {
        $package = $env:HVB_PESTER_PACKAGE
        if (-not (Get-Command New-VM -ErrorAction Ignore)) { Set-ItResult -Skipped -Because 'needs a Hyper-V host: the Hyper-V PowerShell module is not available here'; return }
        if ([string]::IsNullOrEmpty($package) -or -not [System.IO.File]::Exists([System.IO.Path]::Combine($package, 'bin', 'hvbackup.exe'))) {
            Set-ItResult -Skipped -Because 'needs the package: set HVB_PESTER_PACKAGE to a folder made by npm run package (it holds bin\hvbackup.exe)'; return
        }
        $exe = [System.IO.Path]::Combine($package, 'bin', 'hvbackup.exe')
        $lines = @(& $exe doctor --json 2>&1 | ForEach-Object { "$_" })
        $result = $lines | Where-Object { $_ -like '{"type":"result"*' } | Select-Object -Last 1
        $result | Should -Not -BeNullOrEmpty -Because ($lines -join [Environment]::NewLine)
        $checks = @(($result | ConvertFrom-Json).data.checks)
        foreach ($name in 'Hyper-V namespace', 'Rights', 'Virtual Machine Management service') {
            $check = @($checks | Where-Object { $_.name -eq $name })[0]
            $check | Should -Not -BeNullOrEmpty -Because "the standalone command runs the check '$name'"
            $check.passed | Should -BeTrue -Because "$name`: $($check.detail)"
        }
    }
}
