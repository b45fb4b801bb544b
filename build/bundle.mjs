// Bundles the TypeScript core into ONE CommonJS file that plain `node` (20+) runs with no
// node_modules: module/bin/hvbackup.cjs. The PowerShell module and package.json `bin` both use it.
import { build } from "esbuild";
import { chmodSync } from "node:fs";

// `node build/bundle.mjs [OUTFILE]`: build/package.mjs bundles into a file of its own, so that a
// package build never rewrites module/bin/hvbackup.cjs while tests run it.
const outfile = process.argv[2] ?? "module/bin/hvbackup.cjs";
await build({
  entryPoints: ["src/cli/main.ts"],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: false,
  legalComments: "none",
  banner: { js: "#!/usr/bin/env node" },
  // edge-js is a native addon that exists only on Windows hosts; it is loaded at run time
  // from next to the module when present, never bundled.
  external: ["edge-js"],
  // The WMI shim (C#) travels inside the bundle as text; edge-js compiles it on Windows.
  loader: { ".cs": "text" },
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
