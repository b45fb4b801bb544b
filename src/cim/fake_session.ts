/**
 * A small in-memory CimSession for unit tests of the Hyper-V client: instances by path,
 * associations, method handlers, jobs that run for a few polls, and every call recorded.
 * It knows nothing of Hyper-V; tests build the host they need on top of it. Folder-private.
 */
import type { CimClassSchema } from "./class_schema";
import type { AssociatorsOptions, CimInstance, CimMethodResult, CimSession } from "./session";
import { CimError } from "./session";
import { parseObjectPath, sameObjectPath } from "./object_path";
import { matchesWhere, parseWql } from "./wql";

export type MethodHandler = (path: string, args: Record<string, unknown>) => CimMethodResult | Promise<CimMethodResult>;

export interface FakeJobOptions {
  /** Polls that see the job Running before it ends (default 2). */
  runningPolls?: number;
  /** Final state (default 7 Completed). */
  finalState?: number;
  errorCode?: number;
  errorDescription?: string;
  /** Paths the job created or changed (CIM_AffectedJobElement), read when the job ends. */
  affected?: string[] | (() => string[]);
  /** Runs when the job reaches its final state (e.g. to create the result). */
  onFinish?: () => void;
}

interface FakeJob {
  path: string;
  polls: number;
  options: FakeJobOptions;
  finished: boolean;
}

export class FakeCimSession implements CimSession {
  readonly instances = new Map<string, CimInstance>();
  readonly associations: { a: string; b: string; assocClass: string }[] = [];
  readonly handlers = new Map<string, MethodHandler>();
  readonly calls: { path: string; method: string; args: Record<string, unknown> }[] = [];
  readonly queries: string[] = [];
  readonly #jobs = new Map<string, FakeJob>();
  // Classes this host serves (lowercase): every class ever put, handled or declared. A real
  // host rejects a query or call on any other class (WBEM_E_INVALID_CLASS), and so does the fake.
  readonly #classes = new Set<string>(["msvm_concretejob"]);
  readonly #schemas = new Map<string, CimClassSchema>();
  #nextJob = 1;

  /** Declares a class's schema (what {@link getClass} answers); the class is served from then on. */
  defineClass(schema: CimClassSchema): void {
    this.#classes.add(schema.className.toLowerCase());
    this.#schemas.set(schema.className.toLowerCase(), schema);
  }

  async getClass(className: string): Promise<CimClassSchema> {
    const s = this.#schemas.get(className.toLowerCase());
    if (!s) throw new CimError("CimInvalidClass", `Invalid class: this host has no schema for '${className}'`, className);
    return { className: s.className, properties: s.properties.map((p) => ({ ...p })) };
  }

  /** Adds or replaces an instance. */
  put(instance: CimInstance): CimInstance {
    this.#classes.add(instance.__CLASS.toLowerCase());
    for (const k of [...this.instances.keys()]) if (sameObjectPath(k, instance.__PATH)) this.instances.delete(k);
    this.instances.set(instance.__PATH, instance);
    return instance;
  }

  remove(path: string): void {
    for (const k of [...this.instances.keys()]) if (sameObjectPath(k, path)) this.instances.delete(k);
    for (let i = this.associations.length - 1; i >= 0; i--) {
      const a = this.associations[i]!;
      if (sameObjectPath(a.a, path) || sameObjectPath(a.b, path)) this.associations.splice(i, 1);
    }
  }

  find(path: string): CimInstance | undefined {
    for (const [k, v] of this.instances) if (sameObjectPath(k, path)) return v;
    return undefined;
  }

  /** Associates two instances (both directions) through `assocClass`. */
  associate(a: string, b: string, assocClass: string): void {
    this.associations.push({ a, b, assocClass });
  }

  /** Handles `method` on instances of `className`. */
  on(className: string, method: string, handler: MethodHandler): void {
    this.#classes.add(className.toLowerCase());
    this.handlers.set(`${className}.${method}`.toLowerCase(), handler);
  }

  /** Declares classes the host serves though it holds no instance of them yet (queries answer []). */
  declareClass(...classNames: string[]): void {
    for (const c of classNames) this.#classes.add(c.toLowerCase());
  }

  /** Creates a job instance that runs for some polls and returns its path. */
  startJob(options: FakeJobOptions = {}): string {
    const id = `JOB-${this.#nextJob++}`;
    const path = `\\\\FAKE\\root\\virtualization\\v2:Msvm_ConcreteJob.InstanceID="${id}"`;
    this.put({ __CLASS: "Msvm_ConcreteJob", __PATH: path, InstanceID: id, JobState: 4, PercentComplete: 0, ErrorCode: 0, Description: "fake job" });
    this.#jobs.set(path, { path, polls: 0, options, finished: false });
    return path;
  }

  async query(wql: string): Promise<CimInstance[]> {
    this.queries.push(wql);
    const q = parseWql(wql);
    if (!this.#classes.has(q.className.toLowerCase())) throw new CimError("CimInvalidClass", `Cannot query class '${q.className}': not served by this host`, q.className);
    return [...this.instances.values()].filter((i) => i.__CLASS.toLowerCase() === q.className.toLowerCase() && matchesWhere(i, q.where)).map((i) => ({ ...i }));
  }

  async getInstance(path: string): Promise<CimInstance> {
    const job = [...this.#jobs.values()].find((j) => sameObjectPath(j.path, path));
    if (job && this.find(path)) this.#advance(job);
    const found = this.find(path);
    if (!found) throw new CimError("CimNotFound", `Not found: ${path}`, path);
    return { ...found };
  }

  async associators(path: string, options: AssociatorsOptions = {}): Promise<CimInstance[]> {
    const out: CimInstance[] = [];
    for (const a of this.associations) {
      if (options.assocClass && a.assocClass.toLowerCase() !== options.assocClass.toLowerCase()) continue;
      const other = sameObjectPath(a.a, path) ? a.b : sameObjectPath(a.b, path) ? a.a : undefined;
      if (!other) continue;
      const inst = this.find(other);
      if (!inst) continue;
      if (options.resultClass && inst.__CLASS.toLowerCase() !== options.resultClass.toLowerCase()) continue;
      out.push({ ...inst });
    }
    return out;
  }

  async invokeMethod(path: string, method: string, args: Record<string, unknown> = {}): Promise<CimMethodResult> {
    this.calls.push({ path, method, args });
    // As on a real host: the class and method are checked before the instance is looked up.
    const className = parseObjectPath(path).className;
    const handler = this.handlers.get(`${className}.${method}`.toLowerCase());
    if (!handler) {
      if (!this.#classes.has(className.toLowerCase())) throw new CimError("CimInvalidClass", `Cannot invoke ${method}: class '${className}' is not served by this host`, className);
      throw new CimError("CimInvalidMethod", `No method ${method} on ${className}`, method);
    }
    if (!this.find(path)) throw new CimError("CimNotFound", `Not found: ${path}`, path);
    return handler(path, args);
  }

  #advance(job: FakeJob): void {
    if (job.finished) return;
    job.polls++;
    const inst = this.find(job.path)!;
    const running = job.options.runningPolls ?? 2;
    if (job.polls <= running) {
      inst["PercentComplete"] = Math.floor((job.polls / (running + 1)) * 100);
      return;
    }
    job.finished = true;
    const finalState = job.options.finalState ?? 7;
    inst["JobState"] = finalState;
    inst["PercentComplete"] = finalState === 7 ? 100 : inst["PercentComplete"];
    inst["ErrorCode"] = job.options.errorCode ?? 0;
    if (job.options.errorDescription !== undefined) inst["ErrorDescription"] = job.options.errorDescription;
    if (finalState === 7) job.options.onFinish?.();
    const affected = typeof job.options.affected === "function" ? job.options.affected() : (job.options.affected ?? []);
    for (const p of affected) this.associate(job.path, p, "Msvm_AffectedJobElement");
  }
}
