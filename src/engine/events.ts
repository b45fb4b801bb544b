/**
 * What an engine operation tells its caller while it runs. The CLI turns these into a progress
 * line and messages, or (with --json) into the line-delimited JSON events the PowerShell module
 * reads (Write-Progress, Write-Warning, Write-Verbose).
 */
export interface EngineEvents {
  progress(p: ProgressEvent): void;
  warning(message: string, code?: string): void;
  info(message: string): void;
}

export interface ProgressEvent {
  /** What is being done, e.g. `Backing up web01`. */
  activity: string;
  /** Current step, e.g. `disk 0: 512 MiB of 2 GiB`. */
  status?: string;
  percent: number;
  bytesDone?: number;
  bytesTotal?: number;
}

/** Events that go nowhere (library use without a listener). */
export const silentEvents: EngineEvents = {
  progress() {},
  warning() {},
  info() {},
};
