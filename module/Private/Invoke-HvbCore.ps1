function Invoke-HvbCore {
    <#
    .SYNOPSIS
        Runs the core (bin/hvbackup.exe, or node bin/hvbackup.cjs ... --events) and relays what it reports.
    .DESCRIPTION
        Starts `node <module>/bin/hvbackup.cjs <ArgumentList> --events` with System.Diagnostics.Process
        and reads its standard output line by line: with --events every line is one JSON object,
        an event with a "type":
          progress {percent, activity, status?, bytes?}  -> WriteProgress
          warning  {message, code?}                      -> WriteWarning
          info     {message}                             -> WriteVerbose
          result   {data}                                -> data returned in Data
          error    {code, category, message, target?}    -> one ErrorRecord, ErrorId = code
        Only a result event carries data (its "data" may itself have a field named "type", such
        as `vhdx info`'s 'dynamic': that is inside data, not an event). An event of any other type
        is written to the verbose stream and ignored; a line that is not a JSON object is verbose
        text. stderr is plain text: verbose messages, unless the process exits non-zero without an
        error or result event; then stderr becomes the ErrorRecord (code 'Usage' for exit code 2,
        otherwise 'HvbCoreFailed'). A result event says what failed when there is one (`verify`
        exits 1 with a report of the damage, a backup of several VMs with a result per VM).

        Progress events of different activities (a backup of several VMs at once) get their own
        progress ids, so each VM has its own bar; all are completed when the core exits.

        Progress, warnings and verbose messages are written through -Cmdlet (the public
        command's $PSCmdlet) so that they honour that command's -Verbose, -WarningAction and
        so on. Errors are written, thrown or collected as -ErrorHandling says, always through
        -Cmdlet, so FullyQualifiedErrorId names the public command ('VhdxFormat,Get-VhdxFileInfo').

        Host requests (the core's way of reaching Hyper-V's WMI through the module, -HostChannel):
          host-request {id, op, ...}                      -> answered on the core's stdin by
                                                             Invoke-HvbHostRequest (CIM cmdlets)
        The core's stdin stays open for the whole run (HVBACKUP_CONTROL=stdin): answers go there,
        and so does {"type":"cancel"} when the command is stopped (Ctrl+C, StopProcessing). The
        core then stops at its next safe point and removes what it made (checkpoint, lock,
        staging); host requests it makes while cleaning up are still answered, for up to two
        minutes, after which the core is killed (the next run finds a stale lock and says so).

        What starts the core is Resolve-HvbCore's answer: the package's bin/hvbackup.exe, or node
        with bin/hvbackup.cjs in a source checkout ($env:HVBACKUP_NODE, $env:HVBACKUP_CLI).
        Returns one HyperVBackup.CoreOutcome: ExitCode, Data, Errors (ErrorRecords not yet
        written, for -ErrorHandling Collect), StandardError.
    .PARAMETER ArgumentList
        The words after `hvbackup`, e.g. 'vhdx', 'info', 'C:\disks\a.vhdx'. --events is appended.
    .PARAMETER Cmdlet
        The calling public command's $PSCmdlet; defaults to this function's own.
    .PARAMETER ErrorHandling
        Write (default): WriteError at once, so -ErrorAction applies. Throw: ThrowTerminatingError
        on the first error (used for -EnableException). Collect: return the records in Errors.
    .PARAMETER TargetObject
        The TargetObject of an error the core reports without a target (usually the file).
    .PARAMETER ProgressActivity
        The activity shown for progress events that carry none.
    .PARAMETER QuietWarningCode
        Warning events whose code matches one of these wildcard patterns go to the verbose stream
        instead: for warnings the caller reports in another way (a failed VM of a multi-VM backup
        becomes an ErrorRecord) or that a dry run would otherwise show twice ('*': all).
    .PARAMETER HostChannel
        The command touches a Hyper-V host: unless a lab is named (--lab, $env:HYPERVBACKUP_LAB)
        or the CIM cmdlets are missing, the core is started with HVBACKUP_HOST=channel and this
        function answers its host requests (docs/windows.md says why).
    .PARAMETER CimSession
        The CimSession the CIM cmdlets use for host requests (default: the local host).
    .EXAMPLE
        PS C:\> $outcome = Invoke-HvbCore -Cmdlet $PSCmdlet -ArgumentList 'vhdx', 'info', $fullPath -TargetObject $fullPath
        Runs `hvbackup vhdx info <file> --events`; $outcome.Data holds the result event's data.
    #>
    [CmdletBinding()]
    [OutputType('HyperVBackup.CoreOutcome')]
    param(
        [Parameter(Mandatory)]
        [string[]] $ArgumentList,

        [System.Management.Automation.PSCmdlet] $Cmdlet,

        [ValidateSet('Write', 'Throw', 'Collect')]
        [string] $ErrorHandling = 'Write',

        [AllowNull()]
        [object] $TargetObject,

        [string] $ProgressActivity = 'HyperVBackup',

        [string[]] $QuietWarningCode = @(),

        [switch] $HostChannel,

        [AllowNull()]
        [object] $CimSession
    )

    if ($null -eq $Cmdlet) { $Cmdlet = $PSCmdlet }
    $errors = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
    $data = [System.Collections.Generic.List[object]]::new()

    # One place decides what happens to an error: written, thrown or kept.
    $report = {
        param([System.Management.Automation.ErrorRecord] $Record)
        switch ($ErrorHandling) {
            'Throw' { $Cmdlet.ThrowTerminatingError($Record) }
            'Write' { $Cmdlet.WriteError($Record) }
            default { $errors.Add($Record) }
        }
    }
    $outcome = {
        param($ExitCode, [string] $StandardError)
        [pscustomobject]@{
            PSTypeName    = 'HyperVBackup.CoreOutcome'
            ExitCode      = $ExitCode
            Data          = $data.ToArray()
            Errors        = $errors.ToArray()
            StandardError = $StandardError
        }
    }

    # The packaged executable, or node with the bundle (Resolve-HvbCore); one record if neither runs.
    $core = Resolve-HvbCore
    if ($core -is [System.Management.Automation.ErrorRecord]) {
        & $report $core
        return (& $outcome $null '')
    }
    $node = $core.FileName

    $words = [System.Collections.Generic.List[string]]::new()
    foreach ($word in $core.Arguments) { $words.Add($word) }
    foreach ($word in $ArgumentList) { $words.Add($word) }
    $words.Add('--events')

    $startInfo = [System.Diagnostics.ProcessStartInfo]::new()
    $startInfo.FileName = $node
    if ($null -ne $startInfo.PSObject.Properties['ArgumentList']) {
        foreach ($word in $words) { $startInfo.ArgumentList.Add($word) }
    } else {
        $startInfo.Arguments = ConvertTo-HvbCommandLine -ArgumentList $words.ToArray()
    }
    $startInfo.UseShellExecute = $false
    $startInfo.CreateNoWindow = $true
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $utf8 = [System.Text.UTF8Encoding]::new($false)
    $startInfo.StandardOutputEncoding = $utf8
    $startInfo.StandardErrorEncoding = $utf8
    $startInfo.EnvironmentVariables['HVBACKUP_CONTROL'] = 'stdin'
    $useChannel = $HostChannel -and ($ArgumentList -notcontains '--lab') -and [string]::IsNullOrEmpty($env:HYPERVBACKUP_LAB) -and
        $null -ne (Get-Command -Name Get-CimInstance -ErrorAction Ignore)
    if ($useChannel) {
        $startInfo.EnvironmentVariables['HVBACKUP_HOST'] = 'channel'
    } elseif ($startInfo.EnvironmentVariables.ContainsKey('HVBACKUP_HOST')) {
        # Nobody would answer: the core must not wait for host requests.
        $startInfo.EnvironmentVariables.Remove('HVBACKUP_HOST')
    }
    $connection = @{
        CimSession = $CimSession
        Classes    = [System.Collections.Generic.Dictionary[string, object]]::new([System.StringComparer]::OrdinalIgnoreCase)
    }
    $location = $Cmdlet.SessionState.Path.CurrentFileSystemLocation
    if ($null -ne $location -and [System.IO.Directory]::Exists($location.ProviderPath)) {
        $startInfo.WorkingDirectory = $location.ProviderPath
    }

    $Cmdlet.WriteVerbose("Running: $node $($words -join ' ')")
    $started = $false
    $process = [System.Diagnostics.Process]::new()
    $process.StartInfo = $startInfo
    $progressShown = $false
    $progressIds = [System.Collections.Generic.Dictionary[string, int]]::new([System.StringComparer]::Ordinal)
    $errorEvents = 0
    $resultEvents = 0
    $line = $null
    $answeredLine = $null
    try {
        try {
            $started = $process.Start()
        } catch {
            & $report (ConvertTo-HvbErrorRecord -Code 'NodeNotFound' -Category 'ResourceUnavailable' -Target $node `
                    -Message "Cannot start '$node': $($_.Exception.Message)" -InnerException $_.Exception)
            return (& $outcome $null '')
        }
        $process.StandardInput.AutoFlush = $true
        # stderr is drained on a .NET task so a chatty child cannot block on a full pipe.
        $stderrTask = $process.StandardError.ReadToEndAsync()

        # Dot-sourced below, so it updates $progressShown, $errorEvents and $resultEvents of this function.
        $handle = {
            param($Item)
            $type = [string]$Item.type
            switch ($type) {
                'progress' {
                    $activity = Get-HvbProperty $Item 'activity' $ProgressActivity
                    if ([string]::IsNullOrEmpty($activity)) { $activity = $ProgressActivity }
                    $status = Get-HvbProperty $Item 'status' $null
                    if ([string]::IsNullOrEmpty($status)) { $status = $activity }
                    $progressId = 0
                    if (-not $progressIds.TryGetValue($activity, [ref] $progressId)) {
                        $progressId = $progressIds.Count + 1
                        $progressIds[$activity] = $progressId
                    }
                    $record = [System.Management.Automation.ProgressRecord]::new($progressId, $activity, $status)
                    $percent = Get-HvbProperty $Item 'percent' $null
                    if ($null -ne $percent) {
                        $record.PercentComplete = [int][System.Math]::Max(0, [System.Math]::Min(100, [double]$percent))
                    }
                    $Cmdlet.WriteProgress($record)
                    $progressShown = $true
                }
                'warning' {
                    $message = [string](Get-HvbProperty $Item 'message' '')
                    $warningCode = [string](Get-HvbProperty $Item 'code' '')
                    $quiet = $false
                    foreach ($pattern in $QuietWarningCode) { if ($warningCode -like $pattern) { $quiet = $true } }
                    if ($quiet) { $Cmdlet.WriteVerbose($message) } else { $Cmdlet.WriteWarning($message) }
                }
                'info' { $Cmdlet.WriteVerbose([string](Get-HvbProperty $Item 'message' '')) }
                'host-request' {
                    # Answered inside a finally block, which a stop (Ctrl+C) does not interrupt: a
                    # request the host carried out (a checkpoint made) must reach the core, or it
                    # could not clean up what it does not know about.
                    try { } finally {
                        $process.StandardInput.WriteLine((Invoke-HvbHostRequest -Request $Item -Connection $connection))
                        $answeredLine = $line
                    }
                }
                'result' {
                    $resultEvents++
                    $data.Add((Get-HvbProperty $Item 'data' $null))
                }
                'error' {
                    $errorEvents++
                    $target = Get-HvbProperty $Item 'target' $null
                    if ($null -eq $target) { $target = $TargetObject }
                    & $report (ConvertTo-HvbErrorRecord -Code ([string](Get-HvbProperty $Item 'code' 'HvbCoreFailed')) `
                            -Category ([string](Get-HvbProperty $Item 'category' 'NotSpecified')) `
                            -Message ([string](Get-HvbProperty $Item 'message' '')) -Target $target)
                }
                # A type this module does not know (a newer core): said, never taken for data.
                default { $Cmdlet.WriteVerbose("hvbackup: ignoring an event of unknown type '$type'.") }
            }
        }

        # The protocol (--events): every stdout line is one JSON object with a "type". Data only
        # ever comes from a result event's "data", so a field named "type" inside it (vhdx info's
        # 'dynamic') cannot be mistaken for an event. A line that is not an event object is text.
        while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
            $trimmed = $line.Trim()
            if ($trimmed.Length -eq 0) { continue }
            $parsed = $null
            if ($trimmed.StartsWith('{')) {
                try { $parsed = ConvertFrom-HvbJson -Json $trimmed } catch { $Cmdlet.WriteDebug("Output is not JSON: $($_.Exception.Message)") }
            }
            if ($parsed -is [System.Management.Automation.PSCustomObject] -and $null -ne $parsed.PSObject.Properties['type']) {
                . $handle $parsed
            } else {
                $Cmdlet.WriteVerbose("hvbackup: $line")
            }
        }
        $process.WaitForExit()
        $stderrText = $stderrTask.GetAwaiter().GetResult()
        $exitCode = $process.ExitCode

        # stderr is plain text: verbose messages, or the error of a core that failed without an error event.
        $stderrLines = [System.Collections.Generic.List[string]]::new()
        foreach ($textLine in $stderrText.Split([char[]]"`r`n", [System.StringSplitOptions]::RemoveEmptyEntries)) {
            $stderrLines.Add($textLine)
        }
        if ($exitCode -eq 0 -or $errorEvents -gt 0 -or $resultEvents -gt 0) {
            foreach ($textLine in $stderrLines) { $Cmdlet.WriteVerbose($textLine) }
        } else {
            $message = (@(foreach ($textLine in $stderrLines) { $textLine -replace '^hvbackup:\s*', '' }) -join ' ').Trim()
            if ($message.Length -eq 0) { $message = "hvbackup exited with code $exitCode." }
            $code = 'HvbCoreFailed'
            $category = 'NotSpecified'
            if ($exitCode -eq 2) { $code = 'Usage'; $category = 'InvalidArgument' }
            & $report (ConvertTo-HvbErrorRecord -Code $code -Category $category -Message $message -Target $TargetObject)
        }
        & $outcome $exitCode $stderrText
    } finally {
        if ($progressShown) {
            foreach ($entry in $progressIds.GetEnumerator()) {
                $done = [System.Management.Automation.ProgressRecord]::new($entry.Value, $entry.Key, 'Completed')
                $done.RecordType = [System.Management.Automation.ProgressRecordType]::Completed
                try { $Cmdlet.WriteProgress($done) } catch { $null = $_ }
            }
        }
        # Still running: the command was stopped (or threw). Ask the core to stop and clean up,
        # answering the host requests its cleanup makes; kill it only if it does not finish.
        $running = $false
        try { $running = -not $process.HasExited } catch { $null = $_ }
        if ($running) {
            try {
                $process.StandardInput.WriteLine('{"type":"cancel"}')
                $deadline = [datetime]::UtcNow.AddMinutes(2)
                $ended = $false
                # The stop may have come between reading a host request and answering it: the
                # core waits for that answer before it can clean up, so it is answered first.
                $backlog = [System.Collections.Generic.List[string]]::new()
                if ($null -ne $line -and $line -cne $answeredLine) { $backlog.Add($line) }
                while (-not $ended -and [datetime]::UtcNow -lt $deadline) {
                    if ($backlog.Count -gt 0) {
                        $text = $backlog[0]
                        $backlog.RemoveAt(0)
                    } else {
                        $pendingLine = $process.StandardOutput.ReadLineAsync()
                        $left = $deadline - [datetime]::UtcNow
                        if ($left -le [timespan]::Zero -or -not $pendingLine.Wait($left)) { break }
                        $text = $pendingLine.Result
                    }
                    if ($null -eq $text) { $ended = $true; continue }
                    if (-not $text.Trim().StartsWith('{')) { continue }
                    $stopEvent = $null
                    try { $stopEvent = ConvertFrom-HvbJson -Json $text.Trim() } catch { $null = $_ }
                    if ($null -ne $stopEvent -and [string](Get-HvbProperty $stopEvent 'type' '') -eq 'host-request') {
                        $process.StandardInput.WriteLine((Invoke-HvbHostRequest -Request $stopEvent -Connection $connection))
                    }
                }
                [void]$process.WaitForExit(5000)
            } catch { $null = $_ }
        }
        try {
            # Only a process that started can be asked: HasExited throws otherwise (one failure, one record).
            if ($started -and -not $process.HasExited) { $process.Kill() }
        } catch { $null = $_ }
        try { $process.StandardInput.Close() } catch { $null = $_ }
        $process.Dispose()
    }
}
