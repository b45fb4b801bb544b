#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Pester 5 tests of HyperVBackup's backup commands for Windows PowerShell 5.1 and PowerShell 7.
    Run them with build/Invoke-HvbPester.ps1.

    - Parameter contracts: an accidental rename or removal of a parameter fails here.
    - -WhatIf: the commands that change state do not run the core's changing operation.
    - Output type names, with the core mocked (no Node.js needed).
    - Tagged 'HyperV': a real backup, listing, deep verify and side-by-side restore of a small VM
      made for the test (needs the Hyper-V module, an elevated session, Node.js and a built core).
#>

BeforeDiscovery {
    # Parameter contracts: name -> own parameters, ShouldProcess, ConfirmImpact, output types.
    $script:Contracts = @(
        @{ Name = 'New-RecoveryBackup'; Parameters = 'All', 'CimSession', 'ClearStaleLock', 'ComputerName', 'ConsistencyLevel', 'Credential', 'EnableException', 'Full', 'HashChangeDetection', 'HostThrottleLimit', 'LabPath', 'NoCrashFallback', 'OnNode', 'PassThroughDisk', 'Path', 'StorageSnapshot', 'ThrottleLimit', 'VMGroup', 'VMId', 'VMMembers', 'VMName', 'VolumeThrottleLimit'; ShouldProcess = $true; ConfirmImpact = 'Medium'; OutputType = @('HyperVBackup.RestorePoint') }
        @{ Name = 'Get-VMBackup'; Parameters = 'EnableException', 'Latest', 'Path', 'RestorePointId', 'VMName'; ShouldProcess = $false; ConfirmImpact = 'None'; OutputType = @('HyperVBackup.RestorePoint') }
        @{ Name = 'Restore-VMFromBackup'; Parameters = 'CimSession', 'ClearStaleLock', 'ComputerName', 'Credential', 'DestinationPath', 'EnableException', 'Force', 'LabPath', 'Latest', 'NewName', 'NewVMId', 'Path', 'PointInTime', 'RestorePointId', 'SetId', 'VMGroup', 'VMName'; ShouldProcess = $true; ConfirmImpact = 'High'; OutputType = @('HyperVBackup.RestoreResult') }
        @{ Name = 'Test-VMBackup'; Parameters = 'Deep', 'EnableException', 'Path', 'Quiet', 'VMName'; ShouldProcess = $false; ConfirmImpact = 'None'; OutputType = @('HyperVBackup.VerifyReport', 'System.Boolean') }
        @{ Name = 'Remove-VMBackup'; Parameters = 'ClearStaleLock', 'EnableException', 'KeepLast', 'KeepSince', 'PassThru', 'Path', 'RestorePointId', 'VMName'; ShouldProcess = $true; ConfirmImpact = 'High'; OutputType = @('HyperVBackup.PruneResult') }
        @{ Name = 'Export-VMBackupDisk'; Parameters = 'ClearStaleLock', 'DestinationPath', 'DiskIndex', 'EnableException', 'Path', 'RestorePointId', 'VMName'; ShouldProcess = $true; ConfirmImpact = 'Low'; OutputType = @('HyperVBackup.ExportedDisk') }
        @{ Name = 'Get-VMBackupReadiness'; Parameters = 'CimSession', 'ComputerName', 'Credential', 'EnableException', 'LabPath', 'Path', 'VMName'; ShouldProcess = $false; ConfirmImpact = 'None'; OutputType = @('HyperVBackup.BackupReadiness') }
        @{ Name = 'Clear-VMBackupCheckpoint'; Parameters = 'CimSession', 'ClearStaleLock', 'ComputerName', 'Credential', 'EnableException', 'LabPath', 'PassThru', 'Path', 'VMName'; ShouldProcess = $true; ConfirmImpact = 'Medium'; OutputType = @('HyperVBackup.CleanupResult') }
    )
}

BeforeAll {
    $script:RepoRoot = [System.IO.Path]::GetFullPath([System.IO.Path]::Combine($PSScriptRoot, '..', '..'))
    $script:Manifest = [System.IO.Path]::Combine($script:RepoRoot, 'HyperVBackup.psd1')
    Get-Module HyperVBackup | Remove-Module -Force
    Import-Module $script:Manifest -Force -ErrorAction Stop

    # Why the tests that run the core, and the host tests, cannot run here ($null when they can):
    # such a test is reported as skipped with the reason.
    $script:NodeSkipReason = $null
    if (-not (Get-Command node -CommandType Application -ErrorAction Ignore) -or
        -not [System.IO.File]::Exists([System.IO.Path]::Combine($script:RepoRoot, 'module', 'bin', 'hvbackup.cjs'))) {
        $script:NodeSkipReason = 'needs Node.js 20+ on PATH and a built core (npm run build)'
    }
    $script:HostSkipReason = $script:NodeSkipReason
    if (-not (Get-Command New-VM -ErrorAction Ignore)) {
        $script:HostSkipReason = 'needs a Hyper-V host: the Hyper-V PowerShell module (New-VM, New-VHD) is not available here'
    }

    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters +
        [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

    function Get-OwnParameter([string] $Name) {
        (Get-Command $Name).Parameters.Keys | Where-Object { $script:CommonParameters -notcontains $_ } | Sort-Object
    }

    function Get-PipelineBinding([string] $Command, [string] $Parameter) {
        $attribute = (Get-Command $Command).Parameters[$Parameter].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | Select-Object -First 1
        '{0}/{1}' -f $attribute.ValueFromPipeline, $attribute.ValueFromPipelineByPropertyName
    }

    # What `hvbackup backup/list --json` returns for one restore point.
    function New-FakePoint([string] $VMName = 'web01', [string] $Id = '20261120T230000.000Z-full', [string] $Kind = 'full') {
        [pscustomobject]@{
            id = $Id; vmName = $VMName; vmId = 'FCD2E188-7381-4BD5-A520-C568B01943E9'; time = '2026-11-20T23:00:00.000Z'
            kind = $Kind; consistency = 'application'; sizeBytes = [long]2327718; parentId = $null
            disks = @([pscustomobject]@{ index = [long]0; file = 'Virtual Hard Disks/00-web01.vhdx'; virtualSize = [long]33554432; method = 'full'; storedBytes = [long]2097152 })
            hasReferencePoint = $true
        }
    }

    function New-FakeOutcome($Data, [int] $ExitCode = 0) {
        [pscustomobject]@{ ExitCode = $ExitCode; Data = @($Data); Errors = @(); StandardError = '' }
    }
}

AfterAll {
    Get-Module HyperVBackup | Remove-Module -Force
}

Describe 'Backup command contracts' {
    It '<Name> has the known parameters' -TestCases $script:Contracts {
        Get-OwnParameter $Name | Should -Be (@($Parameters) | Sort-Object)
    }

    It '<Name> declares its output types' -TestCases $script:Contracts {
        $declared = @((Get-Command $Name).OutputType.Name)
        foreach ($type in $OutputType) { $declared | Should -Contain $type }
    }

    It '<Name> supports ShouldProcess only if it changes state, with the right ConfirmImpact' -TestCases $script:Contracts {
        $command = Get-Command $Name
        $command.Parameters.ContainsKey('WhatIf') | Should -Be $ShouldProcess
        $binding = $command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] }
        [string]$binding.ConfirmImpact | Should -Be $ConfirmImpact
    }

    It '<Name> has help with a synopsis, examples and every parameter described' -TestCases $script:Contracts {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeLike "*$Name*"
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
        foreach ($parameter in @($help.parameters.parameter)) {
            if ($script:CommonParameters -contains $parameter.name -or $parameter.name -in 'WhatIf', 'Confirm') { continue }
            (@($parameter.description | ForEach-Object { $_.Text }) -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$($parameter.name) of $Name"
        }
    }

    It 'takes Get-VM output in New-RecoveryBackup by Name/VMName and VMId, never its Path' {
        Get-PipelineBinding New-RecoveryBackup VMName | Should -Be 'True/True'
        (Get-Command New-RecoveryBackup).Parameters['VMName'].Aliases | Should -Contain 'Name'
        Get-PipelineBinding New-RecoveryBackup VMId | Should -Be 'False/True'
        Get-PipelineBinding New-RecoveryBackup Path | Should -Be 'False/False'
        (Get-Command New-RecoveryBackup).Parameters['Path'].Aliases | Should -Contain 'Repository'
    }

    It 'takes Repository, VMName and RestorePointId of a restore point in <_>' -TestCases @('Restore-VMFromBackup', 'Export-VMBackupDisk') {
        Get-PipelineBinding $_ Path | Should -Be 'False/True'
        Get-PipelineBinding $_ VMName | Should -Be 'False/True'
        Get-PipelineBinding $_ RestorePointId | Should -Be 'False/True'
        (Get-Command $_).Parameters['Path'].Aliases | Should -Contain 'Repository'
        (Get-Command $_).Parameters['RestorePointId'].Aliases | Should -Contain 'Id'
    }

    It 'limits -ConsistencyLevel to Application, FileSystem and CrashConsistent' {
        $set = (Get-Command New-RecoveryBackup).Parameters['ConsistencyLevel'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        @($set.ValidValues | Sort-Object) | Should -Be @('Application', 'CrashConsistent', 'FileSystem')
    }

    It 'rejects -KeepLast 0' {
        { Remove-VMBackup -Path $TestDrive -VMName web01 -KeepLast 0 -Confirm:$false } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,Remove-VMBackup'
    }
}

Describe 'Backup commands with the core mocked' {
    It 'New-RecoveryBackup runs the core once for all piped VMs and returns HyperVBackup.RestorePoint' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            New-FakeOutcome ([pscustomobject]@{ results = @(
                        [pscustomobject]@{ vm = 'sql01'; ok = $true; point = (New-FakePoint -VMName sql01) }
                        [pscustomobject]@{ vm = 'web01'; ok = $true; point = (New-FakePoint -VMName web01) }
                    ) }) 1
        }
        $points = @('web01', 'sql01' | New-RecoveryBackup -Path $TestDrive -ThrottleLimit 3)
        $points.Count | Should -Be 2
        $points[0].PSObject.TypeNames[0] | Should -Be 'HyperVBackup.RestorePoint'
        $points[0].VMName | Should -Be 'web01'
        $points[0].Kind | Should -Be 'Full'
        $points[0].ConsistencyLevel | Should -Be 'Application'
        $points[0].Time | Should -BeOfType [datetime]
        $points[0].VMId | Should -BeOfType [guid]
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            ($ArgumentList -join ' ') -like 'backup --vm web01 --vm sql01 --repo * --parallel 3'
        }
    }

    It 'New-RecoveryBackup writes one error per failed VM, with the VM as target' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            New-FakeOutcome ([pscustomobject]@{ results = @(
                        [pscustomobject]@{ vm = 'web01'; ok = $true; point = (New-FakePoint) }
                        [pscustomobject]@{ vm = 'nope'; ok = $false; error = "Cannot find a VM named or with id 'nope' on the host" }
                    ) }) 1
        }
        $points = @(New-RecoveryBackup -VMName web01, nope -Path $TestDrive -ErrorVariable failed -ErrorAction SilentlyContinue)
        $points.Count | Should -Be 1
        @($failed).Count | Should -Be 1
        $failed[0].TargetObject | Should -Be 'nope'
        $failed[0].FullyQualifiedErrorId | Should -Be 'BackupFailed,New-RecoveryBackup'
    }

    It 'New-RecoveryBackup -WhatIf does not run the core' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore { throw 'the core must not run under -WhatIf' }
        New-RecoveryBackup -VMName web01 -Path $TestDrive -WhatIf
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 0 -Exactly
    }

    It 'Get-VMBackup returns the points newest first' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            $old = New-FakePoint -Id '20261119T230000.000Z-full'
            $old.time = '2026-11-19T23:00:00.000Z'
            $new = New-FakePoint -Id '20261120T230000.000Z-incr' -Kind incremental
            New-FakeOutcome (, @($old, $new))
        }
        $points = @(Get-VMBackup -Path $TestDrive -VMName web01)
        $points.RestorePointId | Should -Be @('20261120T230000.000Z-incr', '20261119T230000.000Z-full')
        $points[0].Kind | Should -Be 'Incremental'
        @(Get-VMBackup -Path $TestDrive -VMName web01 -Latest).Count | Should -Be 1
    }

    It 'Restore-VMFromBackup -WhatIf does not run the core' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore { throw 'the core must not run under -WhatIf' }
        Restore-VMFromBackup -Path $TestDrive -VMName web01 -NewVMId -NewName copy -WhatIf
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 0 -Exactly
    }

    It 'Restore-VMFromBackup passes -PointInTime as UTC and returns HyperVBackup.RestoreResult' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            New-FakeOutcome ([pscustomobject]@{
                    vmName = 'copy'; vmId = '844B4E2C-BA6D-40DA-9B80-22127FEF46D8'; pointId = '20261120T230000.000Z-full'
                    pointTime = '2026-11-20T23:00:00.000Z'; destination = 'D:\Restore'
                    disks = @([pscustomobject]@{ index = 0; path = 'D:\Restore\Virtual Hard Disks\web01.vhdx'; virtualSize = 33554432 })
                    replacedFilesMovedTo = $null; warnings = @()
                })
        }
        $when = [datetime]::new(2026, 11, 20, 23, 30, 0, [System.DateTimeKind]::Utc)
        $result = Restore-VMFromBackup -Path $TestDrive -VMName web01 -PointInTime $when -NewVMId -NewName copy -Confirm:$false
        $result.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.RestoreResult'
        $result.VMId | Should -BeOfType [guid]
        $result.RestorePointTime | Should -BeOfType [datetime]
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            ($ArgumentList -join ' ') -like 'restore --repo * --vm web01 --point 2026-11-20T23:30:00.000Z --new-id --name copy'
        }
    }

    It 'Remove-VMBackup -WhatIf reads the catalog but does not prune' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            if ($ArgumentList[0] -eq 'prune') { throw 'prune must not run under -WhatIf' }
            New-FakeOutcome (, @((New-FakePoint -Id 'a-full'), (New-FakePoint -Id 'b-incr' -Kind incremental)))
        }
        Remove-VMBackup -Path $TestDrive -VMName web01 -KeepLast 1 -WhatIf
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 0 -Exactly -ParameterFilter { $ArgumentList[0] -eq 'prune' }
    }

    It 'Remove-VMBackup passes -KeepLast, -KeepSince (as UTC) and -ClearStaleLock to prune' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            if ($ArgumentList[0] -eq 'prune') { return (New-FakeOutcome ([pscustomobject]@{ vmName = 'web01'; removed = @('a-full'); kept = @('b-incr') })) }
            New-FakeOutcome (, @((New-FakePoint -Id 'a-full'), (New-FakePoint -Id 'b-incr' -Kind incremental)))
        }
        $since = [datetime]::new(2026, 11, 1, 0, 0, 0, [System.DateTimeKind]::Utc)
        $result = Remove-VMBackup -Path $TestDrive -VMName web01 -KeepLast 3 -KeepSince $since -ClearStaleLock -Confirm:$false -PassThru
        $result.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.PruneResult'
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            ($ArgumentList -join ' ') -like 'prune --repo * --vm web01 --keep 3 --keep-since 2026-11-01T00:00:00.000Z --clear-stale-lock'
        }
        Remove-VMBackup -Path $TestDrive -VMName web01 -KeepSince $since -Confirm:$false
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            ($ArgumentList -join ' ') -like 'prune --repo * --vm web01 --keep-since 2026-11-01T00:00:00.000Z'
        }
    }

    It 'Remove-VMBackup removes piped restore points oldest first with prune --point, and stops at the first failure' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            switch ($ArgumentList[0]) {
                'prune' {
                    if ($ArgumentList -contains 'c-incr') {
                        $record = [System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new('not the oldest'), 'PointNotOldest', 'InvalidOperation', 'c-incr')
                        $Cmdlet.WriteError($record)
                        return [pscustomobject]@{ ExitCode = 1; Data = @(); Errors = @(); StandardError = '' }
                    }
                    return (New-FakeOutcome ([pscustomobject]@{ vmName = 'web01'; removed = @($ArgumentList[-1]); kept = @() }))
                }
                default {
                    New-FakeOutcome (, @((New-FakePoint -Id 'a-full'), (New-FakePoint -Id 'b-incr' -Kind incremental), (New-FakePoint -Id 'c-incr' -Kind incremental), (New-FakePoint -Id 'd-incr' -Kind incremental)))
                }
            }
        }
        $piped = foreach ($id in 'd-incr', 'b-incr', 'a-full', 'c-incr') {
            [pscustomobject]@{ PSTypeName = 'HyperVBackup.RestorePoint'; VMName = 'web01'; RestorePointId = $id; Repository = $TestDrive }
        }
        $failures = $null
        $results = @($piped | Remove-VMBackup -Confirm:$false -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue)
        @($results | ForEach-Object { $_.Removed }) | Should -Be @('a-full', 'b-incr')
        @($failures).Count | Should -Be 1
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 3 -Exactly -ParameterFilter { $ArgumentList[0] -eq 'prune' -and $ArgumentList -contains '--point' }
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 0 -Exactly -ParameterFilter { $ArgumentList -contains 'd-incr' }
    }

    It 'Restore-VMFromBackup takes -GenerateNewId, the name Import-VM uses, for -NewVMId' {
        (Get-Command Restore-VMFromBackup).Parameters['NewVMId'].Aliases | Should -Contain 'GenerateNewId'
        Mock -ModuleName HyperVBackup Invoke-HvbCore { New-FakeOutcome ([pscustomobject]@{ vmName = 'copy'; vmId = 'A9B2C3D4-0000-4000-8000-000000000001'; pointId = 'a-full' }) }
        $null = Restore-VMFromBackup -Path $TestDrive -VMName web01 -RestorePointId a-full -GenerateNewId -ClearStaleLock -Confirm:$false
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            $ArgumentList -contains '--new-id' -and $ArgumentList -contains '--clear-stale-lock'
        }
    }

    It 'Test-VMBackup answers $false with -Quiet, and otherwise writes one ErrorRecord per damaged point after the report' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            New-FakeOutcome ([pscustomobject]@{
                    ok = $false; deep = $true; pointsChecked = 4; damagedPoints = @('web01/b-incr', 'web01/c-incr', 'web01/d-incr')
                    problems = @(
                        [pscustomobject]@{ vmName = 'web01'; pointId = 'b-incr'; disk = 0; message = 'block 3: hash mismatch' }
                        [pscustomobject]@{ vmName = 'web01'; pointId = 'b-incr'; disk = 1; message = 'block 9: hash mismatch' }
                        [pscustomobject]@{ vmName = 'web01'; pointId = 'c-incr'; disk = $null; message = 'manifest missing' }
                    )
                }) 1
        }
        $quietErrors = $null
        Test-VMBackup -Path $TestDrive -Deep -Quiet -ErrorVariable quietErrors | Should -BeFalse
        @($quietErrors).Count | Should -Be 0
        $damaged = $null
        $report = Test-VMBackup -Path $TestDrive -Deep -ErrorVariable damaged -ErrorAction SilentlyContinue
        $report.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VerifyReport'
        $report.IsValid | Should -BeFalse
        $report.Problems[0].PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VerifyProblem'
        @($damaged).Count | Should -Be 3
        $damaged[0].FullyQualifiedErrorId | Should -Be 'RestorePointDamaged,Test-VMBackup'
        @($damaged | ForEach-Object { $_.TargetObject }) | Should -Be @('b-incr', 'c-incr', 'd-incr')
        $damaged[0].Exception.Message | Should -BeLike '*disk 0: block 3*disk 1: block 9*'
        $damaged[2].Exception.Message | Should -BeLike '*depends on damaged older restore point(s) (b-incr, c-incr)*'
        { Test-VMBackup -Path $TestDrive -Deep -ErrorAction Stop } | Should -Throw -ErrorId 'RestorePointDamaged,Test-VMBackup'
    }

    It 'Export-VMBackupDisk -WhatIf does not run the core' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore { throw 'the core must not run under -WhatIf' }
        Export-VMBackupDisk -Path $TestDrive -VMName web01 -RestorePointId a-full -DestinationPath (Join-Path $TestDrive 'x.vhdx') -WhatIf
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 0 -Exactly
    }

    It 'Clear-VMBackupCheckpoint -WhatIf runs only the dry run' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            if ($ArgumentList -notcontains '--what-if') { throw 'cleanup must not run under -WhatIf' }
            New-FakeOutcome ([pscustomobject]@{ vmName = 'web01'; removedCheckpoints = @('cp1'); removedReferencePoints = @(); keptReferencePoints = @(); dryRun = $true })
        }
        Clear-VMBackupCheckpoint -VMName web01 -Path $TestDrive -WhatIf
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter { $ArgumentList -contains '--what-if' }
    }

    It 'Get-VMBackupReadiness returns HyperVBackup.BackupReadiness' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            New-FakeOutcome ([pscustomobject]@{
                    vmName = 'web01'; vmId = 'FCD2E188-7381-4BD5-A520-C568B01943E9'; state = 'Running'; configVersion = '9.0'; generation = 2
                    nextBackup = 'incremental'; disks = @([pscustomobject]@{ index = 0; path = 'C:\x.vhdx'; format = 'vhdx'; method = 'rct' })
                    expectedConsistency = 'application'; warnings = @()
                })
        }
        $ready = Get-VMBackupReadiness -VMName web01
        $ready.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.BackupReadiness'
        $ready.NextBackup | Should -Be 'Incremental'
        $ready.ConfigurationVersion | Should -Be '9.0'
    }

    It 'Get-VMBackupReadiness of a VM refused alone shows NextBackup None and, in its table, why' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            New-FakeOutcome ([pscustomobject]@{
                    ready = $false; notReady = [pscustomobject]@{ code = 'SharedDiskNotSupported'; message = "VM 'n1' shares the VHD Set 'C:\ClusterStorage\Quorum.vhds'" }
                    vmName = 'n1'; vmId = 'FCD2E188-7381-4BD5-A520-C568B01943E9'; state = 'Running'; configVersion = '9.0'; generation = 2
                    nextBackup = 'incremental'; disks = @([pscustomobject]@{ index = 0; path = 'C:\n1.vhdx'; format = 'vhdx'; method = 'rct' })
                    expectedConsistency = 'application'; warnings = @()
                })
        }
        $ready = Get-VMBackupReadiness -VMName n1
        $ready.Ready | Should -BeFalse
        $ready.NextBackup | Should -Be 'None'
        $ready.NotReady.Code | Should -Be 'SharedDiskNotSupported'
        ($ready | Format-Table | Out-String -Width 300) | Should -Match 'Not ready: SharedDiskNotSupported: .*shares the VHD Set'
    }
}

Describe 'Commands that cannot ask for confirmation' {
    # A runspace without a host UI, as a scheduled task or a -NonInteractive session: there
    # ShouldProcess cannot ask. The module's core is replaced inside that runspace (Pester's
    # mocks live in this one) by a function that records what it was asked to run.
    BeforeAll {
        function Invoke-InRunspaceWithoutUI([string] $Command, [bool] $Confirm) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript({
                        param($Manifest, $Repository, $Command, $Confirm)
                        Import-Module $Manifest
                        $global:HvbCoreCalls = [System.Collections.Generic.List[string]]::new()
                        & (Get-Module HyperVBackup) {
                            function script:Invoke-HvbCore {
                                param($Cmdlet, [string[]] $ArgumentList)
                                $global:HvbCoreCalls.Add($ArgumentList[0])
                                $point = {
                                    param($Id, $Kind, $Time)
                                    [pscustomobject]@{ id = $Id; vmName = 'web01'; vmId = 'FCD2E188-7381-4BD5-A520-C568B01943E9'; time = $Time; kind = $Kind
                                        consistency = 'application'; sizeBytes = [long]1; parentId = $null; disks = @(); hasReferencePoint = $true }
                                }
                                $data = @()
                                if ($ArgumentList[0] -eq 'list') {
                                    $data = @(, @((& $point 'a-full' 'full' '2026-11-20T23:00:00.000Z'), (& $point 'b-incr' 'incremental' '2026-11-21T23:00:00.000Z')))
                                }
                                [pscustomobject]@{ ExitCode = 0; Data = $data; Errors = @(); StandardError = '' }
                            }
                        }
                        $failures = $null
                        # As a scheduled task runs it: no -Confirm at all (ConfirmImpact High asks), or -Confirm:$false.
                        $confirmation = @{}
                        if (-not $Confirm) { $confirmation['Confirm'] = $false }
                        if ($Command -eq 'Remove-VMBackup') {
                            Remove-VMBackup -Path $Repository -VMName web01 -KeepLast 1 @confirmation -ErrorVariable failures -ErrorAction SilentlyContinue
                        } else {
                            Restore-VMFromBackup -Path $Repository -VMName web01 -NewVMId @confirmation -ErrorVariable failures -ErrorAction SilentlyContinue
                        }
                        [pscustomobject]@{ Calls = @($global:HvbCoreCalls); Errors = @($failures) }
                    }).AddArgument($script:Manifest).AddArgument([string]$TestDrive).AddArgument($Command).AddArgument($Confirm)
                $result = $ps.Invoke()
                $result[0]
            } finally {
                $ps.Dispose()
            }
        }
    }

    It '<Command> does not run the core''s <Change> and writes ConfirmationUnavailable saying to add -Confirm:$false' -TestCases @(
        @{ Command = 'Remove-VMBackup'; Change = 'prune' }
        @{ Command = 'Restore-VMFromBackup'; Change = 'restore' }
    ) {
        $outcome = Invoke-InRunspaceWithoutUI -Command $Command -Confirm $true
        @($outcome.Calls) | Should -Not -Contain $Change
        # -ErrorVariable also holds the host's own refusal, which the module catches; the
        # record the command writes is the last one.
        $record = @($outcome.Errors)[-1]
        $record.FullyQualifiedErrorId | Should -Be "ConfirmationUnavailable,$Command"
        $record.Exception.Message | Should -BeLike '*so nothing was changed*-Confirm:$false*'

        $confirmed = Invoke-InRunspaceWithoutUI -Command $Command -Confirm $false
        @($confirmed.Calls) | Should -Contain $Change
        @($confirmed.Errors).Count | Should -Be 0
    }
}

Describe 'Backup and restore on a real Hyper-V host' -Tag 'HyperV', 'Node' {
    BeforeAll {
        if ($script:HostSkipReason) { return }
        $script:VMName = "hvb-pester-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $script:Repository = Join-Path $TestDrive 'repo'
        $disk = Join-Path $TestDrive "$($script:VMName).vhdx"
        New-VHD -Path $disk -SizeBytes 64MB -Dynamic | Out-Null
        New-VM -Name $script:VMName -Generation 2 -MemoryStartupBytes 512MB -VHDPath $disk -Path $TestDrive | Out-Null
    }

    AfterAll {
        if ($script:HostSkipReason) { return }
        foreach ($name in $script:VMName, "$($script:VMName)-copy", "$($script:VMName)-piped") {
            Get-VM -Name $name -ErrorAction Ignore | Stop-VM -TurnOff -Force -ErrorAction Ignore
            Get-VM -Name $name -ErrorAction Ignore | Remove-VM -Force -ErrorAction Ignore
        }
    }

    It 'backs up a full and then an incremental' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $full = Get-VM -Name $script:VMName | New-RecoveryBackup -Path $script:Repository -ConsistencyLevel CrashConsistent
        $full.Kind | Should -Be 'Full'
        $incremental = New-RecoveryBackup -VMName $script:VMName -Path $script:Repository -ConsistencyLevel CrashConsistent
        $incremental.Kind | Should -Be 'Incremental'
        $incremental.ParentId | Should -Be $full.RestorePointId
        Get-VMSnapshot -VMName $script:VMName -SnapshotType Recovery -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'lists, verifies and restores side by side' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $points = @(Get-VMBackup -Path $script:Repository -VMName $script:VMName)
        $points.Count | Should -Be 2
        $points[0].Kind | Should -Be 'Incremental'
        Test-VMBackup -Path $script:Repository -VMName $script:VMName -Deep -Quiet | Should -BeTrue
        $result = $points[0] | Restore-VMFromBackup -NewVMId -NewName "$($script:VMName)-copy" -DestinationPath (Join-Path $TestDrive 'restore') -Confirm:$false
        $result.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.RestoreResult'
        (Get-VM -Id $result.VMId).Name | Should -Be "$($script:VMName)-copy"
        (Get-VM -Name $script:VMName).State | Should -Not -BeNullOrEmpty
    }

    It 'restores the newest point of a VM piped from Get-VM, whose own Id and Path are never taken for a point or a repository' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $newest = @(Get-VMBackup -Path $script:Repository -VMName $script:VMName)[0]
        $vm = Get-VM -Name $script:VMName
        $vm | Restore-VMFromBackup -NewVMId -NewName "$($script:VMName)-piped" -Confirm:$false -ErrorVariable refused -ErrorAction SilentlyContinue
        @($refused)[-1].FullyQualifiedErrorId | Should -Be 'RepositoryNotGiven,Restore-VMFromBackup'
        Get-VM -Name "$($script:VMName)-piped" -ErrorAction Ignore | Should -BeNullOrEmpty
        $result = $vm | Restore-VMFromBackup -Path $script:Repository -NewVMId -NewName "$($script:VMName)-piped" -DestinationPath (Join-Path $TestDrive 'restore-piped') -Confirm:$false
        $result.RestorePointId | Should -Be $newest.RestorePointId
        (Get-VM -Id $result.VMId).Name | Should -Be "$($script:VMName)-piped"
    }

    It 'keeps the newest point with Remove-VMBackup' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $result = Remove-VMBackup -Path $script:Repository -VMName $script:VMName -KeepLast 1 -Confirm:$false -PassThru
        @($result.Removed).Count | Should -Be 1
        @(Get-VMBackup -Path $script:Repository -VMName $script:VMName).Count | Should -Be 1
        Test-VMBackup -Path $script:Repository -VMName $script:VMName -Deep -Quiet | Should -BeTrue
    }
    It 'backs up from one storage snapshot (Win32_ShadowCopy) and leaves no shadow copy and no checkpoint' {
        # Only a host proves this: VSS's own provider making the shadow copy of the volume that
        # holds the VM's disk, and the checkpoint merged back before the copy ends.
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $before = @(Get-CimInstance -ClassName Win32_ShadowCopy -ErrorAction Ignore).Count
        $point = New-RecoveryBackup -VMName $script:VMName -Path $script:Repository -ConsistencyLevel CrashConsistent -StorageSnapshot -Confirm:$false -InformationVariable run -WarningVariable warned
        $point.Kind | Should -Be 'Incremental'
        $summary = @($run | ForEach-Object MessageData | Where-Object { $_.PSObject.TypeNames -contains 'HyperVBackup.BackupRunSummary' })
        # One VM is a run of one: its summary is said only for several; the warning says when VSS refused.
        if ($summary.Count -gt 0) { $summary[0].StorageSnapshot | Should -BeTrue }
        @($warned | Where-Object { "$_" -match 'No storage snapshot' }) | Should -BeNullOrEmpty
        @(Get-CimInstance -ClassName Win32_ShadowCopy -ErrorAction Ignore).Count | Should -Be $before
        Get-VMSnapshot -VMName $script:VMName -SnapshotType Recovery -ErrorAction Ignore | Should -BeNullOrEmpty
        Test-VMBackup -Path $script:Repository -VMName $script:VMName -Deep -Quiet | Should -BeTrue
    }
}
