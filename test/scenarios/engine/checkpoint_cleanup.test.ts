/**
 * Every path from a recovery checkpoint's creation to its removal is covered (issue 9,
 * "Checkpoints left behind"; issue 13 A7): failures inside CreateSnapshot, a job lost in a host
 * crash, a timeout, a full disk while the lock records the checkpoint, and a full volume shared
 * by the repository and the VM. Crash consistency is tried instead only when the CreateSnapshot
 * job itself failed for the guest and made no checkpoint.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CimSession } from "../../../src/cim/mod";
import { backupVm, type EngineEvents, type HostApi } from "../../../src/engine/mod";
import { HyperVClient, HyperVMethodError } from "../../../src/hyperv/mod";
import { crashHost, guestWriteInLab, mutateLab } from "../../../src/lab/mod";
import { type Lock, Repository, VmStore } from "../../../src/repository/mod";
import { addVm, MiB, newLab, type TestLab } from "../../support/lab";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface World {
  lab: TestLab;
  client: HyperVClient;
  root: string;
  infos: string[];
  warnings: string[];
  events: EngineEvents;
}

function world(session?: (inner: CimSession) => CimSession): World {
  const lab = newLab();
  dirs.push(lab.dir);
  addVm(lab, { name: "v", diskSizes: [4 * MiB] });
  guestWriteInLab(lab.dir, "v", 0, 0, 4096, "x");
  const root = mkdtempSync(path.join(tmpdir(), "hvb-cpclean-"));
  dirs.push(root);
  const infos: string[] = [];
  const warnings: string[] = [];
  const events: EngineEvents = { progress: () => {}, warning: (m, c) => warnings.push(`${c}: ${m}`), info: (m) => infos.push(m) };
  return { lab, client: new HyperVClient(session ? session(lab.session) : lab.session, { pollMs: 1 }), root, infos, warnings, events };
}

/** The client with some operations replaced. */
function hostWith(client: HyperVClient, overrides: Partial<Record<keyof HostApi, unknown>>): HostApi {
  return new Proxy(client, {
    get: (t, p) => {
      if (p in overrides) return overrides[p as keyof HostApi];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  }) as unknown as HostApi;
}

function recoveryCheckpoints(w: World): number {
  return w.lab.session.querySync("SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:Snapshot:Recovery'").length;
}

function enospc(): Error {
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
}

function partialFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (!statSync(p).isDirectory()) return [];
    return n.endsWith(".partial") ? [p] : partialFolders(p);
  });
}

describe("recovery checkpoints are never left behind", () => {
  it("a CreateSnapshot job that fails after making its checkpoint: the checkpoint is found and removed, and no crash-consistent retry", async () => {
    const w = world();
    let calls = 0;
    const host = hostWith(w.client, {
      createRecoveryCheckpoint: async (vm: Parameters<HostApi["createRecoveryCheckpoint"]>[0], c: "application" | "crash") => {
        calls++;
        await w.client.createRecoveryCheckpoint(vm, c);
        throw new HyperVMethodError({ method: "CreateSnapshot", subject: "VM 'v'", target: "v", returnValue: 4096, jobState: 10, jobErrorCode: 32768, jobErrorDescription: "failed after the checkpoint was taken" });
      },
    });
    await expect(backupVm(host, new Repository(w.root), "v", {}, w.events)).rejects.toThrow(/failed after the checkpoint was taken/);
    expect(calls).toBe(1);
    expect(recoveryCheckpoints(w)).toBe(0);
    expect(w.infos.some((m) => /Removed recovery checkpoint .* made by the CreateSnapshot that failed/.test(m))).toBe(true);
  });

  it("a host crash during CreateSnapshot (the job vanishes): the checkpoint it made is found and removed, and the backup fails", async () => {
    let dir = "";
    const w = world((inner) => ({
      query: (q) => inner.query(q),
      getInstance: (p) => inner.getInstance(p),
      associators: (p, o) => inner.associators(p, o),
      getClass: (c) => inner.getClass(c),
      invokeMethod: async (p, m, a) => {
        const r = await inner.invokeMethod(p, m, a);
        // The host crashes while the job runs: its jobs are gone, the VM is off.
        if (m === "CreateSnapshot") mutateLab(dir, (s) => crashHost(s, Date.now()));
        return r;
      },
    }));
    dir = w.lab.dir;
    await expect(backupVm(w.client, new Repository(w.root), "v", {}, w.events)).rejects.toMatchObject({ code: "HyperVJobLost" });
    expect(recoveryCheckpoints(w)).toBe(0);
    expect(w.warnings.filter((m) => m.startsWith("ConsistencyFallback"))).toEqual([]);
  });

  it("a CreateSnapshot that timed out does not fall back to crash consistency", async () => {
    const w = world();
    let calls = 0;
    const host = hostWith(w.client, {
      createRecoveryCheckpoint: async () => {
        calls++;
        throw new HyperVMethodError({ method: "CreateSnapshot", subject: "VM 'v'", target: "v", returnValue: 4096, jobState: 4, code: "HyperVJobTimeout", detail: "the job did not finish" });
      },
    });
    await expect(backupVm(host, new Repository(w.root), "v", {}, w.events)).rejects.toMatchObject({ code: "HyperVJobTimeout" });
    expect(calls).toBe(1);
  });

  it("the guest's VSS failing (the job failed, no checkpoint made) still falls back to crash consistency", async () => {
    const w = world();
    mutateLab(w.lab.dir, (s) => void (s.vms[0]!.integration = "failing"));
    const r = await backupVm(w.client, new Repository(w.root), "v", {}, w.events);
    expect(r.point.consistency).toBe("crash");
    expect(w.warnings.some((m) => m.startsWith("ConsistencyFallback"))).toBe(true);
    expect(recoveryCheckpoints(w)).toBe(0);
  });

  it("a full disk while the lock records the checkpoint: the checkpoint is removed", async () => {
    const w = world();
    class FullStore extends VmStore {
      override lock(operation: string, options: { clearStale?: boolean } = {}): Lock {
        const l = super.lock(operation, options);
        return { ...l, cleared: l.cleared, note: (p: Record<string, unknown>) => (p["checkpoint"] !== undefined ? (() => { throw enospc(); })() : l.note(p)), release: () => l.release() } as Lock;
      }
    }
    class FullRepository extends Repository {
      override vmStore(vmName: string, vmId: string): VmStore {
        return new FullStore(super.vmStore(vmName, vmId).dir);
      }
    }
    await expect(backupVm(w.client, new FullRepository(w.root), "v", {}, w.events)).rejects.toMatchObject({ code: "ENOSPC" });
    expect(recoveryCheckpoints(w)).toBe(0);
  });

  it("the repository and the VM on one full volume: the unfinished point is freed first, so the host can remove the checkpoint", async () => {
    const w = world();
    const repoRoot = w.root;
    const host = hostWith(w.client, {
      exportConfiguration: async () => {
        throw enospc();
      },
      // The host cannot write the merged state while the volume is full (the .partial holds it).
      destroyCheckpoint: async (cp: Parameters<HostApi["destroyCheckpoint"]>[0]) => {
        if (partialFolders(repoRoot).length > 0) {
          throw new HyperVMethodError({ method: "DestroySnapshot", subject: "checkpoint", target: "v", returnValue: 4096, jobState: 10, jobErrorCode: 32768, jobErrorDescription: "There is not enough space on the disk" });
        }
        return w.client.destroyCheckpoint(cp);
      },
    });
    await expect(backupVm(host, new Repository(repoRoot), "v", {}, w.events)).rejects.toMatchObject({ code: "ENOSPC" });
    expect(partialFolders(repoRoot)).toEqual([]);
    expect(recoveryCheckpoints(w)).toBe(0);
    expect(w.warnings.filter((m) => m.startsWith("CheckpointLeft"))).toEqual([]);
  });
});
