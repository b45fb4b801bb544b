/**
 * Runs once before every test file (vitest `globalSetup`): builds the CLI bundle
 * (module/bin/hvbackup.cjs) and a library bundle of src/vhdx for child processes that must write
 * through the library and be killed mid-write (test/unit/vhdx/log_crash.test.ts). Building once here
 * keeps parallel test files from racing esbuild over the same output file.
 */
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { LIB_BUNDLE } from "./support/paths";

export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ["build/bundle.mjs"], { stdio: "inherit" });
  await build({
    entryPoints: ["src/vhdx/mod.ts"],
    outfile: LIB_BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
  });
}
