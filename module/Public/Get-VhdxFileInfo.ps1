function Get-VhdxFileInfo {
    <#
    .SYNOPSIS
        Gets the properties of a VHDX file: type, sizes, identifiers, parent locator and chain.
    .DESCRIPTION
        Reads a VHDX (or AVHDX) file with the HyperVBackup core, without Hyper-V and without
        mounting it, and returns one HyperVBackup.VhdxInfo object per file: Path, Format, Type
        (fixed, dynamic or differencing), VirtualSize, BlockSize, LogicalSectorSize,
        PhysicalSectorSize, VirtualDiskId, DataWriteGuid, FileWriteGuid, ParentLocator, Chain
        (this file and its parents, as resolved from the parent locators), FileSize and
        ParentPath. A file whose log is not empty is read as if the log had been replayed; the
        file itself is not changed.

        A file that is not a valid VHDX gives an error whose FullyQualifiedErrorId starts with the
        core's error code (for example VhdxFormat or NotFound), whose category says what kind of
        failure it is and whose TargetObject is the file; use -ErrorAction Stop or
        -EnableException to make it terminating.
    .PARAMETER Path
        The VHDX or AVHDX file(s). Relative paths start at the current PowerShell location;
        wildcards are expanded. Accepts pipeline input: strings, and objects with a FullName or
        PSPath property such as the FileInfo objects of Get-ChildItem.
    .PARAMETER EnableException
        Turn an unreadable file into a terminating error instead of a non-terminating one; the
        remaining pipeline input is then not processed.
    .EXAMPLE
        PS C:\> Get-VhdxFileInfo -Path D:\VMs\web01\disk0.vhdx
        Shows type, virtual size, block size, sector sizes and parent of disk0.vhdx as a table.
    .EXAMPLE
        PS C:\> Get-ChildItem D:\Backups -Recurse -Filter *.avhdx | Get-VhdxFileInfo | Format-List Path, ParentPath, Chain
        Lists every differencing disk under D:\Backups with the parent it resolves to and its whole chain.
    .EXAMPLE
        PS C:\> (Get-VhdxFileInfo .\disk0.vhdx).VirtualSize / 1GB
        Prints the size the guest sees, in GiB.
    .EXAMPLE
        PS C:\> try { Get-VhdxFileInfo .\suspect.vhdx -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }
        Prints 'VhdxFormat,Get-VhdxFileInfo' (or another core error code) when the file is damaged.
    .INPUTS
        System.String, or any object with a FullName or PSPath property.
    .OUTPUTS
        HyperVBackup.VhdxInfo
    .LINK
        Test-VhdxFile
    .LINK
        Convert-VhdxFile
    .LINK
        about_HyperVBackup
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.VhdxInfo')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath')]
        [ValidateNotNullOrEmpty()]
        [string[]] $Path,

        [switch] $EnableException
    )

    process {
        foreach ($item in $Path) {
            foreach ($file in (Resolve-HvbPath -Path $item -Cmdlet $PSCmdlet -ExpandWildcard)) {
                $errorHandling = 'Write'
                if ($EnableException) { $errorHandling = 'Throw' }
                $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList 'vhdx', 'info', $file `
                    -ErrorHandling $errorHandling -TargetObject $file -ProgressActivity 'Reading VHDX'
                # A differencing file whose parent cannot be opened is still described (with
                # ChainError set) next to the error.
                foreach ($data in $outcome.Data) {
                    if ($null -ne $data) { ConvertTo-HvbVhdxInfo -InputObject $data }
                }
            }
        }
    }
}
