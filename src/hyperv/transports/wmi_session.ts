import { createRequire } from "node:module";
import * as path from "node:path";
import type { AssociatorsOptions, CimClassSchema, CimInstance, CimMethodResult, CimSession } from "../../cim/mod";
import { CimError } from "../../cim/mod";
import { HvbError } from "../../base/mod";
import WMI_SHIM_SOURCE from "./WmiShim.cs";

/** The Hyper-V WMI namespace (the default; root\\cimv2 and root\\MSCluster serve volumes and clusters). */
const NAMESPACE = "root\\virtualization\\v2";

type EdgeFunc = (payload: unknown, callback: (error: unknown, result: unknown) => void) => void;

/**
 * The CimSession over real WMI (root\virtualization\v2) on a Windows Hyper-V host: edge-js runs
 * the C# shim in WmiShim.cs (System.Management) inside this node process. edge-js is an
 * optional dependency that exists only on Windows; it is looked up next to the bundled core
 * (module/node_modules) or wherever node resolves it.
 *
 * Verified here only as far as this machine allows: the C# compiles against System.Management
 * (test/unit/hyperv/transports/wmi_shim.test.ts); it runs on a real host in the Pester suite.
 */
export async function openWmiSession(namespace: string = NAMESPACE, computer = "."): Promise<CimSession> {
  let edge: { func(options: { source: string; references: string[] }): EdgeFunc };
  try {
    const req = createRequire(path.join(process.argv[1] ? path.dirname(process.argv[1]) : process.cwd(), "noop.js"));
    edge = req("edge-js") as typeof edge;
  } catch (e) {
    throw new HvbError("WmiTransportMissing", `Cannot reach Hyper-V's WMI: the edge-js package is not installed next to HyperVBackup (run 'npm install edge-js' in the module folder): ${(e as Error).message}`, { category: "ResourceUnavailable", cause: e });
  }
  const call = edge.func({ source: WMI_SHIM_SOURCE, references: ["System.Management.dll"] });
  const invoke = (payload: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => call({ ns: `\\\\${computer}\\${namespace}`, ...payload }, (err, result) => (err ? reject(wmiError(err)) : resolve(result))));
  return new WmiSession(invoke);
}

class WmiSession implements CimSession {
  constructor(private readonly call: (payload: Record<string, unknown>) => Promise<unknown>) {}

  async query(wql: string): Promise<CimInstance[]> {
    return (await this.call({ op: "query", wql })) as CimInstance[];
  }

  async getInstance(objectPath: string): Promise<CimInstance> {
    const found = await this.call({ op: "get", path: objectPath });
    if (!found) throw new CimError("CimNotFound", `No instance at '${objectPath}'`, objectPath);
    return found as CimInstance;
  }

  async associators(objectPath: string, options: AssociatorsOptions = {}): Promise<CimInstance[]> {
    return (await this.call({ op: "associators", path: objectPath, resultClass: options.resultClass ?? null, assocClass: options.assocClass ?? null })) as CimInstance[];
  }

  async getClass(className: string): Promise<CimClassSchema> {
    return (await this.call({ op: "class", className })) as CimClassSchema;
  }

  async invokeMethod(objectPath: string, method: string, args: Record<string, unknown> = {}): Promise<CimMethodResult> {
    return (await this.call({ op: "invoke", path: objectPath, method, args })) as CimMethodResult;
  }

  async deleteInstance(objectPath: string): Promise<void> {
    await this.call({ op: "delete", path: objectPath });
  }
}

function wmiError(e: unknown): HvbError {
  const message = e instanceof Error ? e.message : String(e);
  return new HvbError("WmiCallFailed", `WMI call failed: ${message}`, { category: "NotSpecified", cause: e });
}
