/**
 * How the standalone command finds its way to WMI (src/hyperv/transports/wmi_session.ts): the
 * package's precompiled HyperVBackup.WmiShim.dll run by the edge-js copy beside it, never the C#
 * source (which would need a compiler on the host). edge-js itself only runs on Windows, so a
 * stand-in with its interface (lib/edge.js exporting func) records what it is asked to load.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WMI_SHIM_ASSEMBLY, openWmiSession } from "../../../../src/hyperv/transports/wmi_session";

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A folder laid out like the package's bin/: the shim assembly and a stand-in edge-js. */
function binFolder(withAssembly: boolean): { dir: string; log: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "hvb-wmishim-"));
  made.push(dir);
  const log = path.join(dir, "edge-calls.json");
  if (withAssembly) writeFileSync(path.join(dir, WMI_SHIM_ASSEMBLY), "MZ");
  mkdirSync(path.join(dir, "edge-js", "lib"), { recursive: true });
  writeFileSync(
    path.join(dir, "edge-js", "lib", "edge.js"),
    `const fs = require("fs");
exports.func = function (options) {
  const calls = [];
  return function (payload, callback) {
    calls.push({ options, payload });
    fs.writeFileSync(${JSON.stringify(log)}, JSON.stringify(calls));
    callback(null, [{ __CLASS: "Msvm_ComputerSystem", ElementName: "web01" }]);
  };
};
`,
  );
  return { dir, log };
}

describe("the standalone command's WMI transport", () => {
  it("runs the precompiled shim through the edge-js beside it, with the namespace of the session", async () => {
    const other = mkdtempSync(path.join(tmpdir(), "hvb-wmishim-empty-"));
    made.push(other);
    const { dir, log } = binFolder(true);
    const session = await openWmiSession("root\\virtualization\\v2", "HV02", [other, dir]);
    expect(await session.query("SELECT * FROM Msvm_ComputerSystem")).toEqual([{ __CLASS: "Msvm_ComputerSystem", ElementName: "web01" }]);
    const calls = JSON.parse((await import("node:fs")).readFileSync(log, "utf8")) as Array<{ options: Record<string, unknown>; payload: Record<string, unknown> }>;
    expect(calls).toHaveLength(1);
    expect(calls[0]!.options).toEqual({ assemblyFile: path.join(dir, WMI_SHIM_ASSEMBLY), typeName: "Startup", methodName: "Invoke" });
    expect(calls[0]!.payload).toEqual({ ns: "\\\\HV02\\root\\virtualization\\v2", op: "query", wql: "SELECT * FROM Msvm_ComputerSystem" });
  });

  it("without the assembly beside it, never compiles from a stand-in: one WmiTransportMissing that names where it looked", async () => {
    const { dir, log } = binFolder(false);
    const err = await openWmiSession("root\\virtualization\\v2", ".", [dir]).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe("WmiTransportMissing");
    expect(err?.message).toContain(WMI_SHIM_ASSEMBLY);
    expect(err?.message).toContain(dir);
    expect((await import("node:fs")).existsSync(log)).toBe(false);
  });
});
