import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../../../..");

describe("the WMI shim for real Hyper-V hosts", () => {
  it("compiles as C# 5 against System.Management, as edge-js will compile it on Windows", () => {
    const r = spawnSync("dotnet", ["build", "build/WmiShimCheck", "-o", "build/WmiShimCheck/bin/out", "-nologo", "-v", "q"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 300_000);
});
