function Resolve-HvbNode {
    # $env:HVBACKUP_NODE, else the first node application on PATH, else $null.
    [CmdletBinding()]
    [OutputType([string])]
    param()
    if (-not [string]::IsNullOrEmpty($env:HVBACKUP_NODE)) { return $env:HVBACKUP_NODE }
    $command = Get-Command -Name 'node' -CommandType Application -ErrorAction Ignore | Select-HvbFirst
    if ($null -ne $command) { return $command.Source }
    $null
}
