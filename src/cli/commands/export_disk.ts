import * as path from "node:path";
import { flattenPointDisk } from "../../engine/mod";
import { requireRestorable, selectPoint } from "../../engine/mod";
import { HvbError } from "../../base/mod";
import { Repository } from "../../repository/mod";
import { parseArgs, parseInteger, requireOption } from "../args";
import { eventOutput } from "../event_output";
import { formatBytes } from "../format";
import type { CommandIo } from "../io";

/** `hvbackup export-disk --repo R --vm N --point ID --disk I --out FILE.vhdx`: one disk as a standalone VHDX. */
export function exportDiskCommand(argv: string[], io: CommandIo): number {
  const args = parseArgs(argv, { values: ["repo", "vm", "point", "disk", "out", "lab"], flags: ["json", "clear-stale-lock"] });
  const out = eventOutput(io, args.flags.has("json"));
  const repo = new Repository(requireOption(args, "repo"));
  repo.requireExists();
  const store = repo.findVm(requireOption(args, "vm"));
  const file = requireOption(args, "out");
  if (!/\.vhdx$/i.test(file)) throw new HvbError("Usage", `--out must name a .vhdx file, got '${file}'`, { category: "InvalidArgument", target: file });
  const lock = store.lock("export-disk", { clearStale: args.flags.has("clear-stale-lock") });
  try {
    const catalog = store.readCatalog();
    const point = selectPoint(catalog, requireOption(args, "point"));
    const disk = parseInteger(requireOption(args, "disk"), "--disk");
    requireRestorable(store, catalog, point.id);
    const r = flattenPointDisk(store, catalog, point, disk, path.resolve(file), (d, t) => out.progress({ activity: `Exporting disk ${disk} of ${point.id}`, percent: Math.floor((d / Math.max(t, 1)) * 100) }));
    out.result({ pointId: point.id, disk, ...r }, `Exported disk ${disk} of ${catalog.vmName} ${point.id} to ${file} (${formatBytes(r.virtualSize)} virtual, every block checked)`);
    return 0;
  } finally {
    lock.release();
  }
}
