/**
 * What `--help` prints for each command. Every command parses its line with args.ts's
 * parseArgs, which throws {@link HelpRequested} when `--help` or `-h` is given, before any
 * required option is checked; main.ts then prints the text for the command path here and exits
 * 0. So a new command answers `--help` without code of its own, and `lab vm new --help` never
 * complains about a missing `--lab`.
 */
import { BACKUP_USAGE } from "./commands/backup";
import { DOCTOR_USAGE } from "./commands/doctor";
import { NODES_USAGE } from "./commands/nodes";
import { USAGE as LAB_USAGE } from "./lab_command";
import { USAGE as VHDX_USAGE } from "./vhdx_command";

const COMMAND_USAGE: Record<string, string> = {
  backup: BACKUP_USAGE,
  doctor: DOCTOR_USAGE,
  nodes: NODES_USAGE,
  list: `Usage: hvbackup list --repo R [--vm N] [--json]

  Restore points in a repository, oldest first. --json prints one JSON array.
`,
  restore: `Usage: hvbackup restore --repo R --vm N [--point ID|latest|TIME] [--new-id] [--name NEW]
                        [--dest DIR] [--force] [--clear-stale-lock] [--no-cluster-role] [--lab DIR] [--json]

  Restores a VM from a restore point (default: latest), checking every block against its hash.
  --dest DIR   folder for the VM's configuration, its disks in DIR/Virtual Hard Disks (default: the
               host's folders for new VMs, <DefaultExternalDataRoot>/<name> and
               <DefaultVirtualHardDiskPath>/<name>; never the current folder)
  --new-id     import under a new VM id (side by side with the original)
  --force      replace an existing VM of that id: it is exported, stopped and its files moved aside
  --no-cluster-role   on a failover cluster, do not make the restored VM highly available
                      (by default it gets its cluster role back)

       hvbackup restore --repo R --group G [--set ID|latest|TIME] [--vm N ...] [--new-id] [--dest DIR]
                        [--force] [--lab DIR] [--json]

  Restores every member of a VM group's backup set (default: latest), each into DIR/<member name>;
  --vm restores only the members named.

  Guest clusters: a set's shared disks (VHD Sets) come back once, as new VHD Sets in
  DIR/Shared Disks/<name>.vhds (without --dest: <host's default data folder>/<group>/Shared
  Disks), attached to every restored member where the original was; the original .vhds is never
  touched. 'restore --vm N --point P' of a member of such a set brings its shared disks too, into
  DIR/Shared Disks/ (without --dest: <host's default data folder>/<N>/Shared Disks).
`,
  verify: `Usage: hvbackup verify --repo R [--vm N] [--deep] [--json]

  Checks restore points; --deep reads every block against its hash. Exit 1 when anything is damaged.
  Without --vm, also checks that every backup set of a VM group is whole.
`,
  prune: `Usage: hvbackup prune --repo R (--vm N | --group G) [--keep K] [--keep-since TIME] [--clear-stale-lock] [--json]
       hvbackup prune --repo R --vm N --point ID [--clear-stale-lock] [--json]

  Keeps the newest K points and/or those taken at or after TIME, merging older increments into the full.
  --group G keeps the newest K backup sets of the group, removing older sets whole.
  --point ID removes that one point (any but the newest), merging it into the next point, which
  takes over the blocks it lacks; every kept point restores what it did before.
`,
  "export-disk": `Usage: hvbackup export-disk --repo R --vm N --point ID --disk I --out FILE.vhdx [--json]

  One disk of one restore point, flattened into a standalone dynamic VHDX.
`,
  cleanup: `Usage: hvbackup cleanup --vm N [--repo R] [--what-if] [--clear-stale-lock] [--lab DIR] [--json]

  Removes lingering recovery checkpoints and stale reference points this product made.
`,
  readiness: `Usage: hvbackup readiness --vm N [--repo R] [--hash-changes] [--lab DIR] [--json]

  What the next backup of a VM will do (full or incremental, which consistency), and why.
`,
  demo: `Usage: hvbackup demo [--dir DIR] [--vhdx]

  Backs up and restores a VM on a freshly made lab host, showing every command; --vhdx shows the VHDX tools.
`,
  lab: LAB_USAGE,
  vhdx: VHDX_USAGE,
};

/**
 * The usage text for a command line that asked for help: the text of its command (a
 * subcommand of `lab` or `vhdx` gets its group's text, which lists every subcommand with its
 * options), or `fallback` (the top-level usage) for a command this table does not know.
 */
export function usageFor(argv: readonly string[], fallback: string): string {
  return COMMAND_USAGE[argv[0] ?? ""] ?? fallback;
}
