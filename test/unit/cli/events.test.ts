/**
 * The global `--events` flag: for every command stdout carries only line-delimited JSON events
 * (src/cli/event_output.ts) ending in exactly one `result` or `error` line; exit codes as without it.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/mod";
import { cleanupTempDirs, MiB, pseudoRandom, tempDir, writeRaw } from "../../support/vhdx";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const TYPES = ["progress", "warning", "info", "result", "error"];

/** Every stdout line is one JSON event, and exactly one of them is the result or the error, last. */
function events(r: Run): { last: Record<string, unknown>; all: Record<string, unknown>[] } {
  expect(r.stdout.endsWith("\n"), r.stdout).toBe(true);
  const all = r.stdout.slice(0, -1).split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const e of all) expect(TYPES).toContain(e["type"]);
  const ends = all.filter((e) => e["type"] === "result" || e["type"] === "error");
  expect(ends).toHaveLength(1);
  expect(all[all.length - 1]).toBe(ends[0]);
  return { last: ends[0]!, all };
}

let dir: string;
let disk: string;
let lab: string;
let repo: string;
beforeAll(async () => {
  dir = tempDir();
  const raw = path.join(dir, "a.raw");
  writeRaw(raw, 4 * MiB, [{ offset: 0, data: pseudoRandom(MiB, 1) }]);
  disk = path.join(dir, "a.vhdx");
  expect((await run(["vhdx", "convert", raw, disk])).code).toBe(0);
  lab = path.join(dir, "lab");
  repo = path.join(dir, "repo");
  expect((await run(["lab", "init", lab, "--job-ms", "20"])).code).toBe(0);
  expect((await run(["lab", "vm", "new", "--lab", lab, "--name", "web01", "--disk", "8MiB"])).code).toBe(0);
  expect((await run(["backup", "--vm", "web01", "--repo", repo, "--lab", lab])).code).toBe(0);
}, 60_000);
afterAll(cleanupTempDirs);

describe("--events", () => {
  it("vhdx info gives the info object as the one result", async () => {
    const r = await run(["vhdx", "info", disk, "--events"]);
    expect(r.code).toBe(0);
    expect(events(r).last).toMatchObject({ type: "result", data: { format: "vhdx", type: "dynamic", virtualSize: 4 * MiB } });
  });

  it("vhdx check gives the report, also with --json and the flag first", async () => {
    for (const argv of [["vhdx", "check", disk, "--events"], ["--events", "vhdx", "check", "--json", disk]]) {
      const r = await run(argv);
      expect(r.code, argv.join(" ")).toBe(0);
      expect(events(r).last).toMatchObject({ type: "result", data: { ok: true, problems: [] } });
    }
  });

  it("vhdx convert and lab commands give one result", async () => {
    const r = await run(["vhdx", "convert", disk, path.join(dir, "b.raw"), "--events"]);
    expect(r.code).toBe(0);
    expect(events(r).last).toMatchObject({ type: "result", data: { virtualSize: 4 * MiB } });
    const ls = await run(["lab", "ls", "--lab", lab, "--events"]);
    expect(events(ls).last).toMatchObject({ type: "result", data: { vms: [{ name: "web01" }] } });
    const q = await run(["lab", "cim", "query", "--events", "--lab", lab, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'web01'"]);
    expect(q.code).toBe(0);
    expect(events(q).last["type"]).toBe("result");
  });

  it("list gives the restore points as the result; --json alone keeps its one array", async () => {
    const r = await run(["list", "--repo", repo, "--events"]);
    expect(r.code).toBe(0);
    const { last } = events(r);
    expect(last["type"]).toBe("result");
    expect(last["data"]).toHaveLength(1);
    expect(last["data"]).toMatchObject([{ vmName: "web01", kind: "full" }]);
    const json = await run(["list", "--repo", repo, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(last["data"]);
  });

  it("an engine command's progress and result are events", async () => {
    const r = await run(["backup", "--vm", "web01", "--repo", repo, "--lab", lab, "--events"]);
    expect(r.code).toBe(0);
    expect(events(r).last).toMatchObject({ type: "result", data: { vmName: "web01" } });
  });

  it("a failure is exactly one error line, with the exit code unchanged", async () => {
    const missing = await run(["vhdx", "info", path.join(dir, "nope.vhdx"), "--events"]);
    expect(missing.code).toBe(1);
    expect(events(missing).last).toMatchObject({ type: "error", code: expect.any(String), category: expect.any(String), message: expect.any(String) });
    for (const argv of [["list", "--bogus", "--events"], ["nosuchcommand", "--events"], ["--events"], ["vhdx", "--events"]]) {
      const r = await run(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(events(r).last, argv.join(" ")).toMatchObject({ type: "error", code: "Usage", category: "InvalidArgument" });
    }
    const noRepo = await run(["list", "--repo", path.join(dir, "norepo"), "--events"]);
    expect(noRepo.code).toBe(1);
    expect(events(noRepo).last).toMatchObject({ type: "error", code: "RepositoryNotFound" });
  });

  it("help text goes to stderr, leaving a null result", async () => {
    const r = await run(["--help", "--events"]);
    expect(r.code).toBe(0);
    expect(events(r).last).toEqual({ type: "result", data: null });
    expect(r.stderr).toContain("Usage:");
  });
});
