/**
 * The CimSession over the module↔core channel: the core does not reach WMI itself; it writes a
 * host request as one event line and whoever started it (the PowerShell module, with the CIM
 * cmdlets Get-CimInstance, Get-CimAssociatedInstance and Invoke-CimMethod) writes the answer as
 * one line back. Why this way and not edge-js inside the module: docs/windows.md.
 *
 * Request (core → module), one JSON line on stdout beside the other `--events` lines:
 * ```
 * {"type":"host-request","id":7,"op":"query","namespace":"root\\virtualization\\v2","node":null,"wql":"SELECT ..."}
 * {"type":"host-request","id":8,"op":"get","target":REF,"node":null}
 * {"type":"host-request","id":9,"op":"associators","target":REF,"node":null,"resultClass":"C"|null,"assocClass":"A"|null}
 * {"type":"host-request","id":10,"op":"invoke","target":REF,"node":null,"method":"CreateSnapshot","args":{"Name":VALUE}}
 * {"type":"host-request","id":11,"op":"class","namespace":"root\\virtualization\\v2","node":null,"className":"C"}
 * ```
 * `node` names another computer (a cluster node) the request is for; null is the host itself.
 * REF is `{"className","namespace","host","keys":{name: value}}`: the object path, parsed here so
 * the module builds a key-only CIM instance from it without parsing path text. VALUE is a JSON
 * scalar or array, `{"$ref": REF}` for a string that is an object path (a REF parameter), or
 * `{"$instance": {"className", "properties"}}` for an embedded instance (the module writes it as
 * DTD 2.0 text with the class's property types, as Hyper-V's string-embedded parameters want).
 *
 * Answer (module → core), one JSON line on stdin:
 * ```
 * {"id":7,"ok":true,"result":[INSTANCE, ...]}            query, associators
 * {"id":8,"ok":true,"result":INSTANCE}                   get
 * {"id":10,"ok":true,"result":{"ReturnValue":4096,"Job":{"$ref":INSTANCE}}}
 * {"id":11,"ok":true,"result":{"className":"C","properties":[{"name":"P","type":"uint8","isArray":false}, ...]}}
 * {"id":8,"ok":false,"error":{"code":"CimNotFound","message":"..."}}
 * ```
 * INSTANCE is `{"__CLASS","__NAMESPACE","__SERVER","__KEYS":[key names], property: value...}`;
 * the core turns it into the seam's shape (`__PATH` built from the key properties). A property
 * value that is an instance without `__KEYS` is an embedded instance; `{"$ref": INSTANCE}` is a
 * reference and becomes its path.
 */
import { HvbError } from "../../base/mod";
import {
  buildObjectPath,
  CimError,
  parseObjectPath,
  type AssociatorsOptions,
  type CimClassSchema,
  type CimErrorCode,
  type CimTypeName,
  type CimInstance,
  type CimMethodResult,
  type CimSession,
  type KeyValue,
} from "../../cim/mod";

/** The namespace a request names when the path has none. */
export const HYPERV_NAMESPACE = "root\\virtualization\\v2";

/** An object path as the request carries it. */
export interface ChannelRef {
  className: string;
  namespace: string;
  host: string | null;
  keys: Record<string, KeyValue>;
}

/** One host request, as written on the channel (without `type` and `id`). */
export type ChannelRequest =
  | { op: "query"; namespace: string; node: string | null; wql: string }
  | { op: "get"; target: ChannelRef; node: string | null }
  | { op: "associators"; target: ChannelRef; node: string | null; resultClass: string | null; assocClass: string | null }
  | { op: "invoke"; target: ChannelRef; node: string | null; method: string; args: Record<string, unknown> }
  | { op: "class"; namespace: string; node: string | null; className: string };

/** One answer line, parsed. */
export interface ChannelAnswer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code?: string; message?: string };
}

const CIM_CODES: ReadonlySet<string> = new Set<CimErrorCode>(["CimNotFound", "CimInvalidClass", "CimInvalidMethod", "CimInvalidParameter", "CimInvalidQuery", "CimTypeMismatch"]);

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The link the sessions share: one id counter and one table of awaited answers per process.
 * `send` writes one line (no newline) towards the answering side; whoever reads that side's
 * answers hands each parsed line to {@link HostChannel.answer}, and calls
 * {@link HostChannel.close} when the channel ends. `onIdle`/`onBusy` say when no answer is
 * awaited any more and when one is again (the CLI keeps stdin referenced only while busy, so a
 * finished command is not held open by it).
 */
export class HostChannel {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed: HvbError | undefined;

  constructor(
    private readonly send: (line: string) => void,
    private readonly hooks: { onBusy?: () => void; onIdle?: () => void } = {},
  ) {}

  /** A session on one namespace of the host, or of another node (a cluster node's name). */
  session(options: { namespace?: string; node?: string } = {}): ChannelCimSession {
    return new ChannelCimSession(this, options.namespace ?? HYPERV_NAMESPACE, options.node ?? null);
  }

  /** Hands the channel one answer line (already parsed). Unknown ids are a protocol error. */
  answer(message: ChannelAnswer): void {
    const pending = this.#pending.get(message.id);
    if (!pending) throw protocolError(`an answer for request ${message.id}, which is not pending`);
    this.#pending.delete(message.id);
    if (this.#pending.size === 0) this.hooks.onIdle?.();
    if (message.ok) pending.resolve(message.result);
    else pending.reject(answerError(message.error));
  }

  /** The channel ended: every pending and later request fails with HostChannelClosed. */
  close(why = "the module closed the channel"): void {
    this.#closed = new HvbError("HostChannelClosed", `The host channel closed: ${why}`, { category: "ResourceUnavailable" });
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    if (pending.length > 0) this.hooks.onIdle?.();
    for (const p of pending) p.reject(this.#closed);
  }

  /** Sends one request and resolves with the answer's result. */
  request(request: ChannelRequest): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.hooks.onBusy?.();
      this.#pending.set(id, { resolve, reject });
      this.send(JSON.stringify({ type: "host-request", id, ...request }));
    });
  }
}

/** The CimSession of one namespace (and node) over a {@link HostChannel}. */
export class ChannelCimSession implements CimSession {
  constructor(
    private readonly channel: HostChannel,
    private readonly namespace: string,
    private readonly node: string | null,
  ) {}

  async query(wql: string): Promise<CimInstance[]> {
    return instances(await this.channel.request({ op: "query", namespace: this.namespace, node: this.node, wql }), "query", this.namespace);
  }

  async getInstance(path: string): Promise<CimInstance> {
    const result = await this.channel.request({ op: "get", target: this.#ref(path), node: this.node });
    if (result === null || result === undefined) throw new CimError("CimNotFound", `No instance at '${path}'`, path);
    return instanceOf(result, "get", this.namespace);
  }

  async associators(path: string, options: AssociatorsOptions = {}): Promise<CimInstance[]> {
    const result = await this.channel.request({ op: "associators", target: this.#ref(path), node: this.node, resultClass: options.resultClass ?? null, assocClass: options.assocClass ?? null });
    return instances(result, "associators", this.namespace);
  }

  async getClass(className: string): Promise<CimClassSchema> {
    const result = (await this.channel.request({ op: "class", namespace: this.namespace, node: this.node, className })) as Partial<CimClassSchema> | null;
    if (!result || typeof result.className !== "string" || !Array.isArray(result.properties)) throw protocolError(`class ${className} answered ${JSON.stringify(result)?.slice(0, 120)}`);
    return {
      className: result.className,
      properties: result.properties.map((p) => ({ name: String(p.name), type: String(p.type).toLowerCase() as CimTypeName, isArray: p.isArray === true })),
    };
  }

  async invokeMethod(path: string, method: string, args: Record<string, unknown> = {}): Promise<CimMethodResult> {
    const wireArgs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(args)) wireArgs[name] = toWire(value, true);
    const result = await this.channel.request({ op: "invoke", target: this.#ref(path), node: this.node, method, args: wireArgs });
    if (typeof result !== "object" || result === null || Array.isArray(result)) throw protocolError(`invoke of ${method} answered ${JSON.stringify(result)?.slice(0, 120)}`);
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(result)) out[name] = fromWire(value, this.namespace);
    const rv = Number(out["ReturnValue"]);
    if (!Number.isFinite(rv)) throw protocolError(`invoke of ${method} answered no ReturnValue`);
    return { ...out, ReturnValue: rv };
  }

  #ref(path: string): ChannelRef {
    const p = parseObjectPath(path);
    return { className: p.className, namespace: p.namespace ?? this.namespace, host: p.host ?? null, keys: p.keys };
  }
}

/** Parses an answer line; a line that is not one is a protocol error. */
export function parseChannelAnswer(line: string): ChannelAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    throw protocolError(`a line that is not JSON: ${(e as Error).message}`);
  }
  const m = parsed as Partial<ChannelAnswer>;
  if (typeof parsed !== "object" || parsed === null || typeof m.id !== "number" || typeof m.ok !== "boolean") {
    throw protocolError(`a line without a numeric "id" and a boolean "ok": ${line.slice(0, 120)}`);
  }
  return m as ChannelAnswer;
}

/**
 * A full object path (`\\HOST\namespace:Class...`) in an argument is a REF parameter: the seam
 * carries REFs as path strings, and no Hyper-V method takes such text as a plain string. File
 * paths (`C:\...`, `\\server\share\...`, `\\?\C:\...`) do not parse as object paths.
 */
function asObjectPath(text: string): ChannelRef | undefined {
  if (!text.startsWith("\\\\") && !text.startsWith("//")) return undefined;
  try {
    const p = parseObjectPath(text);
    return p.host === undefined || p.namespace === undefined ? undefined : { className: p.className, namespace: p.namespace, host: p.host, keys: p.keys };
  } catch {
    return undefined;
  }
}

/** A seam value → wire value; `refs` only at the top level (inside an embedded instance a path is a string property). */
function toWire(value: unknown, refs: boolean): unknown {
  if (typeof value === "string") {
    const ref = refs ? asObjectPath(value) : undefined;
    return ref ? { $ref: ref } : value;
  }
  if (Array.isArray(value)) return value.map((v) => toWire(v, refs));
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    if (typeof obj["__CLASS"] !== "string") throw new CimError("CimInvalidParameter", `An object argument must be an embedded instance with __CLASS: ${JSON.stringify(value).slice(0, 120)}`);
    const properties: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (!k.startsWith("__")) properties[k] = toWire(v, false);
    return { $instance: { className: obj["__CLASS"], properties } };
  }
  return value;
}

/** A wire value → seam value: instances get their `__PATH`, references become paths. */
function fromWire(value: unknown, namespace: string): unknown {
  if (Array.isArray(value)) return value.map((v) => fromWire(v, namespace));
  if (typeof value !== "object" || value === null) return value;
  const obj = value as Record<string, unknown>;
  if ("$ref" in obj) return pathOf(obj["$ref"], namespace);
  if (typeof obj["__CLASS"] === "string" && Array.isArray(obj["__KEYS"])) return instanceOf(obj, "instance", namespace);
  if (typeof obj["__CLASS"] === "string") {
    const embedded: Record<string, unknown> = { __CLASS: obj["__CLASS"] };
    for (const [k, v] of Object.entries(obj)) if (!k.startsWith("__")) embedded[k] = fromWire(v, namespace);
    return embedded;
  }
  throw protocolError(`a value that is neither an instance, a reference nor a scalar: ${JSON.stringify(value).slice(0, 120)}`);
}

function pathOf(wire: unknown, namespace: string): string {
  const obj = wire as Record<string, unknown>;
  if (typeof wire !== "object" || wire === null || typeof obj["__CLASS"] !== "string" || !Array.isArray(obj["__KEYS"])) {
    throw protocolError(`a reference without __CLASS and __KEYS: ${JSON.stringify(wire)?.slice(0, 120)}`);
  }
  const keys: Record<string, KeyValue> = {};
  for (const name of obj["__KEYS"] as unknown[]) {
    const v = obj[String(name)];
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw protocolError(`key ${String(name)} of a ${obj["__CLASS"]} is ${JSON.stringify(v)}`);
    keys[String(name)] = v;
  }
  const ns = typeof obj["__NAMESPACE"] === "string" && obj["__NAMESPACE"] !== "" ? obj["__NAMESPACE"].replace(/\//g, "\\") : namespace;
  const host = typeof obj["__SERVER"] === "string" && obj["__SERVER"] !== "" ? obj["__SERVER"] : ".";
  return buildObjectPath({ host, namespace: ns, className: obj["__CLASS"], keys });
}

function instanceOf(wire: unknown, what: string, namespace: string): CimInstance {
  const obj = wire as Record<string, unknown>;
  if (typeof wire !== "object" || wire === null || Array.isArray(wire) || typeof obj["__CLASS"] !== "string") {
    throw protocolError(`${what} answered ${JSON.stringify(wire)?.slice(0, 120)} where an instance was expected`);
  }
  const out: CimInstance = { __CLASS: obj["__CLASS"], __PATH: pathOf(obj, namespace) };
  for (const [k, v] of Object.entries(obj)) if (!k.startsWith("__")) out[k] = fromWire(v, namespace);
  return out;
}

function instances(result: unknown, what: string, namespace: string): CimInstance[] {
  if (!Array.isArray(result)) throw protocolError(`${what} answered ${JSON.stringify(result)?.slice(0, 120)} where a list was expected`);
  return result.map((r) => instanceOf(r, what, namespace));
}

function answerError(error: ChannelAnswer["error"]): HvbError {
  const code = error?.code ?? "WmiCallFailed";
  const message = error?.message ?? "the host request failed";
  if (CIM_CODES.has(code)) return new CimError(code as CimErrorCode, message);
  if (code === "HyperVAccessDenied") return new HvbError("HyperVAccessDenied", message, { category: "PermissionDenied" });
  return new HvbError("WmiCallFailed", `WMI call failed: ${message}`, { category: "NotSpecified" });
}

function protocolError(what: string): HvbError {
  return new HvbError("HostChannelProtocol", `The host channel carried ${what}`, { category: "InvalidData" });
}
