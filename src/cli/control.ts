/**
 * The core's side of the module↔core channel's return path: stdin. The PowerShell module keeps
 * the core's stdin open and writes one JSON line per message:
 *
 * - `{"id":N,"ok":...}`: the answer to host request N (transports/channel_session.ts);
 * - `{"type":"cancel"}`: the user stopped the command (Ctrl+C, StopProcessing). The running
 *   operation stops at its next safe point and cleans up (checkpoint, lock, staging) as after
 *   any failure, then the core exits with an `error` event, code `Stopped`.
 *
 * stdin is read only when the module says it writes there (`HVBACKUP_CONTROL=stdin`, or
 * `HVBACKUP_HOST=channel`); SIGINT and SIGTERM stop the operation the same way in any case, so
 * a terminal's Ctrl+C or a service stop also leaves the host clean.
 */
import { createInterface } from "node:readline";
import { HvbError } from "../base/mod";
import { type ChannelCimSession, HostChannel, parseChannelAnswer } from "../hyperv/mod";

const controller = new AbortController();
let channel: HostChannel | undefined;
let reading = false;
let signalsHooked = false;

/** Aborted when the user stopped the command (cancel line or signal). Pass it to engine operations. */
export const stopSignal: AbortSignal = controller.signal;

/** The error an operation stopped by {@link stopSignal} ends with. */
export function stoppedError(): HvbError {
  return new HvbError("Stopped", "Stopped by the user; what this run had made on the host and in the repository was removed", { category: "OperationStopped" });
}

/** Stops the running operation: what a cancel line or a signal does. */
export function requestStop(): void {
  if (!controller.signal.aborted) controller.abort(stoppedError());
}

/** Whether the module asked the core to take host requests through the channel. */
export function channelRequested(): boolean {
  return process.env["HVBACKUP_HOST"] === "channel";
}

/** Starts listening for stop requests: signals always, stdin lines when the module writes there. */
export function listenForStop(): void {
  if (!signalsHooked) {
    signalsHooked = true;
    const onSignal = (): void => {
      // A second signal while the first cleanup runs: the user insists, leave at once.
      if (controller.signal.aborted) process.exit(130);
      requestStop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  if (process.env["HVBACKUP_CONTROL"] === "stdin" || channelRequested()) readStdin();
}

/**
 * A session over the host channel (one channel per process, reading its answers from stdin):
 * for `namespace` (default root\virtualization\v2) of the host, or of cluster node `node`.
 */
export function channelSession(namespace?: string, node?: string): ChannelCimSession {
  if (channel) return channel.session({ ...(namespace === undefined ? {} : { namespace }), ...(node === undefined ? {} : { node }) });
  const stdin = process.stdin as NodeJS.ReadStream & { ref?: () => void; unref?: () => void };
  channel = new HostChannel((line) => process.stdout.write(`${line}\n`), {
    // stdin keeps node alive only while an answer is awaited: a finished command must exit
    // although the module still holds stdin open.
    onBusy: () => stdin.ref?.(),
    onIdle: () => stdin.unref?.(),
  });
  readStdin();
  return channelSession(namespace, node);
}

function readStdin(): void {
  if (reading) return;
  reading = true;
  const stdin = process.stdin as NodeJS.ReadStream & { unref?: () => void };
  const lines = createInterface({ input: stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    const text = line.trim();
    if (text === "") return;
    if (/^\{\s*"type"\s*:\s*"cancel"/.test(text)) {
      requestStop();
      return;
    }
    if (!channel) {
      process.stderr.write(`hvbackup: ignoring a line on stdin: ${text.slice(0, 80)}\n`);
      return;
    }
    try {
      channel.answer(parseChannelAnswer(text));
    } catch (e) {
      // A broken channel cannot be trusted for the rest of the run.
      channel.close((e as Error).message);
    }
  });
  lines.on("close", () => channel?.close("stdin ended"));
  stdin.unref?.();
}
