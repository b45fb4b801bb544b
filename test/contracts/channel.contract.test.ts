/**
 * The CimSession contract through the module↔core channel, answered by the lab: every call of
 * the suite becomes a host-request line, a responder answers it from the lab the way the
 * PowerShell module answers it with the CIM cmdlets (instances with __CLASS/__NAMESPACE/
 * __SERVER/__KEYS, references as {$ref}, embedded arguments as {$instance}), and the answer
 * travels back as a JSON line. Only lines cross, so the core half of the protocol is what is
 * tested here; the module's half runs in test/powershell/channel.test.ts, and the same suite is
 * answered by the module's own PowerShell in test/powershell/channel_contract.test.ts.
 */
import { buildObjectPath, parseObjectPath, type CimInstance, type CimSession } from "../../src/cim/mod";
import { HostChannel, parseChannelAnswer, type ChannelRef } from "../../src/hyperv/mod";
import { addFault, mutateLab } from "../../src/lab/mod";
import { addVm, newLab } from "../support/lab";
import { CONTRACT_VM, describeCimSessionContract } from "./cim_session_contract";

function pathOf(ref: ChannelRef): string {
  return buildObjectPath({ host: ref.host ?? undefined, namespace: ref.namespace, className: ref.className, keys: ref.keys });
}

/** An instance as the module writes it: its path taken apart into namespace, server and key names. */
function wireInstance(i: CimInstance): Record<string, unknown> {
  const p = parseObjectPath(i.__PATH);
  const out: Record<string, unknown> = { __CLASS: i.__CLASS, __NAMESPACE: (p.namespace ?? "").replace(/\\/g, "/"), __SERVER: p.host, __KEYS: Object.keys(p.keys) };
  for (const [k, v] of Object.entries(i)) if (!k.startsWith("__")) out[k] = wireValue(v);
  return out;
}

function wireValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(wireValue);
  if (typeof v === "string" && v.startsWith("\\\\")) {
    try {
      const p = parseObjectPath(v);
      if (p.namespace !== undefined) return { $ref: { __CLASS: p.className, __NAMESPACE: p.namespace, __SERVER: p.host, __KEYS: Object.keys(p.keys), ...p.keys } };
    } catch {
      // not a path: a string
    }
  }
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = k.startsWith("__") ? x : wireValue(x);
    return out;
  }
  return v;
}

/** A wire argument as the lab takes it: REFs as paths, embedded instances as objects. */
function labArg(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(labArg);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if ("$ref" in o) return pathOf(o["$ref"] as ChannelRef);
    if ("$instance" in o) {
      const inst = o["$instance"] as { className: string; properties: Record<string, unknown> };
      return { __CLASS: inst.className, ...inst.properties };
    }
  }
  return v;
}

async function respond(lab: CimSession, line: string): Promise<string> {
  const r = JSON.parse(line) as { type: string; id: number; op: string; wql?: string; target?: ChannelRef; resultClass?: string | null; assocClass?: string | null; method?: string; args?: Record<string, unknown> };
  if (r.type !== "host-request") throw new Error(`not a host request: ${line}`);
  try {
    let result: unknown;
    switch (r.op) {
      case "query":
        result = (await lab.query(r.wql!)).map(wireInstance);
        break;
      case "get":
        result = wireInstance(await lab.getInstance(pathOf(r.target!)));
        break;
      case "associators":
        result = (await lab.associators(pathOf(r.target!), { ...(r.resultClass ? { resultClass: r.resultClass } : {}), ...(r.assocClass ? { assocClass: r.assocClass } : {}) })).map(wireInstance);
        break;
      case "class":
        result = await lab.getClass((r as unknown as { className: string }).className);
        break;
      case "invoke": {
        const args: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r.args ?? {})) args[k] = labArg(v);
        const out = await lab.invokeMethod(pathOf(r.target!), r.method!, args);
        result = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, wireValue(v)]));
        break;
      }
      default:
        throw new Error(`unknown op ${r.op}`);
    }
    return JSON.stringify({ id: r.id, ok: true, result });
  } catch (e) {
    const err = e as { code?: string; message: string };
    return JSON.stringify({ id: r.id, ok: false, error: { code: err.code, message: err.message } });
  }
}

describeCimSessionContract("channel (answered by the lab)", () => {
  const lab = newLab();
  addVm(lab, { name: CONTRACT_VM });
  const channel: HostChannel = new HostChannel((line) => {
    // Answered asynchronously, as a line read from stdin would be.
    void respond(lab.session, line).then((answer) => setImmediate(() => channel.answer(parseChannelAnswer(answer))));
  });
  return {
    session: channel.session(),
    failNextJob: (method, errorCode) => mutateLab(lab.dir, (s) => addFault(s, { method, code: errorCode, times: 1, atPercent: 50 })),
  };
});
