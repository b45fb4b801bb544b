/**
 * One storage snapshot per backup set (`--storage-snapshot`): every VM of the set takes its
 * recovery checkpoint, volume after volume; once every VM with disks on a volume has (or failed
 * before), one volume shadow copy of that volume is taken, and those VMs' checkpoints are
 * exported and converted to their reference points right away, before any further checkpoint,
 * so each VM is back on its base disks within seconds; the copies (once every VM of the set is
 * converted) read the frozen files from the shadow copies, throttled by the set's limits; the
 * shadow copies are deleted at the end. One shadow copy per volume for the whole set, each
 * taken after the checkpoints of all the set's VMs on it. The checkpoint calls (take; export and
 * convert) of at most `parallel` VMs are in flight at a time, and none waits for a copy: a VM's
 * seconds on its checkpoint (checkpoint_meter.ts) run from its checkpoint call to its
 * conversion, never over a copy, nor over other volumes' checkpoints and conversions.
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

/** What the set knows of one volume: whose checkpoints it waits for, its shadow copy. */
interface VolumeState {
  /** Declared VMs with disks here that have neither taken their checkpoint nor ended. */
  readonly waiting: Set<string>;
  /** Checkpoints taken that froze files on this volume. */
  frozen: number;
  /** Settles once the shadow copy is taken (null: none, the VMs go on without it). */
  readonly shadow: Promise<ShadowCopy | null>;
  resolve: (s: ShadowCopy | null) => void;
  /** The shadow copy was asked for: a checkpoint arriving later is not in it. */
  started: boolean;
}

/**
 * The set-wide part: who has checkpointed on which volume, the shadow copies, their removal.
 *
 * Each volume's shadow copy is taken as soon as every VM with disks on it has its checkpoint
 * (or ended before), and those VMs are converted right away, while the VMs of other volumes
 * still take theirs: one shadow copy per volume for the whole set, as before, but a VM no longer
 * waits on its checkpoint for the checkpoints and conversions of VMs on other volumes. The
 * checkpoints are taken volume after volume (VMs ranked by the volumes they are on) and a
 * conversion goes before any further checkpoint, so a volume's VMs run on their checkpoints for
 * about that volume's share of the set-wide phase (bench/README.md, "Where a VM's seconds on a
 * checkpoint go").
 */
export class StorageSnapshotRun {
  readonly #declared = new Map<string, readonly string[]>();
  readonly #volumes = new Map<string, VolumeState>();
  #ranks: Map<string, number> | undefined;
  /** Shadow copies are asked for one at a time (VSS runs one creation at a time: Create returns 9 otherwise). */
  #shadowChain: Promise<unknown> = Promise.resolve();
  readonly #taken: ShadowCopy[] = [];
  readonly #steps: StepQueue;
  #ready = 0;
  #leftUnready = 0;
  #go!: () => void;
  readonly #allReady = new Promise<void>((r) => (this.#go = r));
  /** VMs done with the set-wide phase: converted (or gone on without the shadow copy), or ended before their checkpoint. */
  #through = 0;
  #copy!: () => void;
  readonly #allThrough = new Promise<void>((r) => (this.#copy = r));

  /** `parallel`: how many VMs at once are in a call that takes, exports or converts a checkpoint. */
  constructor(
    private readonly cimv2: CimSession,
    readonly volumes: readonly HostVolume[],
    private readonly expected: number,
    private readonly events: EngineEvents,
    parallel: number,
  ) {
    this.#steps = new StepQueue(Math.max(1, parallel));
    if (expected === 0) {
      this.#go();
      this.#copy();
    }
  }

  /**
   * Declares a VM of the set (`key`, unique in it) and the volume roots its disks are on, before
   * any VM runs: a volume's shadow copy waits for the checkpoints of the VMs declared on it.
   */
  declare(key: string, roots: readonly string[]): void {
    this.#declared.set(key, [...new Set(roots)]);
    for (const r of new Set(roots)) this.#volume(r).waiting.add(key);
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
   * Takes VM `key`'s checkpoint (`fn`) once a step is free (at most `parallel` VMs in a step at
   * once): the VMs of one volume before those of the next, and after any VM waiting to be
   * converted, so that a VM's time on its checkpoint holds no other volume's checkpoints.
   */
  checkpointStep<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#steps.run(this.#rankOf(key), fn, this.#groupOf(key));
  }

  /**
   * Exports and converts a VM's checkpoint (`fn`) once a step is free, before any VM still to
   * take its checkpoint, first come first served: every VM of a volume has its checkpoint by
   * then, and each is converted as soon as a step is free instead of every VM's call being in
   * flight together (each conversion queued behind every export).
   */
  conversionStep<T>(fn: () => Promise<T>): Promise<T> {
    return this.#steps.run(-1, fn);
  }

  /** VMs ranked by the volumes they are on (then as declared): the checkpoints go volume after volume. */
  #rankOf(key: string): number {
    if (!this.#ranks) {
      const order = [...this.#declared.keys()].map((k, i) => ({ k, i, by: this.#groupOf(k) }));
      order.sort((a, b) => (a.by < b.by ? -1 : a.by > b.by ? 1 : a.i - b.i));
      this.#ranks = new Map(order.map((o, rank) => [o.k, rank]));
    }
    return this.#ranks.get(key) ?? this.#ranks.size;
  }

  /** The volumes a VM is on, as one key: VMs of one key take their checkpoints together. */
  #groupOf(key: string): string {
    return [...(this.#declared.get(key) ?? [])].sort().join("\u0000");
  }

  /**
   * VM `key` has its checkpoint: waits for the shadow copy of every volume its frozen files are
   * on, each taken once every VM declared on that volume has its checkpoint (or ended before).
   * A volume whose shadow copy was asked for before this checkpoint existed (the VM's disks are
   * on a volume it did not declare) maps to null: its files there are not frozen in it.
   */
  async arrive(key: string, checkpoint: HostCheckpoint): Promise<Map<string, ShadowCopy | null>> {
    const roots = [...new Set(checkpoint.disks.map((d) => volumeRootOf(d.path, this.volumes)))];
    const late = new Set<string>();
    for (const r of roots) {
      const v = this.#volume(r);
      if (v.started) late.add(r);
      else v.frozen++;
    }
    this.#done(key);
    const out = new Map<string, ShadowCopy | null>();
    for (const r of roots) out.set(r, late.has(r) ? null : await this.#volume(r).shadow);
    return out;
  }

  /**
   * A VM that arrived is done with its checkpoint's set-wide part (converted, or removed to go
   * on without the shadow copy): waits until every VM of the set is, so the conversions run one
   * after another with no copy between them, then the copies start.
   */
  settle(): Promise<void> {
    this.#passed();
    return this.#allThrough;
  }

  /** A VM ended without reaching its checkpoint (`wasReady`: after {@link ready}): no one waits for it. */
  depart(key: string, wasReady: boolean): void {
    this.#done(key);
    this.#passed();
    if (!wasReady) {
      this.#leftUnready++;
      this.#checkReady();
    }
  }

  #passed(): void {
    if (++this.#through >= this.expected) this.#copy();
  }

  /** VM `key` has its checkpoint or has ended: the volumes it was declared on wait no more for it. */
  #done(key: string): void {
    for (const r of this.#declared.get(key) ?? []) this.#volume(r).waiting.delete(key);
    for (const [r, v] of this.#volumes) {
      if (v.started || v.waiting.size > 0 || v.frozen === 0) continue;
      v.started = true;
      // No VM starts its checkpoint while a shadow copy is taken: the VMs it freezes are
      // converted first, and a checkpoint started meanwhile would run through all of that.
      this.#steps.hold();
      const taking = this.#shadowChain.then(() => this.#takeShadow(r));
      this.#shadowChain = taking;
      void taking.then((shadow) => {
        v.resolve(shadow);
        this.#steps.unhold();
      });
    }
  }

  #volume(root: string): VolumeState {
    let v = this.#volumes.get(root);
    if (!v) {
      let resolve!: (s: ShadowCopy | null) => void;
      const shadow = new Promise<ShadowCopy | null>((r) => (resolve = r));
      v = { waiting: new Set(), frozen: 0, shadow, resolve, started: false };
      this.#volumes.set(root, v);
    }
    return v;
  }

  async #takeShadow(root: string): Promise<ShadowCopy | null> {
    try {
      const s = await createShadowCopy(this.cimv2, root);
      this.#taken.push(s);
      this.events.info(`Shadow copy ${s.id} of volume '${root}' freezes the checkpoints of the set on it`);
      return s;
    } catch (e) {
      this.events.warning(`No storage snapshot of volume '${root}' (${toHvbError(e).message}); its VMs are backed up without one, each from its own checkpoint`, "StorageSnapshotUnavailable");
      return null;
    }
  }

  /** Deletes every shadow copy taken (a failure is a warning naming the copy to remove by hand). */
  async finish(): Promise<void> {
    await this.#shadowChain.catch(() => undefined);
    for (const s of this.#taken.splice(0)) {
      try {
        await deleteShadowCopy(this.cimv2, s);
      } catch (e) {
        this.events.warning(`Could not remove shadow copy ${s.id} of '${s.volume}': ${toHvbError(e).message}`, "ShadowCopyLeft");
      }
    }
  }
}

/**
 * At most `limit` steps at once; a free step goes to the waiting step of lowest rank, and among
 * equal ranks to the earliest. Steps asked for in one turn of the event loop (every VM released
 * by {@link StorageSnapshotRun.ready} at once) are ranked together before any starts.
 */
class StepQueue {
  #busy = 0;
  #seq = 0;
  #pumpSoon = false;
  #held = 0;
  /** Steps running per group (checkpoints of VMs on the same volumes). */
  readonly #groups = new Map<string, number>();
  readonly #waiting: Array<{ rank: number; seq: number; group: string | undefined; start: () => void }> = [];
  constructor(private readonly limit: number) {}

  /** Until as many {@link unhold} calls: only steps of negative rank (conversions) start. */
  hold(): void {
    this.#held++;
  }

  /** Ends one {@link hold}; the steps asked for in this turn of the event loop are ranked first. */
  unhold(): void {
    this.#held--;
    this.#pumpLater();
  }

  /**
   * Runs `fn` as a step of `rank`. A step of a `group` starts only while no step of another
   * group runs: the checkpoints of one volume's VMs end before those of the next volume's start,
   * so the first volume's shadow copy and conversions come before them.
   */
  async run<T>(rank: number, fn: () => Promise<T>, group?: string): Promise<T> {
    await new Promise<void>((start) => {
      this.#waiting.push({ rank, seq: this.#seq++, group, start });
      this.#pumpLater();
    });
    try {
      return await fn();
    } finally {
      this.#busy--;
      if (group !== undefined) {
        const n = this.#groups.get(group)! - 1;
        if (n === 0) this.#groups.delete(group);
        else this.#groups.set(group, n);
      }
      // In a later turn: what the step's end sets off (a shadow copy, which holds the
      // checkpoints; conversions) is asked for first.
      this.#pumpLater();
    }
  }

  #pumpLater(): void {
    if (this.#pumpSoon) return;
    this.#pumpSoon = true;
    setImmediate(() => {
      this.#pumpSoon = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#busy < this.limit && this.#waiting.length > 0) {
      let best = 0;
      for (let i = 1; i < this.#waiting.length; i++) {
        const w = this.#waiting[i]!;
        const b = this.#waiting[best]!;
        if (w.rank < b.rank || (w.rank === b.rank && w.seq < b.seq)) best = i;
      }
      const next = this.#waiting[best]!;
      if (this.#held > 0 && next.rank >= 0) return;
      if (next.group !== undefined && [...this.#groups.keys()].some((g) => g !== next.group)) return;
      this.#waiting.splice(best, 1);
      this.#busy++;
      if (next.group !== undefined) this.#groups.set(next.group, (this.#groups.get(next.group) ?? 0) + 1);
      next.start();
    }
  }
}

/** One VM's part, read by the backup set. */
export interface SnapshotVmState {
  /** The VM's key in the set (its id), as declared to StorageSnapshotRun. */
  key: string;
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
        vm.early = await run.conversionStep(async () => {
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
      const cp = await run.checkpointStep(vm.key, () => host.createRecoveryCheckpoint(...args));
      vm.arrived = true;
      const shadows = await run.arrive(vm.key, cp);
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
