/**
 * Every command and subcommand answers `--help` (and `-h`) with its usage on stdout and exit 0,
 * before any required option is checked and without doing anything (the demo does not run).
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/mod";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const PATHS = [
  [], ["backup"], ["list"], ["restore"], ["verify"], ["prune"], ["export-disk"], ["cleanup"], ["readiness"], ["doctor"], ["demo"],
  ["lab"], ["lab", "init"], ["lab", "vm", "new"], ["lab", "write"], ["lab", "migrate"], ["lab", "crash"], ["lab", "state"],
  ["lab", "guest"], ["lab", "fail"], ["lab", "ls"], ["lab", "cim", "query"], ["lab", "cim", "get"], ["lab", "cim", "invoke"], ["lab", "cim", "associators"],
  ["vhdx"], ["vhdx", "info"], ["vhdx", "check"], ["vhdx", "convert"],
];

describe("--help", () => {
  for (const words of PATHS) {
    for (const flag of ["--help", "-h"]) {
      it(`hvbackup ${[...words, flag].join(" ")} prints usage and exits 0`, async () => {
        const r = await run([...words, flag]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^Usage:/);
        // The text names the command it was asked about.
        if (words.length > 0) expect(r.stdout).toContain(words[0] === "lab" || words[0] === "vhdx" ? words[words.length - 1] : `hvbackup ${words[0]}`);
      });
    }
  }

  it("help wins over a missing required option and does nothing", async () => {
    const r = await run(["restore", "--vm", "x", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("hvbackup restore --repo R");
  });
});
