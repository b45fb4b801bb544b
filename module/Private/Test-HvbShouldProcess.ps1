function Test-HvbShouldProcess {
    # Asks ShouldProcess. When the session cannot ask (a -NonInteractive session, a scheduled
    # task, a host with no UI) ShouldProcess throws; a method exception in an `if` condition is
    # not terminating, so without this the change would run unconfirmed. Here a cmdlet that
    # cannot confirm answers no and writes one ErrorRecord saying why and what to do.
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [string] $Target,
        [Parameter(Mandatory)] [string] $Action,
        [bool] $EnableException
    )
    try {
        return $Cmdlet.ShouldProcess($Target, $Action)
    } catch {
        $inner = $_.Exception
        while ($inner.InnerException) { $inner = $inner.InnerException }
        $message = "Cannot ask for confirmation to '$Action' on $Target, so nothing was changed: $($inner.Message.TrimEnd('.')). " +
            'To act without asking, add -Confirm:$false.'
        $exception = [System.InvalidOperationException]::new($message, $_.Exception)
        $record = [System.Management.Automation.ErrorRecord]::new($exception, 'ConfirmationUnavailable',
            [System.Management.Automation.ErrorCategory]::OperationStopped, $Target)
        Write-HvbErrorRecord -Cmdlet $Cmdlet -Record $record -EnableException $EnableException
        return $false
    }
}
