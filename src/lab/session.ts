/**
 * The lab host as a {@link CimSession}: queries and associations are answered from a snapshot
 * of the state file; every method call runs under the lab lock and commits atomically.
 */
import { CimError, type AssociatorsOptions, type CimClassSchema, type CimInstance, type CimMethodResult, type CimSession, toCimDtd20 } from "../cim/mod";
import { parseObjectPath } from "../cim/mod";
import { matchesWhere, parseWql, propertyOf } from "../cim/mod";
import { ASSOCIATIONS, associationInstances, pairsAbout } from "./associations";
import { LAB_NAMESPACES, classIsA, classesOf, findClass, InstanceIndex, pathKey } from "./catalog";
import { NAMESPACE } from "./host/paths";
import { nodeView } from "./host/node_view";
import { removeShadowCopy } from "./host/shadow_copies";
import * as fs from "node:fs";
import { takeFault } from "./host/faults";
import { deleteAfterCommit, migrateAfterCall } from "./host/host_ops";
import { jobPath, purgeJobs, startJob, vmsHeldByJobs } from "./host/jobs";
import { invalidStateCode, jobHoldsVms, vmsActedOn } from "./services/busy_vms";
import { armedFor, writeArmed } from "./host/armed_writes";
import { labSeed, mixSeed, shuffled, shufflesOrder } from "./host/order";
import { STALL_PERCENT, drawJobAnswer, stallsJobsOf } from "./host/job_answers";
import { Args, type MethodContext } from "./services/method_support";
import { METHODS } from "./services/methods";
import { checkArguments } from "./services/method_parameters";
import { asOnHost, classSchema } from "./classes/schemas";
import type { HostVersion } from "./host/host_versions";
import type { LabState } from "./host/model";
import { readLabState } from "./host/state_store";
import { mutateSettledLab, readSettledLab } from "./host/lab_access";
import { deferToJob, settleMerges } from "./host/pending_merges";

/** Classes whose methods the lab serves on the class itself (static methods). */
const STATIC_CLASSES = new Set(["win32_shadowcopy"]);

/** Which namespace, and on a cluster lab which node, a {@link LabCimSession} talks to. */
export interface LabSessionOptions {
  /** root\virtualization\v2 (default), root\cimv2 or root\MSCluster. */
  namespace?: string;
  /** On a cluster lab: the node (default its first); Hyper-V's namespace shows only that node's VMs. */
  node?: string;
}

/** A CimSession over the lab in `dir`. Each call reads the state afresh (other processes may change it). */
export class LabCimSession implements CimSession {
  readonly dir: string;
  readonly namespace: string;
  readonly node: string | undefined;
  /** Clock, replaceable in tests. */
  now: () => number = Date.now;
  /** Answers given so far: each one is shuffled differently (see host/order.ts). */
  #answers = 0;
  constructor(dir: string, options: LabSessionOptions = {}) {
    this.dir = dir;
    this.namespace = options.namespace ?? NAMESPACE;
    this.node = options.node;
    if (!LAB_NAMESPACES.some((n) => n.toLowerCase() === this.namespace.toLowerCase())) {
      throw new CimError("CimInvalidParameter", `Cannot connect to namespace '${this.namespace}': the lab serves ${LAB_NAMESPACES.join(", ")}`, this.namespace);
    }
  }

  /** The state as this session's node sees it (see nodeView). */
  #read(): LabState {
    return this.#view(readSettledLab(this.dir, this.now));
  }

  #view(state: LabState): LabState {
    return this.namespace.toLowerCase() === NAMESPACE.toLowerCase() ? nodeView(state, this.node) : state;
  }

  #isV2(): boolean {
    return this.namespace.toLowerCase() === NAMESPACE.toLowerCase();
  }

  async query(wql: string): Promise<CimInstance[]> {
    return this.querySync(wql);
  }
  async getInstance(path: string): Promise<CimInstance> {
    return this.getInstanceSync(path);
  }
  async associators(path: string, options: AssociatorsOptions = {}): Promise<CimInstance[]> {
    return this.associatorsSync(path, options);
  }
  async deleteInstance(path: string): Promise<void> {
    this.deleteInstanceSync(path);
  }

  /**
   * DeleteInstance: only Win32_ShadowCopy can be deleted in the lab (its folder goes after the
   * commit); anything else is refused as WMI refuses classes whose provider cannot delete.
   */
  deleteInstanceSync(path: string): void {
    const p = parseObjectPath(path);
    if (p.className.toLowerCase() !== "win32_shadowcopy") throw new CimError("CimInvalidMethod", `Cannot delete '${path}': the lab deletes only Win32_ShadowCopy instances`, path);
    const folder = mutateSettledLab(this.dir, (state) => {
      const f = removeShadowCopy(state, String(p.keys["ID"] ?? ""));
      if (f === undefined) throw new CimError("CimNotFound", `Cannot delete '${path}': no such shadow copy`, path);
      return f;
    }, this.now);
    fs.rmSync(folder, { recursive: true, force: true });
  }

  async invokeMethod(path: string, method: string, args: Record<string, unknown> = {}): Promise<CimMethodResult> {
    return this.invokeMethodSync(path, method, args);
  }

  async getClass(className: string): Promise<CimClassSchema> {
    return this.getClassSync(className);
  }

  /** The schema of `className` on this lab's host version (see classes/schemas.ts). */
  getClassSync(className: string): CimClassSchema {
    const schema = classSchema(className, readLabState(this.dir).config.hostVersion);
    if (!schema) throw new CimError("CimInvalidClass", `Invalid class: the lab declares no schema for '${className}'`, className);
    return schema;
  }

  querySync(wql: string): CimInstance[] {
    const q = parseWql(wql);
    const state = this.#read();
    const now = this.now();
    const index = new InstanceIndex(state, now, this.namespace);
    const assoc = this.#isV2() ? ASSOCIATIONS.filter((a) => classIsA(a.name, a.supers, q.className)) : [];
    const known = classesOf(this.namespace).some((c) => classIsA(c.name, c.supers, q.className)) || assoc.length > 0;
    if (!known) throw new CimError("CimInvalidClass", `Cannot query class '${q.className}': not served by the lab in ${this.namespace}`, q.className);
    const rows = [...index.ofClass(q.className), ...assoc.flatMap((a) => associationInstances(state, now, index, a))];
    return this.#inSomeOrder(state, rows.filter((r) => matchesWhere(r, q.where)).map((r) => project(r, q.properties)));
  }

  /** WMI documents no order for query and association answers: neither does the lab. */
  #inSomeOrder<T>(state: LabState, rows: T[]): T[] {
    this.#answers++;
    if (!shufflesOrder(state.config) || rows.length < 2) return rows;
    return shuffled(rows, mixSeed(labSeed(state.config), this.#answers));
  }

  getInstanceSync(path: string): CimInstance {
    const p = parseObjectPath(path);
    const state = this.#read();
    const index = new InstanceIndex(state, this.now(), this.namespace);
    const found = index.get(path) ?? findViaSuperclass(index, path, p.className);
    if (!found) throw new CimError("CimNotFound", `Cannot find instance '${path}'`, path);
    return found;
  }

  associatorsSync(path: string, options: AssociatorsOptions = {}): CimInstance[] {
    if (!this.#isV2()) return [];
    const state = this.#read();
    const now = this.now();
    const index = new InstanceIndex(state, now);
    const self = pathKey(path);
    const out = new Map<string, CimInstance>();
    for (const a of ASSOCIATIONS) {
      if (options.assocClass && !classIsA(a.name, a.supers, options.assocClass)) continue;
      for (const [x, y] of pairsAbout(a, state, now, index, path)) {
        let other: string | undefined;
        if (pathKey(x) === self) other = y;
        else if (pathKey(y) === self) other = x;
        if (other === undefined) continue;
        const inst = index.get(other);
        if (!inst) continue; // the other end is gone (e.g. a job's deleted object)
        if (options.resultClass) {
          const def = findClass(inst.__CLASS);
          if (!classIsA(inst.__CLASS, def?.supers ?? [], options.resultClass)) continue;
        }
        out.set(pathKey(inst.__PATH), inst);
      }
    }
    return this.#inSomeOrder(state, [...out.values()]);
  }

  invokeMethodSync(path: string, method: string, rawArgs: Record<string, unknown> = {}): CimMethodResult {
    const p = parseObjectPath(path);
    const handler = METHODS[p.className.toLowerCase()]?.[method.toLowerCase()];
    if (!handler) {
      if (!findClass(p.className)) throw new CimError("CimInvalidClass", `Cannot invoke ${method}: class '${p.className}' is not served by the lab`, p.className);
      throw new CimError("CimInvalidMethod", `Cannot invoke ${p.className}.${method}: the lab does not emulate this method`, method);
    }
    let toDelete: string[] = [];
    // Merges whose jobs completed are applied first (mutateSettledLab), before anything is checked.
    const result = mutateSettledLab(this.dir, (state: LabState) => {
      const now = this.now();
      // Checked as WMI checks a call before it reaches the provider (method_parameters.ts).
      const args = new Args(checkArguments(state.config.hostVersion, p.className, method, rawArgs));
      purgeJobs(state, now);
      // The target must be visible to this session (a VM on another node is not); the method
      // then works on the whole host's state.
      // A path without keys names the class: a static method (Win32_ShadowCopy.Create).
      const target = Object.keys(p.keys).length === 0 && STATIC_CLASSES.has(p.className.toLowerCase()) ? { __CLASS: p.className, __PATH: path } : new InstanceIndex(this.#view(state), now, this.namespace).get(path);
      if (!target) throw new CimError("CimNotFound", `Cannot invoke ${method}: no instance '${path}'`, path);
      const ctx: MethodContext = {
        state,
        dir: this.dir,
        now,
        target,
        resolve: (x) => {
          try {
            // References resolve as this node sees them: a checkpoint of a VM that moved away is not here.
            return new InstanceIndex(this.#view(state), now, this.namespace).get(x);
          } catch {
            return undefined;
          }
        },
        deleteAfterCommit: (files) => {
          toDelete = toDelete.concat(files);
        },
      };
      // A VM a merge or export job still works on: the host refuses before anything else
      // (busy_vms.ts); the job that starts here holds the VMs it acts on in its turn.
      const actedOn = vmsActedOn(ctx, p.className, method, args);
      const held = vmsHeldByJobs(state, now);
      if (actedOn.some((id) => held.has(id.toLowerCase()))) return { ReturnValue: invalidStateCode(p.className, method) } as CimMethodResult;
      const holds = jobHoldsVms(p.className, method) ? { holdsVms: actedOn } : {};
      const fault = takeFault(state, method, p.className);
      if (fault) {
        if (fault.atPercent === undefined) return { ReturnValue: fault.code } as CimMethodResult;
        const job = startJob(
          state,
          { method, description: `${method} (injected failure)`, failAtPercent: fault.atPercent, errorCode: fault.code, errorDescription: `Injected failure of ${method} at ${fault.atPercent}%`, ...holds },
          now,
        );
        return { ReturnValue: 4096, Job: jobPath(state.hostName, job.id) } as CimMethodResult;
      }
      const armed = armedFor(state, method, rawArgs);
      const outcome = handler(ctx, args);
      migrateAfterCall(state, method, JSON.stringify(rawArgs));
      writeArmed(state, armed, method);
      // A VM a method made on a cluster lab (RealizePlannedSystem) runs on the node that made it.
      if ((state.nodes?.length ?? 0) > 0) for (const v of state.vms) v.node ??= this.node ?? state.nodes![0]!;
      const stall = stallsJobsOf(state, method) ? { stallAtPercent: STALL_PERCENT } : {};
      if (outcome.kind === "sync") {
        const answer = outcome.returnValue === 0 ? drawJobAnswer(state, method, rawArgs, outcome.out ?? {}) : undefined;
        if (!answer) return { ReturnValue: outcome.returnValue, ...embeddedAsText(outcome.out, state.config.hostVersion) } as CimMethodResult;
        const job = startJob(state, { method, description: method, ...stall }, now);
        return { ReturnValue: 4096, ...embeddedAsText(answer.out, state.config.hostVersion), Job: jobPath(state.hostName, job.id) } as CimMethodResult;
      }
      const job = startJob(
        state,
        {
          method,
          description: outcome.description,
          affected: outcome.fail ? [] : outcome.affected,
          ...holds,
          ...(outcome.fail
            ? { failAtPercent: outcome.fail.atPercent, errorCode: outcome.fail.code, errorDescription: outcome.fail.description, ...(outcome.fail.details ? { errorDetails: outcome.fail.details } : {}) }
            : stall),
        },
        now,
      );
      // A merge happens while its job runs: applied when the job completes (at once for a job of 0 ms).
      if (outcome.completes && !outcome.fail) {
        deferToJob(state, job, outcome.completes);
        toDelete = toDelete.concat(settleMerges(state, now));
      }
      return { ReturnValue: 4096, ...embeddedAsText(outcome.out, state.config.hostVersion), Job: jobPath(state.hostName, job.id) } as CimMethodResult;
    }, this.now);
    deleteAfterCommit(toDelete);
    return result;
  }
}

/**
 * Out-parameters as WMI returns them: every embedded instance (an object with `__CLASS`) as
 * CIM-DTD 2.0 text of the class as this host version declares it.
 */
function embeddedAsText(out: Record<string, unknown> | undefined, version: HostVersion): Record<string, unknown> {
  const res: Record<string, unknown> = {};
  const one = (v: unknown): unknown => {
    if (!v || typeof v !== "object" || Array.isArray(v) || typeof (v as { __CLASS?: unknown }).__CLASS !== "string") return v;
    const cls = (v as { __CLASS: string }).__CLASS;
    const schema = classSchema(cls, version);
    if (!schema) throw new Error(`lab: no schema declared for embedded out-parameter class ${cls}`);
    return toCimDtd20(schema, asOnHost(v as Record<string, unknown>, cls, version));
  };
  for (const [k, v] of Object.entries(out ?? {})) res[k] = Array.isArray(v) ? v.map(one) : one(v);
  return res;
}

function findViaSuperclass(index: InstanceIndex, path: string, className: string): CimInstance | undefined {
  // `CIM_ComputerSystem.CreationClassName=...,Name=...` names the same instance as the Msvm_ path.
  const p = parseObjectPath(path);
  for (const inst of index.ofClass(className)) {
    const q = parseObjectPath(inst.__PATH);
    if (Object.keys(p.keys).length !== Object.keys(q.keys).length) continue;
    if (pathKey(inst.__PATH).slice(inst.__CLASS.length) === pathKey(path).slice(p.className.length)) return inst;
  }
  return undefined;
}

function project(r: CimInstance, properties: "*" | string[]): CimInstance {
  if (properties === "*") return r;
  const out: CimInstance = { __CLASS: r.__CLASS, __PATH: r.__PATH };
  for (const name of properties) {
    const v = propertyOf(r, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}
