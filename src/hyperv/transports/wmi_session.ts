import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { AssociatorsOptions, CimClassSchema, CimInstance, CimMethodResult, CimSession } from "../../cim/mod";
import { CimError } from "../../cim/mod";
import { HvbError } from "../../base/mod";
import WMI_SHIM_SOURCE from "./WmiShim.cs";

/** The Hyper-V WMI namespace (the default; root\\cimv2 and root\\MSCluster serve volumes and clusters). */
const NAMESPACE = "root\\virtualization\\v2";

type EdgeFunc = (payload: unknown, callback: (error: unknown, result: unknown) => void) => void;

/** The shim compiled at build time for .NET Framework 4.8 (build/WmiShim), beside the package's executable. */
export const WMI_SHIM_ASSEMBLY = "HyperVBackup.WmiShim.dll";

/**
 * The CimSession over real WMI (root\virtualization\v2) on a Windows Hyper-V host: edge-js runs
 * the C# shim of WmiShim.cs (System.Management) inside this node process.
 *
 * Two ways to find them, in order (the first of `dirs`, by default beside the executable and the script, that has both
 * wins):
 * - the package (`npm run package`): `bin/HyperVBackup.WmiShim.dll`, compiled at build time, and
 *   `bin/edge-js/` with edge-js's prebuilt addon, beside `bin/hvbackup.exe`; nothing is compiled
 *   on the host;
 * - a source checkout: edge-js wherever node resolves it, compiling WmiShim.cs at run time
 *   (edge-js's C# compiler package), as a developer's machine may.
 *
 * Verified here only as far as this machine allows: the C# compiles against System.Management
 * (test/unit/hyperv/transports/wmi_shim.test.ts), the package carries the assembly and the addon
 * (test/powershell/package.test.ts), the lookup is tested with a stand-in edge-js
 * (wmi_shim_loading.test.ts); it runs on a real host in the Pester suite.
 */
export async function openWmiSession(namespace: string = NAMESPACE, computer = ".", dirs: readonly string[] = shimDirectories()): Promise<CimSession> {
  const call = wmiShimFunction(dirs);
  const invoke = (payload: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => call({ ns: `\\\\${computer}\\${namespace}`, ...payload }, (err, result) => (err ? reject(wmiError(err)) : resolve(result))));
  return new WmiSession(invoke);
}

/** Where the package's shim and edge-js may lie: beside the executable, then beside the script run. */
export function shimDirectories(): string[] {
  const dirs = [path.dirname(process.execPath)];
  if (process.argv[1]) dirs.push(path.dirname(path.resolve(process.argv[1])));
  return [...new Set(dirs)];
}

interface Edge {
  func(options: { source: string; references: string[] } | { assemblyFile: string; typeName: string; methodName: string }): EdgeFunc;
}

/** The shim as an edge-js function: the precompiled assembly where one is found, else the source. */
function wmiShimFunction(dirs: readonly string[]): EdgeFunc {
  for (const dir of dirs) {
    const assemblyFile = path.join(dir, WMI_SHIM_ASSEMBLY);
    const loader = path.join(dir, "edge-js", "lib", "edge.js");
    if (!existsSync(assemblyFile) || !existsSync(loader)) continue;
    let edge: Edge;
    try {
      edge = createRequire(loader)(loader) as Edge;
    } catch (e) {
      throw new HvbError("WmiTransportMissing", `Cannot reach Hyper-V's WMI: edge-js in '${path.dirname(path.dirname(loader))}' did not load (its addon needs 64-bit Windows and the .NET Framework 4.8): ${(e as Error).message}`, { category: "ResourceUnavailable", target: loader, cause: e });
    }
    return edge.func({ assemblyFile, typeName: "Startup", methodName: "Invoke" });
  }
  let edge: Edge;
  try {
    const req = createRequire(path.join(dirs[dirs.length - 1] ?? process.cwd(), "noop.js"));
    edge = req("edge-js") as Edge;
  } catch (e) {
    throw new HvbError("WmiTransportMissing", `Cannot reach Hyper-V's WMI: neither ${WMI_SHIM_ASSEMBLY} with edge-js beside the command (as the package lays them out: ${dirs.map((d) => `'${d}'`).join(", ")}) nor an installed edge-js package was found; use the HyperVBackup module's cmdlets, or the package's bin\\hvbackup.exe: ${(e as Error).message}`, { category: "ResourceUnavailable", cause: e });
  }
  return edge.func({ source: WMI_SHIM_SOURCE, references: ["System.Management.dll"] });
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
