import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";
import { HvbError } from "../../base/mod";
import { CONFIG_DIR } from "../../repository/mod";
import type { EngineEvents } from "../events";
import type { HostApi, HostCheckpoint } from "../host_api";

/** The export folders that hold configuration (checkpoint configurations go to Snapshots). */
const CONFIGURATION_DIRS = [CONFIG_DIR, "Snapshots"];
/** Virtual disk files: never configuration, whatever folder they are in. */
const DISK_FILE = /\.(a?vhdx?|vhds)$/i;

/**
 * Exports the checkpoint's configuration into an empty folder of its own inside `staging`,
 * then moves only the configuration files (everything under `Virtual Machines/` and
 * `Snapshots/` that is not a disk image) into `staging` and removes the rest. A host that
 * cannot be told DisableDifferentialOfIgnoredStorage (before 1709) leaves differencing disks of
 * the production disks in the export: they must never mix with the point's own disks, nor be
 * kept. Returns the files discarded (relative to the export folder).
 */
export async function exportConfigurationOnly(host: HostApi, checkpoint: HostCheckpoint, staging: string, events: EngineEvents): Promise<string[]> {
  const scratch = path.join(staging, ".export");
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  const discarded: string[] = [];
  try {
    await host.exportConfiguration(checkpoint, scratch);
    for (const rel of filesUnder(scratch, "")) {
      const top = rel.split("/")[0]!;
      if (!CONFIGURATION_DIRS.includes(top) || DISK_FILE.test(rel)) {
        discarded.push(rel);
        continue;
      }
      const to = path.join(staging, ...rel.split("/"));
      mkdirSync(path.dirname(to), { recursive: true });
      renameSync(path.join(scratch, ...rel.split("/")), to);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (discarded.length > 0) {
    events.info(`The host's export of '${checkpoint.vmName}' also wrote ${discarded.length} file(s) that are not configuration (${discarded.slice(0, 3).join(", ")}${discarded.length > 3 ? ", ..." : ""}); they were removed`);
  }
  return discarded;
}

/** Regular files under `root/rel`, `/`-separated and relative to `root`; anything else is refused. */
function filesUnder(root: string, rel: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, ...rel.split("/").filter(Boolean)))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(path.join(root, ...r.split("/")));
    if (st.isDirectory()) out.push(...filesUnder(root, r));
    else if (st.isFile()) out.push(r);
    else throw new HvbError("HyperVUnexpectedData", `The host's export wrote '${r}', which is neither a file nor a folder`, { category: "InvalidData", target: r });
  }
  return out;
}
