/**
 * Runs many independent tasks (one VM's backup each) under limits: at most `total` at once, and
 * at most `limits[kind]` at once per named resource of that kind (a volume, a host). A task that
 * uses several resources (a VM whose disks sit on two volumes) takes a slot on each.
 *
 * Ordering is fair in this sense: whenever a slot frees, the earliest submitted task whose
 * resources all have room starts; a task waiting for a busy volume never holds back tasks of
 * other volumes (no head-of-line blocking), and within one resource tasks start in submission
 * order. A task's failure is its outcome; it never stops the others.
 */

/** A resource a task occupies while it runs, e.g. `{ kind: "volume", name: "C:\\" }`. */
export interface TaskResource {
  kind: string;
  name: string;
}

/** One unit of work for {@link runScheduled}. */
export interface ScheduledTask<T> {
  /** Names the task in outcomes (a VM name). */
  key: string;
  resources: readonly TaskResource[];
  run: () => Promise<T>;
}

/** Limits for {@link runScheduled}. */
export interface SchedulerLimits {
  /** Tasks running at once, over all resources (at least 1). */
  total: number;
  /** Tasks running at once per resource of a kind (e.g. `{ volume: 1, host: 2 }`); kinds not named are unlimited. */
  perKind?: Readonly<Record<string, number>>;
}

/** How one task ended, in submission order. */
export type TaskOutcome<T> =
  | { key: string; ok: true; value: T; startedAt: number; endedAt: number }
  | { key: string; ok: false; error: unknown; startedAt: number; endedAt: number };

/** The most tasks that ran at once, overall and per resource (`kind:name`), as the scheduler saw them. */
export interface SchedulerPeaks {
  total: number;
  perResource: Record<string, number>;
}

/** What {@link runScheduled} returns. */
export interface ScheduledRun<T> {
  outcomes: TaskOutcome<T>[];
  peaks: SchedulerPeaks;
}

/** Options of {@link runScheduled}. */
export interface SchedulerOptions {
  /** Clock for outcomes' times (ms); replaceable in tests. */
  now?: () => number;
  /** Called when a task starts (for progress). */
  onStart?: (key: string) => void;
}

function resourceKey(r: TaskResource): string {
  return `${r.kind}:${r.name}`;
}

/**
 * Runs `tasks` under `limits` and resolves when every task has ended (never rejects on a task's
 * failure). Throws at once for limits below 1.
 */
export async function runScheduled<T>(tasks: readonly ScheduledTask<T>[], limits: SchedulerLimits, options: SchedulerOptions = {}): Promise<ScheduledRun<T>> {
  if (!(limits.total >= 1)) throw new RangeError(`The overall limit must be at least 1, got ${limits.total}`);
  for (const [kind, n] of Object.entries(limits.perKind ?? {})) {
    if (!(n >= 1)) throw new RangeError(`The limit per ${kind} must be at least 1, got ${n}`);
  }
  const now = options.now ?? Date.now;
  const outcomes: (TaskOutcome<T> | undefined)[] = tasks.map(() => undefined);
  const busy = new Map<string, number>();
  const peaks: SchedulerPeaks = { total: 0, perResource: {} };
  const waiting = tasks.map((_, i) => i);
  let running = 0;

  // A task's distinct resources (a VM with two disks on one volume takes one slot there).
  const resourcesOf = tasks.map((t) => [...new Map(t.resources.map((r) => [resourceKey(r), r])).values()]);
  const fits = (i: number): boolean =>
    resourcesOf[i]!.every((r) => {
      const limit = limits.perKind?.[r.kind];
      return limit === undefined || (busy.get(resourceKey(r)) ?? 0) < limit;
    });

  return new Promise((resolve) => {
    const finish = (): void => {
      if (running === 0 && waiting.length === 0) resolve({ outcomes: outcomes as TaskOutcome<T>[], peaks });
    };
    const pump = (): void => {
      for (let w = 0; w < waiting.length && running < limits.total; ) {
        const i = waiting[w]!;
        if (!fits(i)) {
          w++;
          continue;
        }
        waiting.splice(w, 1);
        start(i);
      }
      finish();
    };
    const start = (i: number): void => {
      const task = tasks[i]!;
      running++;
      peaks.total = Math.max(peaks.total, running);
      for (const r of resourcesOf[i]!) {
        const k = resourceKey(r);
        const n = (busy.get(k) ?? 0) + 1;
        busy.set(k, n);
        peaks.perResource[k] = Math.max(peaks.perResource[k] ?? 0, n);
      }
      const startedAt = now();
      options.onStart?.(task.key);
      const done = (o: TaskOutcome<T>): void => {
        outcomes[i] = o;
        running--;
        for (const r of resourcesOf[i]!) busy.set(resourceKey(r), busy.get(resourceKey(r))! - 1);
        pump();
      };
      // A task that throws synchronously is a failed task too.
      let promise: Promise<T>;
      try {
        promise = task.run();
      } catch (e) {
        promise = Promise.reject(e);
      }
      promise.then(
        (value) => done({ key: task.key, ok: true, value, startedAt, endedAt: now() }),
        (error: unknown) => done({ key: task.key, ok: false, error, startedAt, endedAt: now() }),
      );
    };
    pump();
  });
}
