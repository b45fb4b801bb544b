function Get-HvbVMOwner {
    <#
    .SYNOPSIS
        Asks the core which cluster node runs each VM (`hvbackup nodes`), to run each node's backups there.
    .DESCRIPTION
        Returns one object: Clustered (false on a standalone host), Nodes (node name -> the VM
        names it runs, in the order found) and Unresolved (names the core could not place; they
        stay with the local run, whose core then reports them per VM). On a standalone host, or
        when the core cannot answer, Clustered is false and nothing is routed elsewhere.
    .PARAMETER Cmdlet
        The public command's $PSCmdlet.
    .PARAMETER CimSession
        The CimSession for host requests.
    .PARAMETER VMName
        Names, ids or patterns.
    .PARAMETER All
        Every VM of every node.
    .PARAMETER LabPath
        A lab host's folder (already resolved), or empty.
    .EXAMPLE
        PS C:\> $owners = Get-HvbVMOwner -Cmdlet $PSCmdlet -VMName 'web01', 'sql01'
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [AllowNull()] [object] $CimSession,
        [string[]] $VMName = @(),
        [bool] $All,
        [AllowEmptyString()] [string] $LabPath
    )

    $nodes = [System.Collections.Generic.Dictionary[string, System.Collections.Generic.List[string]]]::new([System.StringComparer]::OrdinalIgnoreCase)
    $unresolved = [System.Collections.Generic.List[string]]::new()
    $answer = [pscustomobject]@{ Clustered = $false; Nodes = $nodes; Unresolved = $unresolved }
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.Add('nodes')
    foreach ($name in $VMName) { $arguments.Add('--vm'); $arguments.Add($name) }
    if ($All) { $arguments.Add('--all') }
    if (-not [string]::IsNullOrEmpty($LabPath)) { $arguments.Add('--lab'); $arguments.Add($LabPath) }
    # A failure here (no VM at all, the cluster namespace unreadable) is left to the backup run itself.
    $outcome = Invoke-HvbCore -Cmdlet $Cmdlet -HostChannel -CimSession $CimSession -ArgumentList $arguments.ToArray() -ErrorHandling Collect -QuietWarningCode '*'
    if ($outcome.ExitCode -ne 0) { return $answer }
    foreach ($data in $outcome.Data) {
        if ($null -eq $data) { continue }
        $answer.Clustered = [bool](Get-HvbProperty $data 'clustered' $false)
        foreach ($vm in @(Get-HvbProperty $data 'vms' @())) {
            if ($null -eq $vm) { continue }
            $node = [string](Get-HvbProperty $vm 'node' '')
            $list = $null
            if (-not $nodes.TryGetValue($node, [ref] $list)) {
                $list = [System.Collections.Generic.List[string]]::new()
                $nodes[$node] = $list
            }
            $list.Add([string](Get-HvbProperty $vm 'name' ''))
        }
        foreach ($failure in @(Get-HvbProperty $data 'failures' @())) {
            if ($null -ne $failure) { $unresolved.Add([string](Get-HvbProperty $failure 'name' '')) }
        }
    }
    $answer
}
