function Test-HvbPipedVMPath {
    <#
    .SYNOPSIS
        True, with one ErrorRecord written, when -Path came from a piped VM's own Path.
    .DESCRIPTION
        The commands that take -Path by property name (its alias Repository is what a restore
        point carries) would otherwise take the Path of an object from Get-VM (the VM's
        configuration folder) or Get-VMHardDiskDrive (a disk) as the repository. When -Path was
        not given on the command line and the piped object is a VM's (Test-HvbVMObject: a VMId,
        no Repository, no RestorePointId) with a Path, the command writes one ErrorRecord (RepositoryNotGiven) naming the VM and
        does nothing for that object. A point from Get-VMBackup (Repository) and an object that
        carries no VMId (e.g. rows of Import-Csv with VMName and Path) are left alone.
    .PARAMETER Cmdlet
        The public command's $PSCmdlet.
    .PARAMETER PathGiven
        Whether -Path (or -Repository) was given on the command line (read in begin{}, before
        any pipeline input is bound).
    .PARAMETER InputObject
        The current pipeline object ($_ in process{}), $null without pipeline input.
    .PARAMETER EnableException
        Throw the record instead of writing it.
    .EXAMPLE
        PS C:\> if (Test-HvbPipedVMPath -Cmdlet $PSCmdlet -PathGiven $pathGiven -InputObject $_) { return }
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [bool] $PathGiven,
        [AllowNull()] [object] $InputObject,
        [bool] $EnableException
    )

    if ($PathGiven -or -not (Test-HvbVMObject -InputObject $InputObject)) { return $false }
    $properties = $InputObject.PSObject.Properties
    if ($null -eq $properties['Path']) { return $false }
    $vm = [string]$InputObject.PSObject.Properties['VMId'].Value
    if ($null -ne $properties['VMName'] -and -not [string]::IsNullOrEmpty([string]$properties['VMName'].Value)) { $vm = [string]$properties['VMName'].Value }
    $record = ConvertTo-HvbErrorRecord -Code 'RepositoryNotGiven' -Category 'InvalidArgument' -Target $vm `
        -Message ("The piped object for virtual machine '$vm' (from Get-VM or the like) has a Path of the VM's own, '$([string]$properties['Path'].Value)', " +
            'which is not a repository, so nothing was done for it. Give the repository with -Path.')
    Write-HvbErrorRecord -Cmdlet $Cmdlet -Record $record -EnableException $EnableException
    $true
}
