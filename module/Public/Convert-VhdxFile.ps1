function Convert-VhdxFile {
    <#
    .SYNOPSIS
        Converts a disk image between VHDX and raw, or writes a differencing VHDX against a parent.
    .DESCRIPTION
        Copies the guest-visible content of the source into a new file with the HyperVBackup core.
        A source ending in .vhdx or .avhdx is read as VHDX (its parent chain resolved); any other
        source is read as a raw image. A destination ending in .vhdx or .avhdx is written as a
        dynamic VHDX holding only allocated, non-zero data, or with -ParentPath as a differencing
        VHDX holding only the sectors that differ from the parent's content; any other
        destination is written as a raw image, sparse where the data is zero.

        The destination is written under a temporary name and renamed when complete, so an
        interrupted conversion never leaves a half-written file under the final name. An
        existing destination is replaced only with -Force. Supports -WhatIf and -Confirm.
    .PARAMETER Path
        The source disk image. Relative paths start at the current PowerShell location. Accepts
        pipeline input: strings, and objects with a FullName or PSPath property.
    .PARAMETER DestinationPath
        The file to create. Its extension chooses the format: .vhdx or .avhdx for VHDX, anything
        else for raw.
    .PARAMETER ParentPath
        Write a differencing VHDX whose parent is this VHDX file: only sectors whose content
        differs from the parent's are stored, and the parent locator points at this file. The
        destination must end in .vhdx or .avhdx.
    .PARAMETER BlockSize
        Block size of a VHDX destination, in bytes (a power of two from 1MB to 256MB; e.g. 32MB).
        Defaults to the core's choice (the source's block size for a VHDX source).
    .PARAMETER LogicalSectorSize
        Logical sector size of a VHDX destination: 512 or 4096. Defaults to the source's, or 512
        for a raw source.
    .PARAMETER Force
        Replace the destination if it exists.
    .PARAMETER PassThru
        Return the destination: a HyperVBackup.VhdxInfo object for a VHDX destination, a
        System.IO.FileInfo for a raw one. Without it the command returns nothing.
    .PARAMETER EnableException
        Turn a failure into a terminating error instead of a non-terminating one.
    .EXAMPLE
        PS C:\> Convert-VhdxFile -Path .\disk0.vhdx -DestinationPath .\disk0.raw
        Writes the guest-visible content of disk0.vhdx (and its parents) as a sparse raw image.
    .EXAMPLE
        PS C:\> Convert-VhdxFile -Path .\disk.img -DestinationPath .\disk.vhdx -BlockSize 32MB -LogicalSectorSize 4096 -PassThru
        Turns a raw image into a dynamic VHDX with 32 MiB blocks and 4 KiB logical sectors and returns its properties.
    .EXAMPLE
        PS C:\> Convert-VhdxFile -Path .\monday.vhdx -DestinationPath .\tuesday.avhdx -ParentPath .\sunday.vhdx
        Writes tuesday.avhdx as a child of sunday.vhdx holding only the sectors in which monday.vhdx differs from sunday.vhdx.
    .EXAMPLE
        PS C:\> Convert-VhdxFile -Path .\disk0.vhdx -DestinationPath \\nas\images\disk0.vhdx -Force -WhatIf
        Shows what would be replaced without writing anything.
    .INPUTS
        System.String, or any object with a FullName or PSPath property.
    .OUTPUTS
        None; with -PassThru, HyperVBackup.VhdxInfo or System.IO.FileInfo.
    .LINK
        Get-VhdxFileInfo
    .LINK
        Test-VhdxFile
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType('HyperVBackup.VhdxInfo', 'System.IO.FileInfo')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath', 'SourcePath')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory, Position = 1)]
        [Alias('Destination')]
        [ValidateNotNullOrEmpty()]
        [string] $DestinationPath,

        [ValidateNotNullOrEmpty()]
        [string] $ParentPath,

        [ValidateRange(1048576, 268435456)]
        [long] $BlockSize,

        [ValidateSet(512, 4096)]
        [int] $LogicalSectorSize,

        [switch] $Force,

        [switch] $PassThru,

        [switch] $EnableException
    )

    process {
        $source = Resolve-HvbPath -Path $Path -Cmdlet $PSCmdlet
        $destination = Resolve-HvbPath -Path $DestinationPath -Cmdlet $PSCmdlet

        $arguments = [System.Collections.Generic.List[string]]::new()
        foreach ($word in 'vhdx', 'convert', $source, $destination) { $arguments.Add($word) }
        $description = "Convert '$source' to a new disk image"
        if ($PSBoundParameters.ContainsKey('ParentPath')) {
            $parent = Resolve-HvbPath -Path $ParentPath -Cmdlet $PSCmdlet
            $arguments.Add('--parent')
            $arguments.Add($parent)
            $description = "Write the differences between '$source' and '$parent' as a differencing disk"
        }
        if ($PSBoundParameters.ContainsKey('BlockSize')) {
            $arguments.Add('--block-size')
            $arguments.Add([string]$BlockSize)
        }
        if ($PSBoundParameters.ContainsKey('LogicalSectorSize')) {
            $arguments.Add('--logical-sector')
            $arguments.Add([string]$LogicalSectorSize)
        }
        if ($Force) {
            $arguments.Add('--force')
            if ([System.IO.File]::Exists($destination)) { $description += ', replacing the existing file' }
        }

        if (-not (Test-HvbShouldProcess -Cmdlet $PSCmdlet -Target ($destination) -Action ($description) -EnableException $EnableException)) { return }

        $errorHandling = 'Write'
        if ($EnableException) { $errorHandling = 'Throw' }
        $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList $arguments.ToArray() `
            -ErrorHandling $errorHandling -TargetObject $destination -ProgressActivity "Converting $source"
        if ($outcome.ExitCode -ne 0) { return }

        foreach ($data in $outcome.Data) {
            $read = Get-HvbProperty $data 'bytesRead' $null
            $written = Get-HvbProperty $data 'bytesWritten' $null
            if ($null -ne $read) { $PSCmdlet.WriteVerbose("Converted '$source' to '$destination': $read bytes read, $written bytes written.") }
        }
        if ($PassThru) {
            $extension = [System.IO.Path]::GetExtension($destination)
            if ($extension -eq '.vhdx' -or $extension -eq '.avhdx') {
                $info = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList 'vhdx', 'info', $destination `
                    -ErrorHandling $errorHandling -TargetObject $destination
                foreach ($data in $info.Data) {
                    if ($null -ne $data) { ConvertTo-HvbVhdxInfo -InputObject $data }
                }
            } else {
                [System.IO.FileInfo]::new($destination)
            }
        }
    }
}
