/**
 * The CimSession contract through the module↔core channel, answered by the MODULE's PowerShell:
 * the session under test is the core's channel session (HostChannel), and every host-request
 * line it writes goes to one long-lived build/pwsh process that parses it and answers it with
 * the module's own Invoke-HvbHostRequest, exactly as Invoke-HvbCore does for a running core.
 * The CIM cmdlets it calls are the stand-ins of CimStandIns.ps1 (the cmdlets' parameters in,
 * CimInstance-shaped objects out, the lab underneath), so the module's marshalling — instances
 * to wire objects, REF and embedded (DTD 2.0) arguments, out-parameters, CIM error codes — is
 * what each contract case exercises. test/contracts/channel.contract.test.ts runs the same
 * suite with a TypeScript responder; this file replaces that responder with the module.
 *
 * Each contract case gets a fresh lab (the suite wants one host per test); the PowerShell
 * process is told the new lab folder with a control line {"type":"lab","dir":...} before the
 * case runs, and drops the class cache the module keeps per connection.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { HostChannel, parseChannelAnswer } from "../../src/hyperv/mod";
import { addFault, mutateLab } from "../../src/lab/mod";
import { addVm, newLab } from "../support/lab";
import { CONTRACT_VM, describeCimSessionContract } from "../contracts/cim_session_contract";
import { MANIFEST, prepare, psQuote, PWSH, standIns, tempDir } from "./_pwsh";

/** The responder: reads request lines on stdin, answers each with the module's Invoke-HvbHostRequest. */
function responderScript(firstLab: string): string {
  return `$ErrorActionPreference = 'Stop'
Import-Module ${psQuote(MANIFEST)}
${standIns(firstLab)}
$module = Get-Module HyperVBackup
# As Invoke-HvbCore builds it: no -CimSession given, a class cache per channel.
$connection = @{ CimSession = $null; Classes = [System.Collections.Generic.Dictionary[string, object]]::new([System.StringComparer]::OrdinalIgnoreCase) }
$stdin = [System.Console]::In
$stdout = [System.Console]::Out
$stdout.WriteLine('{"type":"ready"}'); $stdout.Flush()
while ($null -ne ($line = $stdin.ReadLine())) {
    $request = & $module { param($j) ConvertFrom-HvbJson -Json $j } $line
    if ([string]$request.type -eq 'lab') {
        $global:HvbStandIn.Lab = [string]$request.dir
        $connection.Classes.Clear()
        $stdout.WriteLine('{"type":"lab-ready"}'); $stdout.Flush()
        continue
    }
    $answer = & $module { param($r, $c) Invoke-HvbHostRequest -Request $r -Connection $c } $request $connection
    $stdout.WriteLine($answer); $stdout.Flush()
}
`;
}

/** One build/pwsh process running the responder, and the channel whose lines it answers now. */
class ModuleResponder {
  #child: ChildProcessWithoutNullStreams | undefined;
  #waiting: Array<(line: string) => void> = [];
  #stderr = "";
  channel: HostChannel | undefined;

  async start(dir: string, firstLab: string): Promise<void> {
    const file = join(dir, "responder.ps1");
    writeFileSync(file, responderScript(firstLab));
    const child = spawn(PWSH, ["-NoProfile", "-NonInteractive", "-File", file], {
      cwd: dir,
      env: { ...process.env, HVB_USE_REAL_PWSH: process.env["HVB_USE_REAL_PWSH"] ?? "0" },
    });
    this.#child = child;
    child.stderr.setEncoding("utf8").on("data", (s: string) => (this.#stderr += s));
    const exited = new Promise<never>((_, reject) =>
      child.on("exit", (code) => {
        // Whatever the current case still waits for fails at once rather than at its timeout.
        this.channel?.close(`the PowerShell responder exited ${code}: ${this.#stderr}`);
        reject(new Error(`the responder exited ${code}:\n${this.#stderr}`));
      }),
    );
    exited.catch(() => undefined);
    createInterface({ input: child.stdout }).on("line", (line) => this.#onLine(line));
    await Promise.race([this.#next(), exited]);
  }

  #next(): Promise<string> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #onLine(line: string): void {
    const control = /^\{"type":"(ready|lab-ready)"\}$/.test(line);
    if (control) {
      this.#waiting.shift()?.(line);
      return;
    }
    if (this.channel === undefined) throw new Error(`an answer with no channel: ${line}`);
    this.channel.answer(parseChannelAnswer(line));
  }

  /** Points the stand-ins at another lab; resolves once the responder took it. */
  async useLab(labDir: string): Promise<void> {
    const ack = this.#next();
    this.#child!.stdin.write(`${JSON.stringify({ type: "lab", dir: labDir })}\n`);
    await ack;
  }

  send(line: string): void {
    this.#child!.stdin.write(`${line}\n`);
  }

  stop(): void {
    this.#child?.stdin.end();
    this.#child?.kill();
  }

  get stderr(): string {
    return this.#stderr;
  }
}

const responder = new ModuleResponder();
let work: { dir: string; remove: () => void } | undefined;
/** The labs made for the cases, removed at the end. */
const labs: string[] = [];

beforeAll(async () => {
  prepare();
  work = tempDir("hvb-ps-contract-");
  const first = newLab();
  labs.push(first.dir);
  addVm(first, { name: CONTRACT_VM });
  await responder.start(work.dir, first.dir);
}, 300_000);

afterAll(() => {
  responder.stop();
  work?.remove();
  for (const dir of labs) rmSync(dir, { recursive: true, force: true });
  if (responder.stderr.trim() !== "") throw new Error(`the responder wrote to stderr:\n${responder.stderr}`);
});

describeCimSessionContract("channel (answered by the module's Invoke-HvbHostRequest over CIM stand-ins)", async () => {
  const lab = newLab();
  labs.push(lab.dir);
  addVm(lab, { name: CONTRACT_VM });
  await responder.useLab(lab.dir);
  const channel = new HostChannel((line) => responder.send(line));
  responder.channel = channel;
  return {
    session: channel.session(),
    failNextJob: (method, errorCode) => mutateLab(lab.dir, (s) => addFault(s, { method, code: errorCode, times: 1, atPercent: 50 })),
  };
});
