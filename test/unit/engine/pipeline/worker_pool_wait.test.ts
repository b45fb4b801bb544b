/**
 * WorkerPool.waitAsync must keep node's event loop alive until the wait ends by itself, whatever
 * Atomics.waitAsync's own timeout does: that timeout runs as a V8 platform task that does not keep
 * the loop alive, and a keep-alive timer of fixed length fired first on a loaded machine, so node
 * exited in the middle of a copy (about 3 backups in 50 run at once, the VM left on its
 * checkpoint). Here Atomics.waitAsync never settles at all, in a process with nothing else to do.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(path.join(tmpdir(), "hvb-waitasync-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("WorkerPool.waitAsync", () => {
  it("ends after its timeout and keeps the process alive meanwhile, even when Atomics.waitAsync never settles", () => {
    const entry = path.join(dir, "entry.ts");
    const out = path.join(dir, "entry.cjs");
    const source = path.resolve(__dirname, "../../../../src/engine/pipeline/worker_pool.ts");
    writeFileSync(
      entry,
      `import { WorkerPool } from ${JSON.stringify(source)};
(Atomics as unknown as { waitAsync: unknown }).waitAsync = () => ({ async: true, value: new Promise(() => undefined) });
const pool = new WorkerPool(1);
const started = Date.now();
void pool.waitAsync(pool.completions(), 200).then(() => {
  console.log("resumed after " + (Date.now() - started) + " ms");
  process.exit(0);
});
process.on("beforeExit", () => { console.log("event loop ran out"); process.exit(3); });
`,
    );
    buildSync({ entryPoints: [entry], outfile: out, bundle: true, platform: "node", format: "cjs", logLevel: "silent" });
    const r = spawnSync(process.execPath, [out], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout, r.stderr).toMatch(/^resumed after \d+ ms/);
    expect(r.status).toBe(0);
  }, 90_000);
});
