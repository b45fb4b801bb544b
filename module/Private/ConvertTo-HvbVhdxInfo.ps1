function ConvertTo-HvbVhdxInfo {
    <#
    .SYNOPSIS
        Turns the core's `vhdx info` JSON object into a HyperVBackup.VhdxInfo object.
    .DESCRIPTION
        Properties get PowerShell casing (virtualSize -> VirtualSize), GUID strings become [guid],
        the parent locator becomes an ordered dictionary, chain entries become
        HyperVBackup.VhdxChainEntry objects, and FileSize (bytes on disk) and ParentPath (the
        next file in the chain) are added. Fields the core adds later are kept, with the first
        letter upper-cased.
    .PARAMETER InputObject
        The data of `hvbackup vhdx info FILE --events`'s result event.
    .EXAMPLE
        PS C:\> ConvertTo-HvbVhdxInfo -InputObject $outcome.Data[0]
        Returns the typed object Get-VhdxFileInfo outputs.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.VhdxInfo')]
    param(
        [Parameter(Mandatory)]
        [object] $InputObject
    )

    $properties = [ordered]@{ PSTypeName = 'HyperVBackup.VhdxInfo' }
    $order = 'path', 'format', 'type', 'virtualSize', 'blockSize', 'logicalSectorSize', 'physicalSectorSize',
        'virtualDiskId', 'dataWriteGuid', 'fileWriteGuid', 'parentLocator', 'chain'
    $names = [System.Collections.Generic.List[string]]::new()
    foreach ($name in $order) { $names.Add($name) }
    foreach ($property in $InputObject.PSObject.Properties) {
        if (-not $names.Contains($property.Name)) { $names.Add($property.Name) }
    }

    foreach ($name in $names) {
        $property = $InputObject.PSObject.Properties[$name]
        $value = $null
        if ($null -ne $property) { $value = $property.Value }
        $pascal = $name.Substring(0, 1).ToUpperInvariant() + $name.Substring(1)
        switch ($name) {
            { $_ -in 'virtualDiskId', 'dataWriteGuid', 'fileWriteGuid' } { $value = ConvertTo-HvbGuid $value }
            'parentLocator' {
                if ($null -ne $value) {
                    $locator = [ordered]@{}
                    foreach ($entry in $value.PSObject.Properties) { $locator[$entry.Name] = $entry.Value }
                    $value = $locator
                }
            }
            'chain' {
                $value = @(foreach ($link in @($value)) {
                        if ($null -eq $link) { continue }
                        [pscustomobject]@{
                            PSTypeName    = 'HyperVBackup.VhdxChainEntry'
                            Path          = Get-HvbProperty $link 'path' $null
                            Type          = Get-HvbProperty $link 'type' $null
                            DataWriteGuid = ConvertTo-HvbGuid (Get-HvbProperty $link 'dataWriteGuid' $null)
                        }
                    })
            }
        }
        $properties[$pascal] = $value
        if ($name -eq 'path') {
            $fileSize = $null
            if ($value -is [string] -and [System.IO.File]::Exists($value)) {
                $fileSize = [System.IO.FileInfo]::new($value).Length
            }
            $properties['FileSize'] = $fileSize
        }
    }

    $parentPath = $null
    if ($properties.Contains('Chain') -and @($properties['Chain']).Count -gt 1) {
        $parentPath = @($properties['Chain'])[1].Path
    }
    $properties['ParentPath'] = $parentPath
    [pscustomobject]$properties
}
