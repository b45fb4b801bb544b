// The PSHost the engine talks to: enough for $Host, Write-Host (information stream), warnings,
// verbose/debug messages, progress and Out-Default, writing plain text to the standard streams.

using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace HyperVBackup.PsHost
{
    internal sealed class MinimalHost : PSHost
    {
        private readonly Guid _id = Guid.NewGuid();
        private readonly MinimalUserInterface _ui;
        private readonly StreamWriter _stderr;

        public MinimalHost(StreamWriter stdout, StreamWriter stderr, bool nonInteractive)
        {
            _stderr = stderr;
            _ui = new MinimalUserInterface(stdout, stderr, nonInteractive);
        }

        /// <summary>The code given to `exit N` at top level, if any.</summary>
        public int? ExitCode { get; private set; }

        public override string Name => "HyperVBackup.PsHost";
        public override Version Version => typeof(PSObject).Assembly.GetName().Version ?? new Version(7, 6);
        public override Guid InstanceId => _id;
        public override PSHostUserInterface UI => _ui;
        public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

        public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
        public override void EnterNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");
        public override void ExitNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }

        /// <summary>Writes one ErrorRecord as one line on stderr.</summary>
        public void WriteErrorRecord(ErrorRecord record)
        {
            lock (_ui.Sync)
            {
                _stderr.WriteLine(FormatErrorRecord(record));
            }
        }

        /// <summary>`Command: message [FullyQualifiedErrorId] (at file:line:column)`, on one line.</summary>
        internal static string FormatErrorRecord(ErrorRecord record)
        {
            var text = new StringBuilder();
            var info = record.InvocationInfo;
            var command = info?.MyCommand?.Name;
            if (!string.IsNullOrEmpty(command) && !command.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase))
            {
                text.Append(command).Append(": ");
            }
            var message = record.ErrorDetails?.Message;
            if (string.IsNullOrEmpty(message)) message = record.Exception?.Message ?? record.ToString();
            text.Append(OneLine(message));
            text.Append(" [").Append(record.FullyQualifiedErrorId).Append(']');
            if (info is not null && !string.IsNullOrEmpty(info.ScriptName))
            {
                text.Append(" (at ").Append(info.ScriptName).Append(':').Append(info.ScriptLineNumber)
                    .Append(':').Append(info.OffsetInLine).Append(')');
            }
            else if (info is not null && info.ScriptLineNumber > 0)
            {
                text.Append(" (at line ").Append(info.ScriptLineNumber).Append(':').Append(info.OffsetInLine).Append(')');
            }
            return text.ToString();
        }

        internal static string OneLine(string text) =>
            string.Join(" ", text.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()));
    }

    internal sealed class MinimalUserInterface : PSHostUserInterface
    {
        private readonly StreamWriter _out;
        private readonly StreamWriter _err;
        private readonly bool _nonInteractive;
        private readonly MinimalRawUserInterface _raw = new();
        private readonly bool _showProgress = Environment.GetEnvironmentVariable("HVB_PSHOST_PROGRESS") == "1";

        public MinimalUserInterface(StreamWriter stdout, StreamWriter stderr, bool nonInteractive)
        {
            _out = stdout;
            _err = stderr;
            _nonInteractive = nonInteractive;
        }

        public object Sync { get; } = new();

        public override PSHostRawUserInterface RawUI => _raw;

        // The formatter emits $PSStyle escape sequences; like pwsh with redirected output, this
        // host writes plain text.
        private static readonly System.Text.RegularExpressions.Regex Escapes = new(
            @"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)", System.Text.RegularExpressions.RegexOptions.Compiled);

        internal static string Plain(string value) => value.Contains('\x1b') ? Escapes.Replace(value, "") : value;

        public override void Write(string value) { lock (Sync) _out.Write(Plain(value)); }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
        public override void WriteLine(string value) { lock (Sync) _out.Write(Plain(value) + "\n"); }
        public override void WriteLine() { lock (Sync) _out.Write("\n"); }
        public override void WriteErrorLine(string value) { lock (Sync) _err.Write(Plain(value) + "\n"); }
        public override void WriteDebugLine(string message) => WriteLine("DEBUG: " + message);
        public override void WriteVerboseLine(string message) => WriteLine("VERBOSE: " + message);
        public override void WriteWarningLine(string message) => WriteLine("WARNING: " + message);

        public override void WriteInformation(InformationRecord record)
        {
            // Write-Host's records carry the PSHOST tag and are shown by calling Write/WriteLine,
            // which the engine does itself; nothing else is shown, as in pwsh.
        }

        /// <summary>Progress is not drawn; with HVB_PSHOST_PROGRESS=1 each record is one stderr line.</summary>
        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
            if (!_showProgress) return;
            var status = record.RecordType == ProgressRecordType.Completed ? "completed" : record.StatusDescription;
            var percent = record.PercentComplete >= 0 ? $" {record.PercentComplete}%" : "";
            lock (Sync) _err.Write($"PROGRESS: {record.Activity}: {status}{percent}\n");
        }

        public override string ReadLine()
        {
            RefuseIfNonInteractive();
            return Console.In.ReadLine() ?? "";
        }

        public override SecureString ReadLineAsSecureString()
        {
            var secure = new SecureString();
            foreach (var c in ReadLine()) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
        {
            RefuseIfNonInteractive();
            var result = new Dictionary<string, PSObject>();
            if (!string.IsNullOrEmpty(caption)) WriteLine(caption);
            if (!string.IsNullOrEmpty(message)) WriteLine(message);
            foreach (var field in descriptions)
            {
                Write(field.Name + ": ");
                result[field.Name] = PSObject.AsPSObject(ReadLine());
            }
            return result;
        }

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            RefuseIfNonInteractive();
            if (!string.IsNullOrEmpty(caption)) WriteLine(caption);
            if (!string.IsNullOrEmpty(message)) WriteLine(message);
            for (var i = 0; i < choices.Count; i++) WriteLine($"[{i}] {choices[i].Label.Replace("&", "")}");
            Write($"Choice (default {defaultChoice}): ");
            var answer = ReadLine();
            return int.TryParse(answer, out var n) && n >= 0 && n < choices.Count ? n : defaultChoice;
        }

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
        {
            RefuseIfNonInteractive();
            if (string.IsNullOrEmpty(userName))
            {
                Write("User: ");
                userName = ReadLine();
            }
            Write("Password: ");
            return new PSCredential(userName, ReadLineAsSecureString());
        }

        private void RefuseIfNonInteractive()
        {
            if (_nonInteractive)
            {
                throw new PSInvalidOperationException("PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.");
            }
        }
    }

    /// <summary>A fixed-size, colourless console: wide enough that tables are not truncated.</summary>
    internal sealed class MinimalRawUserInterface : PSHostRawUserInterface
    {
        private readonly int _width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var c) && c >= 40 ? c : 120;

        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
        public override Coordinates CursorPosition { get; set; }
        public override Coordinates WindowPosition { get; set; }
        public override int CursorSize { get; set; } = 25;
        public override Size BufferSize { get => new(_width, 9999); set { } }
        public override Size WindowSize { get => new(_width, 50); set { } }
        public override Size MaxWindowSize => new(_width, 50);
        public override Size MaxPhysicalWindowSize => new(_width, 50);
        public override bool KeyAvailable => false;
        public override string WindowTitle { get; set; } = "HyperVBackup.PsHost";

        public override KeyInfo ReadKey(ReadKeyOptions options) =>
            throw new NotSupportedException("ReadKey is not supported by this host.");
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) =>
            throw new NotSupportedException("GetBufferContents is not supported by this host.");
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
    }
}
