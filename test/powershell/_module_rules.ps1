<#
    The PSScriptAnalyzer rules that matter most for the gallery, checked over the AST of the given
    files (the analyzer itself is not served by any registry here). Prints one line per finding:
        FINDING=<rule>|<file>:<line>|<what>
    and nothing else; module_rules.test.ts expects none in the module and every rule to fire on
    a file written to break them. -SyntaxOnly checks only the syntax. -Exported names the functions the module exports (the rules
    about public commands apply to them only).

    Rules (the analyzer's names):
      PS51Syntax                     no PowerShell-7-only syntax: ?:, &&, ||, ??, ??=, ?. and ?[], clean {}
      PSUseApprovedVerbs             every function's verb is in Get-Verb
      PSShouldProcess                SupportsShouldProcess declared <=> ShouldProcess called
                                     (directly, or through Test-HvbShouldProcess -Cmdlet $PSCmdlet)
      PSUseShouldProcessForStateChangingFunctions
                                     exported New/Set/Remove/Start/Stop/Restart/Reset/Update/Clear/Restore
                                     functions declare SupportsShouldProcess
      PSAvoidUsingCmdletAliases      no command is called by an alias (%, ?, where, select, ...)
      PSAvoidUsingPositionalParameters
                                     no call with 3 or more positional arguments of a command the
                                     analyzer would know: cmdlets and the module's exported
                                     commands. Like the analyzer (which sees one file at a time),
                                     it does not resolve the module's private helpers, such as
                                     Get-HvbProperty $object 'name' $default.
      PSAvoidUsingPlainTextForPassword, PSAvoidUsingUsernameAndPasswordParams
                                     no password-like parameter that is not SecureString/PSCredential
      PSAvoidUsingConvertToSecureStringWithPlainText, PSAvoidUsingInvokeExpression,
      PSAvoidUsingWriteHost, PSAvoidGlobalVars, PSAvoidUsingEmptyCatchBlock,
      PSAvoidDefaultValueSwitchParameter
      PSProvideCommentHelp           exported functions have help with a synopsis and an example
#>
param(
    [Parameter(Mandatory)] [string[]] $Path,
    [string[]] $Exported = @(),
    # Only parse errors and PS51Syntax (for the test suite and the runner, which run on 5.1 too).
    [switch] $SyntaxOnly
)

$ErrorActionPreference = 'Stop'
$approvedVerbs = [System.Collections.Generic.HashSet[string]]::new([string[]]@(Get-Verb | ForEach-Object { $_.Verb }), [System.StringComparer]::OrdinalIgnoreCase)
$aliases = [System.Collections.Generic.HashSet[string]]::new([string[]]@(Get-Alias | ForEach-Object { $_.Name }), [System.StringComparer]::OrdinalIgnoreCase)
$stateChanging = 'New', 'Set', 'Remove', 'Start', 'Stop', 'Restart', 'Reset', 'Update', 'Clear', 'Restore'
$passwordNames = '^(Password|Pass|Passwords|Passphrase|Passphrases|PasswordParam)$'
$exportedSet = [System.Collections.Generic.HashSet[string]]::new([string[]]$Exported, [System.StringComparer]::OrdinalIgnoreCase)
# The switch parameters of a command, so that `-Switch value` counts value as positional; $null
# for a command the analyzer would not resolve (the module's private helpers). The private
# functions are still looked up inside the module, to know their switches.
$module = Get-Module HyperVBackup
$switchCache = @{}
$knownCache = @{}
function Get-SwitchParameter([string] $CommandName) {
    if (-not $switchCache.ContainsKey($CommandName)) {
        $info = Get-Command -Name $CommandName -ErrorAction Ignore
        if ($null -eq $info -and $null -ne $module) { $info = & $module { param($n) Get-Command -Name $n -ErrorAction Ignore } $CommandName }
        $names = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        if ($null -ne $info -and $null -ne $info.Parameters) {
            foreach ($parameter in $info.Parameters.Values) {
                if ($parameter.SwitchParameter) { [void]$names.Add($parameter.Name); foreach ($alias in $parameter.Aliases) { [void]$names.Add($alias) } }
            }
        }
        $switchCache[$CommandName] = $names
    }
    , $switchCache[$CommandName]
}

function Out-Finding([string] $Rule, [string] $File, $Extent, [string] $What) {
    "FINDING=$Rule|$([System.IO.Path]::GetFileName($File)):$($Extent.StartLineNumber)|$What"
}

foreach ($file in $Path) {
    $tokens = $null
    $parseErrors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref] $tokens, [ref] $parseErrors)
    foreach ($parseError in $parseErrors) { Out-Finding 'ParseError' $file $parseError.Extent $parseError.Message }

    # PowerShell-7-only syntax, by AST node type and flags (type names, so this runs on 5.1 too).
    $nodes = $ast.FindAll({ $true }, $true)
    foreach ($node in $nodes) {
        $type = $node.GetType().Name
        if ($type -in 'TernaryExpressionAst', 'PipelineChainAst') { Out-Finding 'PS51Syntax' $file $node.Extent $type }
        if ($node -is [System.Management.Automation.Language.BinaryExpressionAst] -and [string]$node.Operator -eq 'QuestionQuestion') { Out-Finding 'PS51Syntax' $file $node.Extent '??' }
        if ($node -is [System.Management.Automation.Language.AssignmentStatementAst] -and [string]$node.Operator -eq 'QuestionQuestionEquals') { Out-Finding 'PS51Syntax' $file $node.Extent '??=' }
        if ($null -ne $node.PSObject.Properties['NullConditional'] -and $node.NullConditional) { Out-Finding 'PS51Syntax' $file $node.Extent '?. or ?[]' }
        if ($node -is [System.Management.Automation.Language.NamedBlockAst] -and [string]$node.BlockKind -eq 'Clean') { Out-Finding 'PS51Syntax' $file $node.Extent 'clean block' }
    }
    if ($SyntaxOnly) { continue }

    foreach ($function in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true)) {
        $name = $function.Name
        $verb = ($name -split '-', 2)[0]
        if ($name -notmatch '^\w+-\w+$' -or -not $approvedVerbs.Contains($verb)) { Out-Finding 'PSUseApprovedVerbs' $file $function.Extent $name }

        $body = $function.Body
        $binding = $null
        if ($null -ne $body.ParamBlock) {
            $binding = $body.ParamBlock.Attributes | Where-Object { $_.TypeName.Name -in 'CmdletBinding', 'System.Management.Automation.CmdletBindingAttribute' } | Select-Object -First 1
        }
        $declares = $null -ne $binding -and @($binding.NamedArguments | Where-Object {
                $_.ArgumentName -eq 'SupportsShouldProcess' -and ($_.ExpressionOmitted -or $_.Argument.Extent.Text -eq '$true')
            }).Count -gt 0
        $calls = @($body.FindAll({ param($n)
                    ($n -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -and $n.Member.Extent.Text -in 'ShouldProcess', 'ShouldContinue' -and $n.Expression.Extent.Text -eq '$PSCmdlet') -or
                    ($n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Test-HvbShouldProcess' -and $n.Extent.Text -match '-Cmdlet\s+\$PSCmdlet\b')
                }, $true)).Count -gt 0
        if ($declares -and -not $calls) { Out-Finding 'PSShouldProcess' $file $function.Extent "$name declares SupportsShouldProcess but never calls ShouldProcess" }
        if ($calls -and -not $declares) { Out-Finding 'PSShouldProcess' $file $function.Extent "$name calls ShouldProcess without declaring SupportsShouldProcess" }
        if ($exportedSet.Contains($name) -and $verb -in $stateChanging -and -not $declares) { Out-Finding 'PSUseShouldProcessForStateChangingFunctions' $file $function.Extent $name }

        if ($exportedSet.Contains($name)) {
            $help = $function.GetHelpContent()
            if ($null -eq $help -or [string]::IsNullOrWhiteSpace($help.Synopsis) -or $help.Examples.Count -eq 0) { Out-Finding 'PSProvideCommentHelp' $file $function.Extent $name }
        }

        if ($null -ne $body.ParamBlock) {
            $hasUser = $false
            $hasPlainPassword = $false
            foreach ($parameter in $body.ParamBlock.Parameters) {
                $parameterName = $parameter.Name.VariablePath.UserPath
                $typeName = ($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.Language.TypeConstraintAst] } | ForEach-Object { $_.TypeName.FullName }) -join ','
                if ($parameterName -match $passwordNames -and $typeName -notmatch 'SecureString|PSCredential|Credential') {
                    Out-Finding 'PSAvoidUsingPlainTextForPassword' $file $parameter.Extent "$name -$parameterName [$typeName]"
                    $hasPlainPassword = $true
                }
                if ($parameterName -match '^(User|UserName|Username|Login)$') { $hasUser = $true }
                if ($typeName -match '^(switch|System\.Management\.Automation\.SwitchParameter)$' -and $null -ne $parameter.DefaultValue -and $parameter.DefaultValue.Extent.Text -ne '$false') {
                    Out-Finding 'PSAvoidDefaultValueSwitchParameter' $file $parameter.Extent "$name -$parameterName"
                }
            }
            if ($hasUser -and $hasPlainPassword) { Out-Finding 'PSAvoidUsingUsernameAndPasswordParams' $file $function.Extent $name }
        }
    }

    foreach ($command in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true)) {
        $commandName = $command.GetCommandName()
        if ($null -eq $commandName) { continue }
        if ($aliases.Contains($commandName)) { Out-Finding 'PSAvoidUsingCmdletAliases' $file $command.Extent $commandName }
        if ($commandName -eq 'Invoke-Expression') { Out-Finding 'PSAvoidUsingInvokeExpression' $file $command.Extent $commandName }
        if ($commandName -eq 'Write-Host') { Out-Finding 'PSAvoidUsingWriteHost' $file $command.Extent $commandName }
        if ($commandName -eq 'ConvertTo-SecureString' -and $command.Extent.Text -match '-AsPlainText') { Out-Finding 'PSAvoidUsingConvertToSecureStringWithPlainText' $file $command.Extent $commandName }
        # Positional arguments: elements after the name that are neither a parameter nor its value.
        $positional = 0
        if (-not $knownCache.ContainsKey($commandName)) { $knownCache[$commandName] = $null -ne (Get-Command -Name $commandName -ErrorAction Ignore) }
        $known = $knownCache[$commandName]
        $switches = Get-SwitchParameter $commandName
        $elements = $command.CommandElements
        for ($i = 1; $i -lt $elements.Count; $i++) {
            $element = $elements[$i]
            if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
                # -Name value: the value is the next element unless given as -Name:value or it is a switch.
                if ($null -eq $element.Argument -and -not $switches.Contains($element.ParameterName) -and $i + 1 -lt $elements.Count -and
                    $elements[$i + 1] -isnot [System.Management.Automation.Language.CommandParameterAst]) {
                    $i++
                }
                continue
            }
            $positional++
        }
        if ($known -and $positional -ge 3) { Out-Finding 'PSAvoidUsingPositionalParameters' $file $command.Extent "$commandName ($positional positional)" }
    }

    foreach ($variable in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.VariableExpressionAst] -and $n.VariablePath.IsGlobal }, $true)) {
        Out-Finding 'PSAvoidGlobalVars' $file $variable.Extent $variable.Extent.Text
    }
    foreach ($catch in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CatchClauseAst] }, $true)) {
        if ($catch.Body.Statements.Count -eq 0) { Out-Finding 'PSAvoidUsingEmptyCatchBlock' $file $catch.Extent 'catch {}' }
    }
}
