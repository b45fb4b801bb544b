function Register-HvbArgumentCompleter {
    # Registers tab completion of -VMName and -RestorePointId for the public commands that have
    # them (Complete-HvbArgument does the work). Called once by the root module after loading.
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string[]] $CommandName)

    # The script block is created here, so it runs in the module's scope and sees its helpers.
    $completer = {
        param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
        $null = $commandAst
        Complete-HvbArgument -CommandName $commandName -ParameterName $parameterName -WordToComplete $wordToComplete -FakeBoundParameters $fakeBoundParameters
    }
    foreach ($parameter in 'VMName', 'RestorePointId') {
        $commands = @(foreach ($name in $CommandName) {
                $command = Get-Command -Name $name -CommandType Function -ErrorAction Ignore
                if ($null -ne $command -and $command.Parameters.ContainsKey($parameter)) { $name }
            })
        if ($commands.Count -gt 0) {
            Register-ArgumentCompleter -CommandName $commands -ParameterName $parameter -ScriptBlock $completer
        }
    }
}
