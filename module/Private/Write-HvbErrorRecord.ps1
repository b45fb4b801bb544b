function Write-HvbErrorRecord {
    # Writes a record through the public command, or throws it with -EnableException.
    param(
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Cmdlet,
        [Parameter(Mandatory)] [System.Management.Automation.ErrorRecord] $Record,
        [bool] $EnableException
    )
    if ($EnableException) { $Cmdlet.ThrowTerminatingError($Record) }
    $Cmdlet.WriteError($Record)
}
