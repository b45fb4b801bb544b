function Resolve-HvbCimSession {
    <#
    .SYNOPSIS
        Checks a -CimSession for a local run; a session to another computer is refused.
    .DESCRIPTION
        The core reads the checkpoint's disks on the computer it runs on, so the WMI session it
        works through must be to that same computer. A session to another host would make it
        read that host's disk paths here: refused with an ErrorRecord (RemoteCimSession) that
        says to use -ComputerName, which runs the command on the host. Returns the session.
    .PARAMETER CimSession
        The session the caller was given.
    .PARAMETER Cmdlet
        The public command's $PSCmdlet (the error is thrown through it).
    .EXAMPLE
        PS C:\> $session = Resolve-HvbCimSession -CimSession $CimSession -Cmdlet $PSCmdlet
    #>
    [CmdletBinding()]
    param(
        [AllowNull()] [object] $CimSession,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet
    )

    if ($null -eq $CimSession) { return $null }
    $computer = [string](Get-HvbProperty $CimSession 'ComputerName' '')
    if (-not (Test-HvbLocalComputer -ComputerName $computer)) {
        $Cmdlet.ThrowTerminatingError((ConvertTo-HvbErrorRecord -Code 'RemoteCimSession' -Category 'InvalidArgument' -Target $computer `
                    -Message "The CimSession is to '$computer': the backup would read that host's disks from here. Use -ComputerName $computer (with -Credential if needed) to run the command on that host."))
    }
    $CimSession
}
