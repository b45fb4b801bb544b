/**
 * One storage snapshot per backup set (`--storage-snapshot`): every VM of the set takes its
 * recovery checkpoint; once all have (or failed before), one volume shadow copy is taken per
 * volume their frozen files are on; every checkpoint is then exported and converted to its
 * reference point at once, so each VM is back on its base disks within seconds; the copies read
 * the frozen files from the shadow copies, throttled by the set's limits; the shadow copies are
 * deleted at the end. The checkpoint calls (take; export and convert) of at most `parallel`
 * VMs are in flight at a time, and none waits for a copy: a VM's seconds on its checkpoint
 * (checkpoint_meter.ts) run from its checkpoint call to its conversion, never over a copy.
 *
 * The backup of one VM (backup.ts) is unchanged: it talks to a host that does the above behind
 * the calls it already makes. Its checkpoint comes back with disk paths inside the shadow copy,
 * its later export copies the early export, its conversion returns the reference point made
 * early, and removing the checkpoint after a failure removes that reference point. A VM whose
 * volume got no shadow copy (no VSS, provider refused) removes its checkpoint, waits for its
 * turn and takes a new one: the flow without the option, said in a warning.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toHvbError } from "../../base/mod";
import type { CimSession } from "../../cim/mod";
import { type HostVolume, type ShadowCopy, createShadowCopy, deleteShadowCopy, shadowPathOf, volumeRootOf } from "../../hyperv/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostCheckpoint, HostReferencePoint } from "../host_api";
import { SlotLimiter } from "../slot_limiter";

/** The set-wide part: who has checkpointed, the shadow copies, their removal. */
export class StorageSnapshotRun {
  #arrived = 0;
  #departed = 0;
  readonly #frozenFiles: string[] = [];
  #shadows: Promise<Map<string, ShadowCopy | null>> | undefined;
  #release!: () => void;
  readonly #barrier = new Promise<void>((r) => (this.#release = r));
  readonly #taken: ShadowCopy[] = [];
  readonly #calls: SlotLimiter;
  #ready = 0;
  #settled = 0;
  #copy!: () => void;
  readonly #allSettled = new Promise<void>((r) => (this.#copy = r));
  #leftUnready = 0;
  #go!: () => void;
  readonly #allReady = new Promise<void>((r) => (this.#go = r));

  /** `parallel`: how many VMs at once are in a call that takes, exports or converts a checkpoint. */
  constructor(
    private readonly cimv2: CimSession,
    readonly volumes: readonly HostVolume[],
    private readonly expected: number,
    private readonly events: EngineEvents,
    parallel: number,
  ) {
    this.#calls = new SlotLimiter({ total: Math.max(1, parallel) });
    if (expected === 0) {
      this.#release();
      this.#go();
    }
  }

  /**
   * A VM is about to take its checkpoint: waits until every VM of the set is (or ended before),
   * so the checkpoints are taken one right after another and none runs on its differencing
   * disks while other VMs still prepare (find their disks, read their last point).
   */
  async ready(): Promise<void> {
    this.#ready++;
    this.#checkReady();
    await this.#allReady;
  }

  #checkReady(): void {
    if (this.#ready + this.#leftUnready >= this.expected) this.#go();
  }

  /**
   * Runs one VM's step of the set-wide phase (taking its checkpoint; exporting and converting
   * it) with at most `parallel` VMs in such a step at once: every VM still reaches the shadow
   * copy's instant with its checkpoint, and each is converted as soon as a step is free, instead
   * of every VM's call being in flight together (and each conversion queued behind every export).
   */
  async step<T>(fn: () => Promise<T>): Promise<T> {
    const done = await this.#calls.acquire([]);
    try {
      return await fn();
    } finally {
      done();
    }
  }

  /** A VM has its checkpoint: waits for every other VM, then for the shadow copies. */
  async arrive(checkpoint: HostCheckpoint): Promise<Map<string, ShadowCopy | null>> {
    this.#arrived++;
    this.#frozenFiles.push(...checkpoint.disks.map((d) => d.path));
    this.#check();
    await this.#barrier;
    this.#shadows ??= this.#takeShadows();
    return this.#shadows;
  }

  /**
   * A VM that arrived is done with its checkpoint's set-wide part (converted, or removed to go
   * on without the shadow copy): waits until every VM that arrived is, so the conversions run one
   * after another with no copy between them, then the copies start.
   */
  settle(): Promise<void> {
    this.#settled++;
    if (this.#settled >= this.#arrived) this.#copy();
    return this.#allSettled;
  }

  /** A VM ended without reaching its checkpoint (`wasReady`: after {@link ready}): no one waits for it. */
  depart(wasReady: boolean): void {
    this.#departed++;
    this.#check();
    if (!wasReady) {
      this.#leftUnready++;
      this.#checkReady();
    }
  }

  #check(): void {
    if (this.#arrived + this.#departed >= this.expected) this.#release();
  }

  async #takeShadows(): Promise<Map<string, ShadowCopy | null>> {
    const roots = [...new Set(this.#frozenFiles.map((f) => volumeRootOf(f, this.volumes)))];
    const out = new Map<string, ShadowCopy | null>();
    for (const root of roots) {
      try {
        const s = await createShadowCopy(this.cimv2, root);
        this.#taken.push(s);
        out.set(root, s);
        this.events.info(`Shadow copy ${s.id} of volume '${root}' freezes the checkpoints of the set on it`);
      } catch (e) {
        out.set(root, null);
        this.events.warning(`No storage snapshot of volume '${root}' (${toHvbError(e).message}); its VMs are backed up without one, each from its own checkpoint`, "StorageSnapshotUnavailable");
      }
    }
    return out;
  }

  /** Deletes every shadow copy taken (a failure is a warning naming the copy to remove by hand). */
  async finish(): Promise<void> {
    for (const s of this.#taken.splice(0)) {
      try {
        await deleteShadowCopy(this.cimv2, s);
      } catch (e) {
        this.events.warning(`Could not remove shadow copy ${s.id} of '${s.volume}': ${toHvbError(e).message}`, "ShadowCopyLeft");
      }
    }
  }
}

/** One VM's part, read by the backup set. */
export interface SnapshotVmState {
  /** The VM reached its checkpoint call (StorageSnapshotRun.ready). */
  ready: boolean;
  /** The VM took its checkpoint and reached the barrier (else the set must not wait for it). */
  arrived: boolean;
  /** Gives back the VM's copy slot (set once it has one). */
  release: (() => void) | undefined;
  early: { checkpointId: string; referencePoint: HostReferencePoint; exportDir: string; exported: string } | undefined;
}

/** `host` for one VM of a storage-snapshot set (see the file comment). */
export function storageSnapshotHost(host: HostApi, run: StorageSnapshotRun, vm: SnapshotVmState, acquireSlot: () => Promise<() => void>, vmName: string, events: EngineEvents): HostApi {
  // A second checkpoint of the same backup (its crash-consistent retry) comes after the set's
  // moment: it is backed up from its own files, in its turn.
  const afterTheInstant = async (cp: HostCheckpoint): Promise<HostCheckpoint> => {
    vm.release ??= await acquireSlot();
    return cp;
  };
  /** After the shadow copies: convert early and copy from them, or go on without them. */
  const afterTheShadowCopy = async (cp: HostCheckpoint, shadows: Map<string, ShadowCopy | null>, args: Parameters<HostApi["createRecoveryCheckpoint"]>, settle: () => Promise<void>): Promise<HostCheckpoint> => {
    const frozen = cp.disks.map((d) => {
      const s = shadows.get(volumeRootOf(d.path, run.volumes));
      return s ? { ...d, path: shadowPathOf(d.path, s), hostPath: d.path } : undefined;
    });
    if (frozen.every((d) => d !== undefined)) {
      // Past this point the checkpoint exists: a failure here is not the checkpoint's (the
      // backup must not retry it as one), so the VM goes on from its own checkpoint.
      const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), "hvb-config-"));
      try {
        vm.early = await run.step(async () => {
          const exported = await host.exportConfiguration(cp, exportDir);
          return { checkpointId: cp.instanceId, referencePoint: await host.convertToReferencePoint(cp), exportDir, exported };
        });
      } catch (e) {
        fs.rmSync(exportDir, { recursive: true, force: true });
        events.warning(`VM '${vmName}' is backed up from its own checkpoint: exporting or converting it with the storage snapshot failed (${toHvbError(e).message})`, "StorageSnapshotFallback");
        await settle();
        vm.release = await acquireSlot();
        return cp;
      }
      await settle();
      vm.release = await acquireSlot();
      return { ...cp, disks: frozen as HostCheckpoint["disks"] };
    }
    events.warning(`VM '${vmName}' is backed up without a storage snapshot: its checkpoint is removed now and taken again when its turn to copy comes`, "StorageSnapshotFallback");
    await host.destroyCheckpoint(cp);
    await settle();
    vm.release = await acquireSlot();
    return host.createRecoveryCheckpoint(...args);
  };
  const overrides: Partial<HostApi> = {
    createRecoveryCheckpoint: async (...args) => {
      if (vm.arrived) return afterTheInstant(await host.createRecoveryCheckpoint(...args));
      if (!vm.ready) {
        vm.ready = true;
        await run.ready();
      }
      const cp = await run.step(() => host.createRecoveryCheckpoint(...args));
      vm.arrived = true;
      const shadows = await run.arrive(cp);
      let settled = false;
      const settle = (): Promise<void> => {
        settled = true;
        return run.settle();
      };
      try {
        return await afterTheShadowCopy(cp, shadows, args, settle);
      } finally {
        if (!settled) void settle();
      }
    },
    exportConfiguration: async (target, destinationDir, options) => {
      const early = vm.early;
      if (!early || (target as HostCheckpoint).instanceId !== early.checkpointId) return host.exportConfiguration(target, destinationDir, options);
      fs.cpSync(early.exportDir, destinationDir, { recursive: true });
      return destinationDir + early.exported.slice(early.exportDir.length);
    },
    convertToReferencePoint: async (cp) => {
      const early = vm.early;
      if (early && (cp as HostCheckpoint).instanceId === early.checkpointId) return early.referencePoint;
      return host.convertToReferencePoint(cp);
    },
    destroyCheckpoint: async (cp) => {
      const early = vm.early;
      // The checkpoint became a reference point early; a failed backup must not leave that behind.
      if (early && (cp as HostCheckpoint).instanceId === early.checkpointId) return host.destroyReferencePoint(early.referencePoint);
      return host.destroyCheckpoint(cp);
    },
  };
  return new Proxy(host, {
    get(target, prop) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof HostApi];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Removes what a VM's early export left in the temporary folder. */
export function cleanupSnapshotVm(vm: SnapshotVmState): void {
  if (vm.early) fs.rmSync(vm.early.exportDir, { recursive: true, force: true });
  vm.release?.();
}
