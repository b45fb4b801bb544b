function Test-VMBackup {
    <#
    .SYNOPSIS
        Verifies that the restore points in a repository can be restored as recorded.
    .DESCRIPTION
        Checks each restore point of the VMs given (all VMs in the repository by default): the
        catalog, the manifest, that every disk file is there and is a valid VHDX whose parent
        chain leads to the previous point's file. With -Deep every stored block is also read and
        compared with the SHA-256 hash recorded when it was backed up, which finds silent
        corruption of the backup storage (and reads the whole chain, so it takes as long as a
        restore).

        Returns one HyperVBackup.VerifyReport per VM (or one for the whole repository when no VM
        is given): IsValid, Deep, PointsChecked, DamagedPoints (the ids of points that cannot be
        restored as recorded), Problems (VMName, RestorePointId, Disk, Message) and Repository.
        After the report, each damaged restore point (one with a problem, or one that depends on
        such a point) is written as one ErrorRecord (ErrorId RestorePointDamaged, category
        InvalidData, TargetObject the restore point id, the message naming the VM, the point and
        every problem found in it), so -ErrorAction Stop or a try/catch stops a script on a bad
        backup. A failure to check at all (missing repository, unknown VM)
        is also one ErrorRecord.

        With -Quiet the command returns only $true when everything checked is intact, otherwise
        $false, and writes the problems to the verbose stream instead of as errors.
    .PARAMETER Path
        The repository folder. Alias: Repository. Taken from the Repository property of piped
        restore points.
    .PARAMETER VMName
        Only the restore points of these VMs (names or ids). Accepts pipeline input: strings and
        objects with a VMName or Name property, such as the restore points of Get-VMBackup (each
        VM is checked once however many of its points are piped).
    .PARAMETER Deep
        Read every stored block and compare it with its recorded hash.
    .PARAMETER Quiet
        Return $true when every restore point checked is intact and $false otherwise, instead of
        the reports. Problems are still written as warnings.
    .PARAMETER EnableException
        Turn a failure to run the check (missing repository, unknown VM) into a terminating
        error. Damaged restore points are never an error: they are the answer.
    .EXAMPLE
        PS C:\> Test-VMBackup -Path \\nas\hv-backups -VMName web01 -Deep
        Reads every block of every restore point of web01 and compares it with its hash; returns a report, then an error per damaged restore point.
    .EXAMPLE
        PS C:\> if (-not (Test-VMBackup -Path D:\Backups -Quiet)) { Send-MailMessage -Subject 'Backup damaged' ... }
        Checks every restore point in the repository and sends a mail when any is damaged.
    .EXAMPLE
        PS C:\> Get-VMBackup -Path D:\Backups -Latest | Test-VMBackup -Deep | Where-Object { -not $_.IsValid } | ForEach-Object Problems
        Checks each VM of the repository in depth and lists the problems of the damaged ones.
    .EXAMPLE
        PS C:\> try { Test-VMBackup -Path D:\Backups -Deep -ErrorAction Stop } catch { Write-EventLog -LogName Application -Source Backup -EntryType Error -EventId 1 -Message $_ }
        Stops at the first damaged restore point and logs which point it is and what is wrong with it.
    .EXAMPLE
        PS C:\> Test-VMBackup D:\Backups web01, sql01
        Checks the restore points of web01 and of sql01 (structure only) and returns a report per VM.
    .INPUTS
        System.String, or any object with a VMName or Name property and optionally a Repository property (HyperVBackup.RestorePoint).
    .OUTPUTS
        HyperVBackup.VerifyReport, or System.Boolean with -Quiet.
    .LINK
        Get-VMBackup
    .LINK
        Test-VhdxFile
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.VerifyReport')]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Repository')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Position = 1, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name')]
        [ValidateNotNullOrEmpty()]
        [string[]] $VMName,

        [switch] $Deep,

        [switch] $Quiet,

        [switch] $EnableException
    )

    begin {
        # -Path given here, or taken from each piped object (a restore point's Repository).
        $pathGiven = $PSBoundParameters.ContainsKey('Path')
        $checked = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        $allValid = $true
        $anyChecked = $false
    }

    process {
        if (Test-HvbPipedVMPath -Cmdlet $PSCmdlet -PathGiven $pathGiven -InputObject $_ -EnableException $EnableException) {
            $allValid = $false
            return
        }
        $repository = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $names = @($VMName | Where-Object { -not [string]::IsNullOrEmpty($_) })
        if ($names.Count -eq 0) { $names = @($null) }
        foreach ($name in $names) {
            # Each repository and VM once, however many of its restore points are piped.
            if (-not $checked.Add("$repository|$name")) { continue }
            $anyChecked = $true
            $arguments = [System.Collections.Generic.List[string]]::new()
            foreach ($word in 'verify', '--repo', $repository) { $arguments.Add($word) }
            $target = $repository
            if ($null -ne $name) {
                $arguments.Add('--vm')
                $arguments.Add($name)
                $target = $name
            }
            if ($Deep) { $arguments.Add('--deep') }

            $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList $arguments.ToArray() `
                -ErrorHandling (Get-HvbErrorHandling -EnableException $EnableException) -TargetObject $target `
                -ProgressActivity 'Verifying restore points'
            $report = $null
            foreach ($data in $outcome.Data) {
                if ($null -ne $data -and $null -ne $data.PSObject.Properties['ok']) { $report = $data }
            }
            if ($null -eq $report) {
                $allValid = $false
                continue
            }

            $problems = @(foreach ($problem in @(Get-HvbProperty $report 'problems' @())) {
                    if ($null -eq $problem) { continue }
                    [pscustomobject]@{
                        PSTypeName     = 'HyperVBackup.VerifyProblem'
                        VMName         = Get-HvbProperty $problem 'vmName' $null
                        RestorePointId = Get-HvbProperty $problem 'pointId' $null
                        Disk           = Get-HvbProperty $problem 'disk' $null
                        Message        = [string](Get-HvbProperty $problem 'message' '')
                    }
                })
            $isValid = [bool](Get-HvbProperty $report 'ok' $false)
            if (-not $isValid) { $allValid = $false }
            if ($Quiet) {
                foreach ($problem in $problems) { $PSCmdlet.WriteVerbose("$($problem.VMName) $($problem.RestorePointId): $($problem.Message)") }
                continue
            }
            [pscustomobject]@{
                PSTypeName    = 'HyperVBackup.VerifyReport'
                IsValid       = $isValid
                VMName        = $name
                Deep          = [bool](Get-HvbProperty $report 'deep' $Deep.IsPresent)
                PointsChecked = Get-HvbProperty $report 'pointsChecked' $null
                DamagedPoints = [string[]]@(foreach ($id in @(Get-HvbProperty $report 'damagedPoints' @())) { if ($null -ne $id) { [string]$id } })
                Problems      = $problems
                Repository    = $repository
            }
            # One ErrorRecord per damaged point, after the report: its own problems in one message,
            # or, for a point that is intact itself, the damaged older points it depends on.
            $byPoint = [System.Collections.Specialized.OrderedDictionary]::new([System.StringComparer]::OrdinalIgnoreCase)
            foreach ($problem in $problems) {
                $key = "$($problem.VMName)/$($problem.RestorePointId)"
                if (-not $byPoint.Contains($key)) { $byPoint[$key] = [System.Collections.Generic.List[object]]::new() }
                $byPoint[$key].Add($problem)
            }
            foreach ($damaged in @(Get-HvbProperty -Object $report -Name 'damagedPoints' -Default @())) {
                $key = [string]$damaged
                $slash = $key.LastIndexOf('/')
                $vm = $key.Substring(0, [System.Math]::Max($slash, 0))
                $pointId = $key.Substring($slash + 1)
                if ($byPoint.Contains($key)) {
                    $details = @(foreach ($problem in $byPoint[$key]) {
                            if ($null -ne $problem.Disk) { "disk $($problem.Disk): $($problem.Message)" } else { $problem.Message }
                        }) -join '; '
                } else {
                    $older = @(foreach ($other in $byPoint.Keys) { if ($other.StartsWith("$vm/", [System.StringComparison]::OrdinalIgnoreCase)) { $other.Substring($vm.Length + 1) } })
                    $details = "it depends on damaged older restore point(s) ($($older -join ', '))"
                }
                $record = ConvertTo-HvbErrorRecord -Code 'RestorePointDamaged' -Category 'InvalidData' -Target $pointId `
                    -Message "Restore point $pointId of '$vm' in '$repository' cannot be restored as recorded: $details"
                Write-HvbErrorRecord -Cmdlet $PSCmdlet -Record $record -EnableException $EnableException
            }
        }
    }

    end {
        if ($Quiet) { $allValid -and $anyChecked }
    }
}
