#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
<#
    Pester 5 tests of the HyperVBackup module for Windows PowerShell 5.1 and PowerShell 7, on a
    Hyper-V host or any machine with Node.js 20+. Run them with build/Invoke-HvbPester.ps1.

    - Parameter contracts: an accidental rename or removal of a parameter fails here.
    - -WhatIf: Convert-VhdxFile writes nothing.
    - Output type names, with the core mocked (no Node.js needed) and, tagged 'HyperV', on a VHDX
      made by New-VHD (needs the Hyper-V PowerShell module) and 'Node' on one made by the core.

    The backup commands (New-RecoveryBackup, Get-VMBackup, Restore-VMFromBackup, Test-VMBackup,
    Remove-VMBackup, Export-VMBackupDisk, Get-VMBackupReadiness, Clear-VMBackupCheckpoint) have
    their contract, -WhatIf and output-type tests in HyperVBackup.Backup.Tests.ps1.
#>

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

    # What `hvbackup vhdx info --json` returns for a 64 MiB dynamic disk.
    function New-FakeInfo([string] $Path) {
        [pscustomobject]@{
            path               = $Path
            format             = 'vhdx'
            type               = 'dynamic'
            virtualSize        = [long]67108864
            blockSize          = [long]33554432
            logicalSectorSize  = [long]512
            physicalSectorSize = [long]4096
            virtualDiskId      = '0d5f8c7e-93a1-4a57-9d36-2f0f3c1b0a11'
            dataWriteGuid      = '5b8f0e2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b'
            fileWriteGuid      = '6c9f1f3b-2d4e-5f60-9bac-1d2e3f4a5b6c'
            parentLocator      = $null
            chain              = @([pscustomobject]@{ path = $Path; type = 'dynamic'; dataWriteGuid = '5b8f0e2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b' })
        }
    }

}

AfterAll {
    Get-Module HyperVBackup | Remove-Module -Force
}

Describe 'HyperVBackup manifest' {
    It 'passes Test-ModuleManifest' {
        { Test-ModuleManifest -Path $script:Manifest -ErrorAction Stop } | Should -Not -Throw
    }

    It 'exports exactly the functions it lists, without wildcards' {
        $manifest = Test-ModuleManifest -Path $script:Manifest
        $listed = @($manifest.ExportedFunctions.Keys | Sort-Object)
        $listed | Should -Not -Contain '*'
        @((Get-Module HyperVBackup).ExportedFunctions.Keys | Sort-Object) | Should -Be $listed
        @((Get-Module HyperVBackup).ExportedCmdlets.Keys).Count | Should -Be 0
        @((Get-Module HyperVBackup).ExportedAliases.Keys).Count | Should -Be 0
    }

    It 'exports the backup commands' {
        $exported = @((Get-Module HyperVBackup).ExportedFunctions.Keys)
        foreach ($name in 'New-RecoveryBackup', 'Get-VMBackup', 'Restore-VMFromBackup', 'Test-VMBackup', 'Remove-VMBackup',
            'Export-VMBackupDisk', 'Get-VMBackupReadiness', 'Clear-VMBackupCheckpoint') {
            $exported | Should -Contain $name
        }
    }
}

Describe 'Get-VhdxFileInfo' {
    It 'has the known parameters' {
        Get-OwnParameter Get-VhdxFileInfo | Should -Be (@('EnableException', 'Path') | Sort-Object)
    }

    It 'takes -Path from the pipeline by value and by FullName/PSPath' {
        $path = (Get-Command Get-VhdxFileInfo).Parameters['Path']
        $path.Aliases | Should -Contain 'FullName'
        $path.Aliases | Should -Contain 'PSPath'
        $attribute = $path.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        $attribute.Mandatory | Should -BeTrue
        $attribute.ValueFromPipeline | Should -BeTrue
        $attribute.ValueFromPipelineByPropertyName | Should -BeTrue
    }

    It 'declares and returns HyperVBackup.VhdxInfo (core mocked)' {
        (Get-Command Get-VhdxFileInfo).OutputType.Name | Should -Contain 'HyperVBackup.VhdxInfo'
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            [pscustomobject]@{ ExitCode = 0; Data = @(New-FakeInfo -Path $ArgumentList[2]); Errors = @(); StandardError = '' }
        }
        $info = Get-VhdxFileInfo -Path (Join-Path $TestDrive 'fake.vhdx')
        $info.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VhdxInfo'
        $info.VirtualSize | Should -Be 67108864
        $info.VirtualDiskId | Should -BeOfType [guid]
        $info.Chain[0].PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VhdxChainEntry'
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            $ArgumentList[0] -eq 'vhdx' -and $ArgumentList[1] -eq 'info'
        }
    }

    It 'reads a VHDX made by New-VHD' -Tag 'HyperV', 'Node' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $file = Join-Path $TestDrive 'hyperv.vhdx'
        New-VHD -Path $file -SizeBytes 64MB -Dynamic | Out-Null
        $info = Get-VhdxFileInfo -Path $file
        $info.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VhdxInfo'
        $info.VirtualSize | Should -Be (Get-VHD -Path $file).Size
        $info.Type | Should -Be 'dynamic'
        $info.BlockSize | Should -Be (Get-VHD -Path $file).BlockSize
        $info.LogicalSectorSize | Should -Be (Get-VHD -Path $file).LogicalSectorSize
    }

    It 'reports a file that is not a VHDX with the core error code' -Tag 'Node' {
        if ($script:NodeSkipReason) { Set-ItResult -Skipped -Because $script:NodeSkipReason }
        $file = Join-Path $TestDrive 'not-a-disk.vhdx'
        [System.IO.File]::WriteAllBytes($file, [byte[]]::new(65536))
        $record = $null
        try { Get-VhdxFileInfo -Path $file -ErrorAction Stop } catch { $record = $_ }
        $record | Should -Not -BeNullOrEmpty
        $record.FullyQualifiedErrorId | Should -BeLike 'VhdxNotVhdx,Get-VhdxFileInfo'
        $record.CategoryInfo.Category | Should -Be 'InvalidData'
        $record.TargetObject | Should -Be $file
    }

    It 'writes one ErrorRecord when the core cannot run (no runtime)' {
        $saved = $env:HVBACKUP_NODE, $env:HVBACKUP_CLI
        try {
            # A source checkout (no bin/hvbackup executable) whose node is missing.
            $env:HVBACKUP_CLI = [System.IO.Path]::Combine($script:RepoRoot, 'module', 'HyperVBackup.psm1')
            $env:HVBACKUP_NODE = Join-Path $TestDrive 'no-such-node'
            $records = $null
            Get-VhdxFileInfo -Path (Join-Path $TestDrive 'any.vhdx') -ErrorAction SilentlyContinue -ErrorVariable records
            @($records).Count | Should -Be 1
            $records[0].FullyQualifiedErrorId | Should -Be 'NodeNotFound,Get-VhdxFileInfo'
            $records[0].Exception.Message | Should -BeLike '*no-such-node*'
        } finally {
            $env:HVBACKUP_NODE, $env:HVBACKUP_CLI = $saved
        }
    }
}

Describe 'Test-VhdxFile' {
    It 'has the known parameters' {
        Get-OwnParameter Test-VhdxFile | Should -Be (@('Detailed', 'EnableException', 'ParentPath', 'Path') | Sort-Object)
    }

    It 'declares Boolean and HyperVBackup.VhdxTestResult output' {
        $types = (Get-Command Test-VhdxFile).OutputType.Name
        $types | Should -Contain 'System.Boolean'
        $types | Should -Contain 'HyperVBackup.VhdxTestResult'
    }

    It 'returns $true/$false, or a typed report with -Detailed (core mocked)' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            [pscustomobject]@{
                ExitCode = 1; Errors = @(); StandardError = ''
                Data = @([pscustomobject]@{ path = $ArgumentList[2]; ok = $false; problems = @('header 1: checksum mismatch') })
            }
        }
        $file = Join-Path $TestDrive 'bad.vhdx'
        Test-VhdxFile -Path $file | Should -BeFalse
        $report = Test-VhdxFile -Path $file -Detailed
        $report.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VhdxTestResult'
        $report.IsValid | Should -BeFalse
        $report.Problems | Should -Contain 'header 1: checksum mismatch'
    }
}

Describe 'Convert-VhdxFile' {
    It 'has the known parameters' {
        Get-OwnParameter Convert-VhdxFile |
            Should -Be (@('BlockSize', 'DestinationPath', 'EnableException', 'Force', 'LogicalSectorSize', 'ParentPath', 'PassThru', 'Path') | Sort-Object)
    }

    It 'supports ShouldProcess' {
        $parameters = (Get-Command Convert-VhdxFile).Parameters
        $parameters.ContainsKey('WhatIf') | Should -BeTrue
        $parameters.ContainsKey('Confirm') | Should -BeTrue
    }

    It 'limits -LogicalSectorSize to 512 and 4096' {
        $set = (Get-Command Convert-VhdxFile).Parameters['LogicalSectorSize'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        @($set.ValidValues | Sort-Object) | Should -Be @('4096', '512')
    }

    It 'writes nothing and does not call the core with -WhatIf' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore { throw 'the core must not run under -WhatIf' }
        $source = Join-Path $TestDrive 'source.raw'
        [System.IO.File]::WriteAllBytes($source, [byte[]]::new(1MB))
        $destination = Join-Path $TestDrive 'whatif.vhdx'
        Convert-VhdxFile -Path $source -DestinationPath $destination -WhatIf
        Test-Path $destination | Should -BeFalse
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 0 -Exactly
    }

    It 'passes the options to the core and returns HyperVBackup.VhdxInfo with -PassThru (core mocked)' {
        Mock -ModuleName HyperVBackup Invoke-HvbCore {
            if ($ArgumentList[1] -eq 'info') {
                [pscustomobject]@{ ExitCode = 0; Data = @(New-FakeInfo -Path $ArgumentList[2]); Errors = @(); StandardError = '' }
            } else {
                [pscustomobject]@{ ExitCode = 0; Data = @(); Errors = @(); StandardError = '' }
            }
        }
        $destination = Join-Path $TestDrive 'out.vhdx'
        $info = Convert-VhdxFile -Path (Join-Path $TestDrive 'in.raw') -DestinationPath $destination -BlockSize 8MB -LogicalSectorSize 4096 -PassThru -Confirm:$false
        $info.PSObject.TypeNames[0] | Should -Be 'HyperVBackup.VhdxInfo'
        Should -Invoke -ModuleName HyperVBackup Invoke-HvbCore -Times 1 -Exactly -ParameterFilter {
            $ArgumentList[1] -eq 'convert' -and ($ArgumentList -join ' ') -like '*--block-size 8388608 --logical-sector 4096*'
        }
    }

    It 'converts a real VHDX to raw and back' -Tag 'HyperV', 'Node' {
        if ($script:HostSkipReason) { Set-ItResult -Skipped -Because $script:HostSkipReason }
        $vhdx = Join-Path $TestDrive 'real.vhdx'
        New-VHD -Path $vhdx -SizeBytes 64MB -Dynamic | Out-Null
        $raw = Convert-VhdxFile -Path $vhdx -DestinationPath (Join-Path $TestDrive 'real.raw') -PassThru
        $raw | Should -BeOfType [System.IO.FileInfo]
        $raw.Length | Should -Be 64MB
        $back = Convert-VhdxFile -Path $raw.FullName -DestinationPath (Join-Path $TestDrive 'back.vhdx') -PassThru
        $back.VirtualSize | Should -Be 64MB
        Test-VhdxFile -Path $back.Path | Should -BeTrue
    }
}
