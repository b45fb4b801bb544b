import type { EngineEvents, ProgressEvent } from "../engine/mod";
import { UsageError, toHvbError } from "../base/mod";
import type { CommandIo } from "./io";

/**
 * Output of a command: human text (with a progress line on a terminal), or with `--json` (engine
 * commands) or the global `--events` (every command) line-delimited JSON events, the protocol the
 * PowerShell module reads:
 *
 * ```
 * {"type":"progress","activity":"Backing up web01","status":"disk 0: unit 3 of 40","percent":7}
 * {"type":"warning","message":"…","code":"ConsistencyFallback"}
 * {"type":"info","message":"…"}
 * {"type":"result","data":{…}}
 * {"type":"error","code":"LockHeld","category":"ResourceBusy","message":"…","target":"…"}
 * ```
 *
 * Under `--events` main.ts makes one EventOutput for the whole invocation and hands it to the
 * command as {@link CommandIo.events}; a command's result is then exactly one `result` line and
 * a failure exactly one `error` line.
 */
export class EventOutput implements EngineEvents {
  #lastPercent = -1;
  #progressShown = false;
  #ended = false;
  constructor(readonly io: CommandIo, readonly json: boolean, readonly tty = Boolean(process.stderr.isTTY)) {}

  progress(p: ProgressEvent): void {
    if (this.json) {
      // Throttle to whole percents so a long copy does not flood the pipe.
      if (p.percent === this.#lastPercent && p.status === undefined) return;
      this.#lastPercent = p.percent;
      this.#line({ type: "progress", ...p });
    } else if (this.tty) {
      this.io.stderr(`\r\x1b[K${p.activity}: ${p.percent}%${p.status ? ` ${p.status}` : ""}`);
      this.#progressShown = true;
    }
  }

  warning(message: string, code?: string): void {
    this.#endProgress();
    if (this.json) this.#line({ type: "warning", message, ...(code ? { code } : {}) });
    else this.io.stderr(`WARNING: ${message}\n`);
  }

  info(message: string): void {
    this.#endProgress();
    if (this.json) this.#line({ type: "info", message });
    else this.io.stderr(`${message}\n`);
  }

  /** The command's result: a JSON event, or `human` printed on stdout. */
  result(data: unknown, human: string): void {
    this.#endProgress();
    this.#ended = true;
    if (this.json) this.#line({ type: "result", data });
    else this.io.stdout(human.endsWith("\n") ? human : `${human}\n`);
  }

  /** Reports a failure; returns the exit code (2 usage, 1 otherwise). */
  error(e: unknown): number {
    this.#endProgress();
    this.#ended = true;
    const err = toHvbError(e);
    if (this.json) this.#line({ type: "error", code: err.code, category: err.category, message: err.message, ...(err.target !== undefined ? { target: err.target } : {}) });
    else this.io.stderr(`hvbackup: ${err.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }

  /** Whether a result or an error has been reported, so main.ts adds neither a second time. */
  get ended(): boolean {
    return this.#ended;
  }

  #line(obj: Record<string, unknown>): void {
    this.io.stdout(`${JSON.stringify(obj)}\n`);
  }

  #endProgress(): void {
    if (this.#progressShown) {
      this.io.stderr("\n");
      this.#progressShown = false;
    }
  }
}

/**
 * The output an engine command writes to: the invocation's `--events` stream when main.ts made
 * one, else human text or, with `--json`, events.
 */
export function eventOutput(io: CommandIo, json: boolean): EventOutput {
  return io.events ?? new EventOutput(io, json);
}

/**
 * Reports the result of a command that has its own text or `--json` form (vhdx, list, lab):
 * one `result` event under `--events`, else `print` writes the form the README documents.
 */
export function emitResult(io: CommandIo, data: unknown, print: () => void): void {
  if (io.events) io.events.result(data, "");
  else print();
}
