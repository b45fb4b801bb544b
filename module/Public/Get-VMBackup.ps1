function Get-VMBackup {
    <#
    .SYNOPSIS
        Gets the restore points in a backup repository, newest first.
    .DESCRIPTION
        Reads the repository's catalogs (no Hyper-V host is needed) and returns one
        HyperVBackup.RestorePoint per restore point: VMName, RestorePointId (alias Id), Time (a
        [datetime] in local time), Kind (Full or Incremental), ConsistencyLevel (Application or
        CrashConsistent), SizeBytes (what the point added to the repository), ParentId, VMId,
        Disks, HasReferencePoint (whether Hyper-V still keeps the reference point the next
        incremental starts from) and Repository.

        The points of each VM come newest first; several VMs come in name order. The objects can
        be piped to Restore-VMFromBackup, Export-VMBackupDisk, Test-VMBackup and Remove-VMBackup,
        which take the repository, the VM and the restore point from them.
    .PARAMETER Path
        The repository folder. Alias: Repository.
    .PARAMETER VMName
        Only the restore points of these VMs (names or ids). Wildcards are allowed; a name
        without wildcards that has no backups in the repository is an error
        (VmNotInRepository). Accepts pipeline input: strings, and objects with a VMName or Name
        property. Without it, every VM in the repository is listed.
    .PARAMETER Latest
        Only the newest restore point of each VM.
    .PARAMETER RestorePointId
        Only the restore points with these ids (wildcards allowed). An id without wildcards that
        is not found is an error (PointNotFound). Alias: Id.
    .PARAMETER EnableException
        Turn a failure (missing repository, unknown VM) into a terminating error instead of a
        non-terminating one.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path \\nas\hv-backups -VMName web01
        Lists web01's restore points, newest first, as a table.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path \\nas\hv-backups -Latest
        Shows the newest restore point of every VM in the repository, for a morning check.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -VMName web* | Where-Object { $_.Time -lt (Get-Date).AddDays(-1) -and $_.Kind -eq 'Full' }
        Lists the full backups older than a day of every VM whose name starts with web.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -VMName web01 -Latest | Restore-VMFromBackup -NewVMId -NewName web01-test -DestinationPath D:\Restore
        Restores web01's newest restore point side by side with the production VM.
    .EXAMPLE
        PS C:\> (Get-VMBackup -Path D:\Backups -VMName sql01 -RestorePointId 20261120T230000.000Z-incr).Disks
        Shows the disks of one restore point: index, file, virtual size, method (full, rct or hash) and bytes stored.
    .INPUTS
        System.String, or any object with a VMName or Name property.
    .OUTPUTS
        HyperVBackup.RestorePoint
    .LINK
        New-RecoveryBackup
    .LINK
        Restore-VMFromBackup
    .LINK
        Remove-VMBackup
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(DefaultParameterSetName = 'All')]
    [OutputType('HyperVBackup.RestorePoint')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Position = 1, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [Parameter(Mandatory, ParameterSetName = 'Latest')]
        [switch] $Latest,

        [Parameter(Mandatory, ParameterSetName = 'ById')]
        [Alias('Id')]
        [SupportsWildcards()]
        [ValidateNotNullOrEmpty()]
        [string[]] $RestorePointId,

        [switch] $EnableException
    )

    begin {
        $errorHandling = Get-HvbErrorHandling -EnableException $EnableException
        # The whole repository is listed at most once per pipeline.
        $everything = $null
    }

    process {
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $points = [System.Collections.Generic.List[object]]::new()
        $names = @($VMName | Where-Object { -not [string]::IsNullOrEmpty($_) })
        $patterns = @($names | Where-Object { [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($_) })
        if ($names.Count -eq 0 -or $patterns.Count -gt 0) {
            if ($null -eq $everything) {
                $everything = @(Get-HvbRestorePointList -Repository $repository -Cmdlet $PSCmdlet -ErrorHandling $errorHandling)
            }
        }
        if ($names.Count -eq 0) {
            foreach ($point in $everything) { $points.Add($point) }
        }
        foreach ($name in $names) {
            if ([System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($name)) {
                foreach ($point in $everything) {
                    if ($point.VMName -like $name -or ([string]$point.VMId) -like $name) { $points.Add($point) }
                }
            } else {
                foreach ($point in @(Get-HvbRestorePointList -Repository $repository -VMName $name -Cmdlet $PSCmdlet -ErrorHandling $errorHandling)) {
                    $points.Add($point)
                }
            }
        }

        $sorted = @(ConvertTo-HvbSortedRestorePoint -InputObject $points.ToArray())
        if ($Latest) {
            $shown = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
            foreach ($point in $sorted) {
                if ($shown.Add(([string]$point.VMName) + '|' + ([string]$point.VMId))) { $point }
            }
            return
        }
        if ($PSCmdlet.ParameterSetName -eq 'ById') {
            foreach ($id in $RestorePointId) {
                $found = $false
                foreach ($point in $sorted) { if ($point.RestorePointId -like $id) { $found = $true } }
                if (-not $found -and -not [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($id)) {
                    $where = "repository '$repository'"
                    if ($names.Count -gt 0) { $where = "the backups of $(($names | ForEach-Object { "'$_'" }) -join ', ') in $where" }
                    $record = ConvertTo-HvbErrorRecord -Code 'PointNotFound' -Category 'ObjectNotFound' -Target $id `
                        -Message "Cannot find restore point '$id' in $where."
                    Write-HvbErrorRecord -Cmdlet $PSCmdlet -Record $record -EnableException $EnableException
                }
            }
            foreach ($point in $sorted) {
                foreach ($id in $RestorePointId) {
                    if ($point.RestorePointId -like $id) { $point; break }
                }
            }
            return
        }
        foreach ($point in $sorted) { $point }
    }
}
