/** `restore --force` in text mode says where the replaced VM's files went (issue 9). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { runCli } from "../../../src/cli/mod";

const dir = mkdtempSync(path.join(tmpdir(), "hvb-force-text-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

it("names the folder holding the replaced VM's export and disks", async () => {
  const lab = path.join(dir, "lab");
  const repo = path.join(dir, "repo");
  expect((await run(["lab", "init", lab, "--job-ms", "0"])).code).toBe(0);
  expect((await run(["lab", "vm", "new", "--lab", lab, "--name", "v", "--disk", "4MiB"])).code).toBe(0);
  expect((await run(["backup", "--vm", "v", "--repo", repo, "--lab", lab])).code).toBe(0);
  const r = await run(["restore", "--vm", "v", "--repo", repo, "--lab", lab, "--force", "--dest", path.join(dir, "dest")]);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`moved to '${path.join(dir, "dest", "replaced-v-").replace(/[\\\\.]/g, "\\\\$&")}[^']+'`));
});
