function Export-VMBackupDisk {
    <#
    .SYNOPSIS
        Writes one disk of a restore point as a standalone VHDX file.
    .DESCRIPTION
        Flattens the chain of restore points up to the chosen one for one disk into a new dynamic
        VHDX, checking every block against the manifest. No Hyper-V host is needed: use it to
        mount a backup and copy files out of it (Mount-VHD, or Mount-DiskImage on any Windows),
        or to hand a disk to another tool. The VM is not restored.

        The file is written under a temporary name and renamed when complete; an existing file is
        never replaced (DestinationExists). Returns a HyperVBackup.ExportedDisk (VMName,
        RestorePointId, DiskIndex, Path, VirtualSize, BytesWritten), whose Path can be piped to
        Get-VhdxFileInfo and Test-VhdxFile.
    .PARAMETER Path
        The repository folder. Alias: Repository. Taken from the Repository property of a piped
        restore point.
    .PARAMETER VMName
        The VM whose backup holds the disk (name or id). Taken from the VMName property of a
        piped restore point.
    .PARAMETER RestorePointId
        The restore point (an id as Get-VMBackup shows it); the newest when omitted. Taken from a
        piped restore point. Alias: Id.
    .PARAMETER DiskIndex
        Which disk of the restore point, counting from 0 in the order of the point's Disks
        property. Defaults to 0.
    .PARAMETER DestinationPath
        The .vhdx file to create, or an existing folder: then the file is named
        <VMName>_<RestorePointId>_disk<DiskIndex>.vhdx inside it.
    .PARAMETER ClearStaleLock
        Take over the repository lock of a run that no longer exists (the error LockStale says
        when; a run stopped by a crash or a reboot leaves one). Never needed otherwise.
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Export-VMBackupDisk -Path \\nas\hv-backups -VMName web01 -DestinationPath D:\Temp\web01.vhdx
        Writes disk 0 of web01's newest restore point to D:\Temp\web01.vhdx.
    .EXAMPLE
        PS C:\> Get-VMBackup \\nas\hv-backups -VMName sql01 -RestorePointId 20261120T230000.000Z-incr | Export-VMBackupDisk -DiskIndex 1 -DestinationPath D:\Temp
        Writes disk 1 of that restore point to D:\Temp\sql01_20261120T230000.000Z-incr_disk1.vhdx.
    .EXAMPLE
        PS C:\> Export-VMBackupDisk \\nas\hv-backups web01 -DestinationPath D:\Temp\web01.vhdx | Get-VhdxFileInfo
        Exports the disk and shows the properties of the new VHDX.
    .EXAMPLE
        PS C:\> Export-VMBackupDisk -Path D:\Backups -VMName web01 -DestinationPath D:\Temp -WhatIf
        Shows which file would be written, without writing it.
    .INPUTS
        HyperVBackup.RestorePoint (Repository, VMName and RestorePointId are bound by property name).
    .OUTPUTS
        HyperVBackup.ExportedDisk
    .LINK
        Get-VMBackup
    .LINK
        Restore-VMFromBackup
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Low')]
    [OutputType('HyperVBackup.ExportedDisk')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $VMName,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('Id')]
        [ValidateNotNullOrEmpty()]
        [string] $RestorePointId,

        [ValidateRange(0, 255)]
        [int] $DiskIndex = 0,

        [Parameter(Mandatory, Position = 1)]
        [Alias('Destination')]
        [ValidateNotNullOrEmpty()]
        [string] $DestinationPath,

        [switch] $ClearStaleLock,

        [switch] $EnableException
    )

    begin {
        # -Path given here, or taken from each piped object (a restore point's Repository).
        $pathGiven = $PSBoundParameters.ContainsKey('Path')
        $pointGiven = $PSBoundParameters.ContainsKey('RestorePointId')
    }

    process {
        if (Test-HvbPipedVMPath -Cmdlet $PSCmdlet -PathGiven $pathGiven -InputObject $_ -EnableException $EnableException) { return }
        $errorHandling = Get-HvbErrorHandling -EnableException $EnableException
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $point = $RestorePointId
        # A piped VM's Id (Get-VM) is bound by the alias Id: the VM's id, not a point's.
        if (-not $pointGiven -and (Test-HvbVMObject -InputObject $_)) { $point = $null }
        if ([string]::IsNullOrEmpty($point)) { $point = 'latest' }
        $destination = Resolve-HvbPath -Path $DestinationPath -Cmdlet $PSCmdlet
        if ([System.IO.Directory]::Exists($destination)) {
            if ($point -eq 'latest') {
                # Name the file after the point it holds.
                $newest = @(ConvertTo-HvbSortedRestorePoint -InputObject @(Get-HvbRestorePointList -Repository $repository -VMName $VMName `
                            -Cmdlet $PSCmdlet -ErrorHandling $errorHandling))
                if ($newest.Count -eq 0) { return }
                $point = $newest[0].RestorePointId
            }
            $destination = [System.IO.Path]::Combine($destination, "${VMName}_${point}_disk$DiskIndex.vhdx")
        }

        if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ($destination) -Action ("Export disk $DiskIndex of restore point $point of '$VMName' as a VHDX file") -EnableException $EnableException)) { return }

        $arguments = [System.Collections.Generic.List[string]]::new()
        foreach ($word in 'export-disk', '--repo', $repository, '--vm', $VMName, '--point', $point, '--disk', ([string]$DiskIndex), '--out', $destination) { $arguments.Add($word) }
        if ($ClearStaleLock) { $arguments.Add('--clear-stale-lock') }
        $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList $arguments.ToArray() `
            -ErrorHandling $errorHandling -TargetObject $destination -ProgressActivity "Exporting disk $DiskIndex of $VMName"
        if ($outcome.ExitCode -ne 0) { return }
        foreach ($data in $outcome.Data) {
            if ($null -eq $data) { continue }
            $file = [string](Get-HvbProperty $data 'destination' $destination)
            [pscustomobject]@{
                PSTypeName     = 'HyperVBackup.ExportedDisk'
                VMName         = $VMName
                RestorePointId = [string](Get-HvbProperty $data 'pointId' $point)
                DiskIndex      = $DiskIndex
                Path           = $file
                VirtualSize    = Get-HvbProperty $data 'virtualSize' $null
                BytesWritten   = Get-HvbProperty $data 'bytesWritten' $null
                Repository     = $repository
            }
        }
    }
}
