/** Formats a byte count for people: `64 MiB (67108864 bytes)` style helpers. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n} bytes`;
  const text = Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
  return `${text} ${units[u]}`;
}

/** A progress reporter that rewrites one line on a terminal and stays silent otherwise. */
export function terminalProgress(label: string, stream: NodeJS.WriteStream = process.stderr): { update(done: number, total: number): void; end(): void } {
  const enabled = Boolean(stream.isTTY);
  let last = -1;
  return {
    update(done, total) {
      if (!enabled) return;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      if (pct === last) return;
      last = pct;
      stream.write(`\r${label}: ${pct}% (${formatBytes(done)} of ${formatBytes(total)})`);
    },
    end() {
      if (enabled && last >= 0) stream.write("\n");
    },
  };
}
