/**
 * The `hvbackup vhdx` command forms the acceptance checks call: info (text and --json, with
 * --parent), check, convert; exit 0 success, 1 bad input (one stderr line), 2 usage.
 */
import { renameSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, cli, cliOk, expectCleanFailure, MiB, pseudoRandom, tempDir, writeRaw } from "../../support/vhdx";

let dir: string;
let base: string;
let child: string;
beforeAll(() => {
  dir = tempDir();
  const raw = path.join(dir, "a.raw");
  writeRaw(raw, 8 * MiB, [{ offset: 0, data: pseudoRandom(MiB, 1) }]);
  base = path.join(dir, "base.vhdx");
  child = path.join(dir, "child.avhdx");
  cliOk(["vhdx", "convert", raw, base, "--block-size", String(MiB), "--logical-sector", "4096"]);
  writeRaw(raw, 8 * MiB, [{ offset: 4096, data: Buffer.alloc(4096, 1) }]);
  cliOk(["vhdx", "convert", raw, child, "--parent", base]);
});
afterAll(cleanupTempDirs);

describe("hvbackup vhdx", () => {
  it("prints type, sizes, sector sizes, ids, parent locator and chain", () => {
    const text = cliOk(["vhdx", "info", child]).stdout;
    for (const re of [/Type:\s+differencing/, /Virtual size:\s+8 MiB \(8388608 bytes\)/, /Block size:\s+2 MiB/, /Sector sizes:\s+4096 logical, 4096 physical/, /Virtual disk id:\s+[0-9a-f-]{36}/, /DataWriteGuid:/, /parent_linkage\s+\{[0-9a-f-]{36}\}/, /relative_path\s+\.\\base\.vhdx/, /Chain:/, /base\.vhdx \(dynamic\)/]) {
      expect(text).toMatch(re);
    }
    const json = JSON.parse(cliOk(["vhdx", "info", child, "--json"]).stdout);
    expect(json).toMatchObject({ format: "vhdx", type: "differencing", virtualSize: 8 * MiB, blockSize: 2 * MiB, logicalSectorSize: 4096, physicalSectorSize: 4096, logReplayed: false });
    expect(json.chain).toHaveLength(2);
    expect(json.parentLocator.parent_linkage).toBe(`{${json.chain[1].dataWriteGuid}}`);
  });

  it("takes the parent from --parent when the locator cannot find it", () => {
    const moved = path.join(dir, "moved-base.vhdx");
    renameSync(base, moved);
    try {
      const r = cli(["vhdx", "info", child]);
      const line = expectCleanFailure(r);
      expect(line).toMatch(/parent not found/);
      expect(r.stdout).toMatch(/Type:\s+differencing/); // the file itself is still described
      expect(cliOk(["vhdx", "info", child, "--parent", moved, "--json"]).stdout).toContain("moved-base.vhdx");
      expect(cli(["vhdx", "check", child, "--parent", moved]).code).toBe(0);
    } finally {
      renameSync(moved, base);
    }
  });

  it("check prints OK and exits 0; --json gives the report", () => {
    expect(cliOk(["vhdx", "check", child]).stdout).toMatch(/OK/);
    expect(JSON.parse(cliOk(["vhdx", "check", base, "--json"]).stdout)).toMatchObject({ ok: true, problems: [] });
  });

  it("exits 2 on usage errors", () => {
    for (const args of [["vhdx"], ["vhdx", "bogus"], ["vhdx", "info"], ["vhdx", "info", base, base], ["vhdx", "info", base, "--bogus"], ["vhdx", "convert", base], ["vhdx", "convert", base, "x.raw", "--logical-sector", "1024"], ["vhdx", "convert", base, "x.raw", "--block-size", "lots"], ["nosuchcommand"]]) {
      const r = cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
    }
  });

  it("refuses --parent with a raw destination", () => {
    expectCleanFailure(cli(["vhdx", "convert", base, path.join(dir, "x.raw"), "--parent", base]));
  });
});
