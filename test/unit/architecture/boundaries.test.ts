import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

/**
 * The boundary check (`npm run lint:boundaries`) must fail on each kind of violation it exists
 * for, not only pass on the real tree: a rule that matches nothing would pass silently.
 */
const ROOT = path.resolve(__dirname, "../../..");
const DEPCRUISE = path.join(ROOT, "node_modules", ".bin", "depcruise");

/** Runs dependency-cruiser in `cwd` with the repository's rules. */
function depcruise(cwd: string, targets: string[]): { code: number | null; output: string } {
  const r = spawnSync(DEPCRUISE, [...targets, "--config", ".dependency-cruiser.cjs"], { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, output: `${r.stdout}\n${r.stderr}` };
}

let trees: string[] = [];
afterEach(() => {
  for (const t of trees) rmSync(t, { recursive: true, force: true });
  trees = [];
});

/** A temporary project with the repository's rules, a minimal tsconfig and the given src files. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "hvb-boundaries-"));
  trees.push(dir);
  copyFileSync(path.join(ROOT, ".dependency-cruiser.cjs"), path.join(dir, ".dependency-cruiser.cjs"));
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "ESNext", moduleResolution: "Bundler", strict: true, noEmit: true }, include: ["src"] }));
  const base = {
    "src/base/mod.ts": "export const base = 1;\n",
    "src/hyperv/mod.ts": 'import { base } from "../base/mod";\nexport const hyperv = base + 1;\n',
    "src/vhdx/mod.ts": 'import { base } from "../base/mod";\nexport const vhdx = base + 2;\n',
  };
  for (const [rel, text] of Object.entries({ ...base, ...files })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe("the boundary check", () => {
  it("passes a tree that keeps the layers", () => {
    const r = depcruise(tree({}), ["src"]);
    expect(r.code, r.output).toBe(0);
  });

  it("fails when a package imports a layer that is not below it", () => {
    const r = depcruise(tree({ "src/vhdx/wrong.ts": 'import { hyperv } from "../hyperv/mod";\nexport const wrong = hyperv;\n' }), ["src"]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/not-in-allowed/);
    expect(r.output).toMatch(/src\/vhdx\/wrong\.ts → src\/hyperv\/mod\.ts/);
  });

  it("fails when a package imports another package's file instead of its barrel", () => {
    const r = depcruise(
      tree({
        "src/base/inner.ts": "export const inner = 3;\n",
        "src/vhdx/reach.ts": 'import { inner } from "../base/inner";\nexport const reach = inner;\n',
      }),
      ["src"],
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/not-in-allowed/);
    expect(r.output).toMatch(/src\/vhdx\/reach\.ts → src\/base\/inner\.ts/);
  });

  it("fails when a folder-private file is imported from another folder of the same package", () => {
    const r = depcruise(
      tree({
        "src/vhdx/log/_x.ts": "export const x = 4;\n",
        "src/vhdx/uses_private.ts": 'import { x } from "./log/_x";\nexport const y = x;\n',
      }),
      ["src"],
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/private-file/);
    expect(r.output).toMatch(/src\/vhdx\/uses_private\.ts → src\/vhdx\/log\/_x\.ts/);
  });

  it("passes the real tree", () => {
    const r = depcruise(ROOT, ["src", "test", "bench"]);
    expect(r.code, r.output).toBe(0);
  });
});
