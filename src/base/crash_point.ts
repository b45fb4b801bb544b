/**
 * Named places where tests may kill the process to prove crash safety. When the environment
 * variable HVBACKUP_CRASH_AT equals `name` (or `name#N` for the N-th time it is reached), the
 * process dies at once with SIGKILL: no cleanup, no flush, exactly like a power cut as far as
 * this process's own writes are concerned. Unset in production, it costs one lookup.
 */
const counts = new Map<string, number>();

export function crashPoint(name: string): void {
  const want = process.env["HVBACKUP_CRASH_AT"];
  if (!want) return;
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  if (want === name || want === `${name}#${n}`) process.kill(process.pid, "SIGKILL");
}
