// A minimal PowerShell host over the PowerShell 7 engine from NuGet (Microsoft.PowerShell.SDK).
//
// It accepts the subset of pwsh's command line the project uses (-NoProfile, -NonInteractive,
// -File script.ps1 [args], -Command "..." / -Command -) so that build/pwsh can stand in for a real
// pwsh where none is installed. The engine has the whole PowerShell 7 cmdlet set (Utility,
// Management, Security, ...), autoloaded from the SDK's module folder; see docs/powershell-host.md.
//
// Streams: output is formatted by Out-Default and written to stdout; Write-Host, warnings, verbose
// and debug messages go to stdout as pwsh writes them; each ErrorRecord is one line on stderr.
// Exit code: the value of `exit N`; 1 after an uncaught terminating error; for -Command, 1 when
// the last pipeline failed; otherwise 0.

using System.Text;
using HyperVBackup.PsHost;

return HostProgram.Run(args);

namespace HyperVBackup.PsHost
{
    using System.Management.Automation;
    using System.Management.Automation.Runspaces;

    internal static class HostProgram
    {
        private const string Usage =
            "Usage: pwsh [-NoProfile] [-NonInteractive] [-NoLogo] [-ExecutionPolicy P]\n" +
            "            (-File script.ps1 [args...] | -Command \"text\" | -Command -)\n" +
            "This is the HyperVBackup test host (PowerShell 7 engine from Microsoft.PowerShell.SDK).\n";

        public static int Run(string[] args)
        {
            var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
            var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true };

            Invocation invocation;
            try
            {
                invocation = Invocation.Parse(args);
            }
            catch (ArgumentException e)
            {
                stderr.Write($"pwsh: {e.Message}\n{Usage}");
                return 64;
            }
            if (invocation.ShowHelp)
            {
                stdout.Write(Usage);
                return 0;
            }
            if (invocation.ShowVersion)
            {
                stdout.WriteLine($"PowerShell {typeof(PSObject).Assembly.GetName().Version} (HyperVBackup PsHost)");
                return 0;
            }

            var host = new MinimalHost(stdout, stderr, invocation.NonInteractive);
            try
            {
                return Execute(invocation, host, stderr);
            }
            catch (Exception e)
            {
                stderr.WriteLine($"pwsh: host failure: {e.GetType().Name}: {e.Message}");
                return 1;
            }
        }

        private static int Execute(Invocation invocation, MinimalHost host, StreamWriter stderr)
        {
            var state = InitialSessionState.CreateDefault2();
            if (OperatingSystem.IsWindows())
            {
                state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
            }
            using var runspace = RunspaceFactory.CreateRunspace(host, state);
            runspace.Open();

            string script;
            if (invocation.File is not null)
            {
                var path = Path.GetFullPath(invocation.File);
                if (!File.Exists(path))
                {
                    stderr.WriteLine($"The argument '{invocation.File}' is not recognized as the name of a script file. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.");
                    return 64;
                }
                // Run the file as `& 'path' args` so $PSScriptRoot, $MyInvocation and param() binding
                // behave as under pwsh; `exit N` inside the script then lands in $LASTEXITCODE.
                var text = new StringBuilder("& ").Append(Quote(path));
                foreach (var arg in invocation.Arguments)
                {
                    text.Append(' ').Append(ScriptArgument(arg));
                }
                script = text.ToString();
            }
            else
            {
                script = invocation.Command ?? "";
                if (script == "-")
                {
                    script = Console.In.ReadToEnd();
                }
            }

            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            // Plain text, as pwsh renders when its output is redirected; $LASTEXITCODE starts at 0 so
            // that a script without `exit` reports 0.
            ps.AddScript("$PSStyle.OutputRendering = 'PlainText'; $global:LASTEXITCODE = 0").Invoke();
            ps.Commands.Clear();
            if (invocation.File is null)
            {
                // Record $? of the last statement for the exit code (pwsh -Command semantics).
                script += "\n$global:__HvbPsHostLastOk = $?";
            }
            ps.AddScript(script).AddCommand("Out-Default");
            ps.Streams.Error.DataAdded += (sender, e) =>
            {
                var records = (PSDataCollection<ErrorRecord>)sender!;
                host.WriteErrorRecord(records[e.Index]);
            };

            var terminated = false;
            try
            {
                ps.Invoke();
            }
            catch (RuntimeException e)
            {
                host.WriteErrorRecord(e.ErrorRecord);
                terminated = true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                stderr.WriteLine($"{e.GetType().Name}: {e.Message}");
                terminated = true;
            }

            if (host.ExitCode is int requested)
            {
                return requested;
            }
            if (terminated)
            {
                return 1;
            }
            if (invocation.File is not null)
            {
                return LastExitCode(runspace);
            }
            return LastPipelineSucceeded(runspace, ps) ? 0 : 1;
        }

        private static int LastExitCode(Runspace runspace)
        {
            var value = runspace.SessionStateProxy.GetVariable("LASTEXITCODE");
            return value switch
            {
                int i => i,
                PSObject { BaseObject: int j } => j,
                _ => 0,
            };
        }

        private static bool LastPipelineSucceeded(Runspace runspace, PowerShell ps)
        {
            // pwsh -Command exits 1 when the last statement failed ($? false).
            var value = runspace.SessionStateProxy.GetVariable("__HvbPsHostLastOk");
            return value switch
            {
                bool ok => ok,
                PSObject { BaseObject: bool ok2 } => ok2,
                _ => !ps.HadErrors,
            };
        }

        internal static string Quote(string text) => "'" + text.Replace("'", "''") + "'";

        /// <summary>
        /// Renders one -File argument as script text: parameter names (`-Path`, `-Force:`) stay
        /// bare so they bind by name, `-Switch:$true`/`$false` keep their meaning, the rest is a
        /// literal string, as pwsh does.
        /// </summary>
        internal static string ScriptArgument(string arg)
        {
            if (System.Text.RegularExpressions.Regex.IsMatch(arg, @"^-[A-Za-z_?][\w-]*:?$"))
            {
                return arg;
            }
            var m = System.Text.RegularExpressions.Regex.Match(arg, @"^(-[A-Za-z_][\w-]*):(.*)$", System.Text.RegularExpressions.RegexOptions.Singleline);
            if (m.Success)
            {
                var value = m.Groups[2].Value;
                var rendered = value is "$true" or "$false" ? value : Quote(value);
                return m.Groups[1].Value + ":" + rendered;
            }
            return Quote(arg);
        }
    }

    /// <summary>The parsed command line.</summary>
    internal sealed class Invocation
    {
        public string? File { get; private set; }
        public string? Command { get; private set; }
        public List<string> Arguments { get; } = new();
        public bool NonInteractive { get; private set; }
        public bool ShowHelp { get; private set; }
        public bool ShowVersion { get; private set; }

        public static Invocation Parse(string[] args)
        {
            var result = new Invocation();
            for (var i = 0; i < args.Length; i++)
            {
                var arg = args[i];
                var name = arg.StartsWith("--", StringComparison.Ordinal) ? arg[1..] : arg;
                if (!name.StartsWith('-') || name == "-")
                {
                    // The first bare argument is the script file, as in pwsh.
                    result.File = arg;
                    result.Arguments.AddRange(args[(i + 1)..]);
                    break;
                }
                switch (Canonical(name))
                {
                    case "-noprofile":
                    case "-nologo":
                        break;
                    case "-noninteractive":
                        result.NonInteractive = true;
                        break;
                    case "-executionpolicy":
                    case "-outputformat":
                    case "-inputformat":
                    case "-workingdirectory":
                        if (i + 1 >= args.Length) throw new ArgumentException($"Missing value for {arg}.");
                        if (Canonical(name) == "-workingdirectory") Directory.SetCurrentDirectory(args[i + 1]);
                        i++;
                        break;
                    case "-file":
                        if (i + 1 >= args.Length) throw new ArgumentException("Missing script file after -File.");
                        result.File = args[i + 1];
                        result.Arguments.AddRange(args[(i + 2)..]);
                        return result;
                    case "-command":
                        if (i + 1 >= args.Length) throw new ArgumentException("Missing command text after -Command.");
                        // Like pwsh, every word after -Command is part of the command text.
                        result.Command = string.Join(' ', args[(i + 1)..]);
                        return result;
                    case "-help":
                        result.ShowHelp = true;
                        return result;
                    case "-version":
                        result.ShowVersion = true;
                        return result;
                    default:
                        throw new ArgumentException($"Unknown parameter '{arg}'.");
                }
            }
            if (result.File is null && result.Command is null)
            {
                throw new ArgumentException("Nothing to run: give -File or -Command (an interactive prompt is not supported).");
            }
            return result;
        }

        /// <summary>Maps the accepted spellings and unambiguous prefixes to one name.</summary>
        private static string Canonical(string name)
        {
            var n = name.ToLowerInvariant();
            if (n is "-?" or "-h") return "-help";
            if (n is "-c") return "-command";
            if (n is "-f") return "-file";
            if (n is "-ep" or "-ex") return "-executionpolicy";
            if (n is "-wd") return "-workingdirectory";
            if (n is "-nop") return "-noprofile";
            if (n is "-noni") return "-noninteractive";
            if (n is "-v") return "-version";
            string[] known = { "-noprofile", "-nologo", "-noninteractive", "-executionpolicy", "-outputformat", "-inputformat", "-workingdirectory", "-file", "-command", "-help", "-version" };
            var matches = known.Where(k => k.StartsWith(n, StringComparison.Ordinal)).ToArray();
            return matches.Length == 1 ? matches[0] : n;
        }
    }
}
