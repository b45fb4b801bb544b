function Resolve-HvbCore {
    <#
    .SYNOPSIS
        Finds how to start the core: the packaged executable, or node with the bundle.
    .DESCRIPTION
        Returns a HyperVBackup.CoreCommand (FileName, Arguments: the words before the command's
        own) or, when the core cannot run here, an ErrorRecord saying what is missing: one
        failure, one record. In this order:
          1. $env:HVBACKUP_CLI (a bundle, for development): node + that file.
          2. bin/hvbackup.exe (Windows) or bin/hvbackup (elsewhere) beside the module: the
             package's single executable, which carries its own Node.js runtime
             (npm run package; docs/windows.md).
          3. bin/hvbackup.cjs beside the module (a source checkout after npm run build): node + it.
        node is $env:HVBACKUP_NODE if set, otherwise node on PATH.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.CoreCommand', [System.Management.Automation.ErrorRecord])]
    param()

    $bin = [System.IO.Path]::Combine($script:HvbModuleRoot, 'bin')
    $cli = $env:HVBACKUP_CLI
    if ([string]::IsNullOrEmpty($cli)) {
        $executableName = 'hvbackup'
        if ([System.IO.Path]::DirectorySeparatorChar -eq '\') { $executableName = 'hvbackup.exe' }
        $executable = [System.IO.Path]::Combine($bin, $executableName)
        if ([System.IO.File]::Exists($executable)) {
            return [pscustomobject]@{ PSTypeName = 'HyperVBackup.CoreCommand'; FileName = $executable; Arguments = [string[]]@() }
        }
        $cli = [System.IO.Path]::Combine($bin, 'hvbackup.cjs')
        if (-not [System.IO.File]::Exists($cli)) {
            return (ConvertTo-HvbErrorRecord -Code 'CoreNotFound' -Category 'ObjectNotFound' -Target $bin `
                    -Message "Cannot find the HyperVBackup core in '$bin' (neither $executableName nor hvbackup.cjs): the module is incomplete. Install the published package, or in a source checkout run 'npm run build'.")
        }
    } elseif (-not [System.IO.File]::Exists($cli)) {
        return (ConvertTo-HvbErrorRecord -Code 'CoreNotFound' -Category 'ObjectNotFound' -Target $cli `
                -Message "Cannot find the HyperVBackup core at '$cli' (`$env:HVBACKUP_CLI).")
    }
    $node = Resolve-HvbNode
    if ($null -eq $node -or -not [System.IO.File]::Exists($node)) {
        return (ConvertTo-HvbErrorRecord -Code 'NodeNotFound' -Category 'ObjectNotFound' -Target 'node' `
                -Message "Cannot find Node.js ('$node') to run '$cli': install Node.js 20 or later and put node on PATH, or set `$env:HVBACKUP_NODE to node's full path (the published package needs neither: it carries bin\hvbackup.exe).")
    }
    [pscustomobject]@{ PSTypeName = 'HyperVBackup.CoreCommand'; FileName = $node; Arguments = [string[]]@($cli) }
}
