function Resolve-HvbPath {
    <#
    .SYNOPSIS
        Turns a -Path value into full file-system paths, as a cmdlet's -Path does.
    .DESCRIPTION
        Relative paths are taken from the PowerShell location (not the process's current
        directory, which node would otherwise use). Provider-qualified paths (PSPath values from
        the pipeline) are accepted. With -ExpandWildcard, a path containing wildcard characters
        that matches existing items is expanded; otherwise it is taken literally, so a missing file
        is reported by the core with its own error code.
    .PARAMETER Path
        The path as the user gave it.
    .PARAMETER Cmdlet
        The calling command's $PSCmdlet, whose session state resolves the path.
    .PARAMETER ExpandWildcard
        Expand wildcard characters (for -Path parameters that read existing files).
    .EXAMPLE
        PS C:\> Resolve-HvbPath -Path '.\disks\*.vhdx' -Cmdlet $PSCmdlet -ExpandWildcard
        Returns the full path of every matching file.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string] $Path,

        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet] $Cmdlet,

        [switch] $ExpandWildcard
    )

    $paths = $Cmdlet.SessionState.Path
    if ($ExpandWildcard -and [System.Management.Automation.WildcardPattern]::ContainsWildcardCharacters($Path)) {
        $provider = $null
        $resolved = $null
        try {
            $resolved = $paths.GetResolvedProviderPathFromPSPath($Path, [ref] $provider)
        } catch [System.Management.Automation.ItemNotFoundException] {
            $resolved = $null
        }
        if ($null -ne $resolved -and $resolved.Count -gt 0) {
            foreach ($item in $resolved) { $item }
            return
        }
    }
    $paths.GetUnresolvedProviderPathFromPSPath($Path)
}
