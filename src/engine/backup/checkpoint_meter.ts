/**
 * How long a VM ran on a recovery checkpoint: from the call that creates it until its
 * reference-point conversion (or its removal) has finished, i.e. until the VM is back on its
 * base disks. Measured by watching the host calls of one VM's backup, so the backup itself
 * needs no clock.
 */
import type { HostApi } from "../host_api";

export class CheckpointMeter {
  #openedAt: number | undefined;
  #total = 0;
  #open = 0;
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A checkpoint is being created: the VM starts to write to differencing disks. */
  opened(): void {
    if (this.#open++ === 0) this.#openedAt = this.now();
  }

  /** The checkpoint was merged away (converted or removed): the VM is back on its base disks. */
  closed(): void {
    if (this.#open === 0) return;
    if (--this.#open === 0 && this.#openedAt !== undefined) {
      this.#total += this.now() - this.#openedAt;
      this.#openedAt = undefined;
    }
  }

  /** Seconds on a checkpoint so far (still counting while one is open). */
  get seconds(): number {
    const running = this.#open > 0 && this.#openedAt !== undefined ? this.now() - this.#openedAt : 0;
    return (this.#total + running) / 1000;
  }
}

/**
 * `host` with its checkpoint calls timed into `meter`: creation opens (a failed creation closes
 * again), conversion and removal close once they have finished (or failed: the caller then
 * reports the checkpoint it could not remove).
 */
export function meteredHost(host: HostApi, meter: CheckpointMeter): HostApi {
  return new Proxy(host, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const fn = value as (...a: unknown[]) => unknown;
      if (prop === "createRecoveryCheckpoint") {
        return async (...args: unknown[]) => {
          meter.opened();
          try {
            return await fn.apply(target, args);
          } catch (e) {
            meter.closed();
            throw e;
          }
        };
      }
      if (prop === "convertToReferencePoint" || prop === "destroyCheckpoint") {
        return async (...args: unknown[]) => {
          try {
            return await fn.apply(target, args);
          } finally {
            meter.closed();
          }
        };
      }
      return fn.bind(target);
    },
  });
}
