/**
 * Slots under limits, taken and given back by tasks already running (where {@link runScheduled}
 * starts whole tasks): at most `total` holders at once and at most `perKind[kind]` per resource.
 * A storage-snapshot run uses it to throttle the copies of VMs that all took their checkpoint
 * together. Waiters are served like the scheduler's tasks: the earliest that fits goes first.
 */
import type { SchedulerLimits, SchedulerPeaks, TaskResource } from "./scheduler";

export class SlotLimiter {
  readonly peaks: SchedulerPeaks = { total: 0, perResource: {} };
  readonly #busy = new Map<string, number>();
  #holders = 0;
  readonly #waiting: Array<{ keys: Array<{ kind: string; key: string }>; grant: () => void }> = [];

  constructor(private readonly limits: SchedulerLimits) {
    if (!(limits.total >= 1)) throw new RangeError(`The overall limit must be at least 1, got ${limits.total}`);
  }

  /** Waits for a slot on every resource; resolves with the function that gives them back (once). */
  acquire(resources: readonly TaskResource[]): Promise<() => void> {
    const keys = [...new Map(resources.map((r) => [`${r.kind}:${r.name}`, { kind: r.kind, key: `${r.kind}:${r.name}` }])).values()];
    return new Promise((resolve) => {
      this.#waiting.push({
        keys,
        grant: () => {
          let given = false;
          resolve(() => {
            if (given) return;
            given = true;
            this.#holders--;
            for (const k of keys) this.#busy.set(k.key, this.#busy.get(k.key)! - 1);
            this.#pump();
          });
        },
      });
      this.#pump();
    });
  }

  #fits(keys: Array<{ kind: string; key: string }>): boolean {
    return keys.every((k) => {
      const limit = this.limits.perKind?.[k.kind];
      return limit === undefined || (this.#busy.get(k.key) ?? 0) < limit;
    });
  }

  #pump(): void {
    for (let i = 0; i < this.#waiting.length && this.#holders < this.limits.total; ) {
      const w = this.#waiting[i]!;
      if (!this.#fits(w.keys)) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#holders++;
      this.peaks.total = Math.max(this.peaks.total, this.#holders);
      for (const k of w.keys) {
        const n = (this.#busy.get(k.key) ?? 0) + 1;
        this.#busy.set(k.key, n);
        this.peaks.perResource[k.key] = Math.max(this.peaks.perResource[k.key] ?? 0, n);
      }
      w.grant();
    }
  }
}
