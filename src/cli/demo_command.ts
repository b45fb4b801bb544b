import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { optionValue, parseArgs } from "./args";
import type { CommandIo } from "./io";
import { vhdxDemo } from "./vhdx_demo";

/** Runs one `hvbackup` command line; the demo gets it from main.ts so it shows real commands. */
export type RunCli = (argv: string[], io: CommandIo) => Promise<number>;

/**
 * `hvbackup demo [--dir DIR] [--vhdx]`: the product's main job on a built-in example. It makes a
 * lab host with a VM, lets the guest write, takes a full and an incremental backup, verifies
 * them block by block, restores the first point side by side under a new id, and shows every
 * command it ran with its output. `--vhdx` shows the VHDX tools instead.
 */
export async function demoCommand(argv: string[], io: CommandIo, run: RunCli): Promise<number> {
  const args = parseArgs(argv, { values: ["dir"], flags: ["vhdx"] });
  const given = optionValue(args, "dir");
  if (given !== undefined) mkdirSync(given, { recursive: true });
  const dir = path.resolve(given ?? mkdtempSync(path.join(tmpdir(), "hvbackup-demo-")));
  if (args.flags.has("vhdx")) return vhdxDemo(dir, io);

  const lab = path.join(dir, "lab");
  const repo = path.join(dir, "repo");
  const say = (text: string): void => io.stdout(`${text}\n`);
  const step = async (title: string, cmd: string[]): Promise<void> => {
    say(`\n# ${title}\n$ hvbackup ${cmd.map((c) => (/[\s'"]/.test(c) ? `'${c}'` : c)).join(" ")}`);
    const code = await run(cmd, io);
    if (code !== 0) throw new Error(`'hvbackup ${cmd.join(" ")}' exited with ${code}`);
  };
  say(`HyperVBackup demo in ${dir}`);
  say("A lab host stands in for Hyper-V: the same WMI calls, real VHDX files.");
  try {
    await step("Make a lab host", ["lab", "init", lab]);
    await step("Make a VM with two disks", ["lab", "vm", "new", "--lab", lab, "--name", "web01", "--disk", "64MiB", "--disk", "32MiB", "--guest", "windows"]);
    await step("The guest writes 5 MB", ["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "0", "--offset", "1048576", "--length", "5000000", "--seed", "1"]);
    await step("First backup: a full", ["backup", "--vm", "web01", "--repo", repo, "--lab", lab]);
    await step("The guest changes 64 KiB", ["lab", "write", "--lab", lab, "--vm", "web01", "--disk", "1", "--offset", "20971520", "--length", "65536", "--seed", "2"]);
    await step("Second backup: RCT incremental, only what changed", ["backup", "--vm", "web01", "--repo", repo, "--lab", lab]);
    await step("The restore points", ["list", "--repo", repo]);
    await step("Read every block back and check it against its SHA-256", ["verify", "--repo", repo, "--deep"]);
    await step("Restore the newest point side by side, under a new id and name", ["restore", "--repo", repo, "--vm", "web01", "--new-id", "--name", "web01-restored", "--dest", path.join(dir, "restored"), "--lab", lab]);
    await step("The host now has both VMs", ["lab", "ls", "--lab", lab]);
    say(`\nThe repository in ${repo} is plain VHDX/AVHDX files with their exported configuration:`);
    say("any Hyper-V host can mount, merge or import them without this product.");
    return 0;
  } catch (e) {
    io.stderr(`hvbackup: demo failed: ${(e as Error).message}\n`);
    return 1;
  }
}
