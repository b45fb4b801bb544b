#
# Module manifest for HyperVBackup.
# Keep FunctionsToExport in step with module/Public/*.ps1 (test/powershell/module.test.ts checks it).
#
@{
    RootModule           = 'module/HyperVBackup.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '2e91364c-38dd-408c-89f7-f225c921157d'
    Author               = 'The HyperVBackup authors'
    CompanyName          = 'HyperVBackup'
    Copyright            = '(c) 2026 The HyperVBackup authors. MIT License.'
    Description          = 'Backup and restore of Hyper-V virtual machines with recovery checkpoints, resilient change tracking (RCT) incrementals and plain VHDX restore points that stock Hyper-V tools can still use. Includes VHDX tools (inspect, check, convert) that work without Hyper-V.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = 'Desktop', 'Core'
    FormatsToProcess     = 'module/HyperVBackup.Format.ps1xml'
    FunctionsToExport    = @(
        'Clear-VMBackupCheckpoint'
        'Convert-VhdxFile'
        'Export-VMBackupDisk'
        'Get-VhdxFileInfo'
        'Get-VMBackup'
        'Get-VMBackupReadiness'
        'New-RecoveryBackup'
        'Remove-VMBackup'
        'Restore-VMFromBackup'
        'Test-VhdxFile'
        'Test-VMBackup'
        'Test-VMBackupHost'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Hyper-V', 'HyperV', 'Backup', 'Restore', 'VHDX', 'VHD', 'RCT', 'ChangeTracking', 'Incremental', 'Checkpoint', 'Windows', 'PSEdition_Desktop', 'PSEdition_Core')
            ProjectUri   = 'https://github.com/HyperVBackup/HyperVBackup'
            LicenseUri   = 'https://github.com/HyperVBackup/HyperVBackup/blob/main/LICENSE'
            ReleaseNotes = '0.1.0: first preview. Backup and restore of Hyper-V VMs: New-RecoveryBackup, Get-VMBackup, Restore-VMFromBackup, Test-VMBackup, Remove-VMBackup, Export-VMBackupDisk, Get-VMBackupReadiness, Clear-VMBackupCheckpoint. VHDX tools: Get-VhdxFileInfo, Test-VhdxFile, Convert-VhdxFile. All over the bundled hvbackup core; the published package carries its own Windows x64 runtime (in a source checkout the core runs on Node.js 20 or later).'
        }
    }
}
