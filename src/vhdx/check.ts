import { HvbError } from "../base/mod";
import { VhdxImage } from "./vhdx_image";

/** Result of a structural check of one VHDX file and its chain. */
export interface VhdxCheckReport {
  path: string;
  ok: boolean;
  /** One line per problem, naming the structure and field. */
  problems: string[];
}

/**
 * Validates a VHDX file: file identifier, headers, log, region tables, metadata, every BAT
 * entry (state valid for the file type, block inside the file, no overlaps) and, for a
 * differencing file, that its parent chain opens with matching `parent_linkage`.
 */
export function checkVhdx(path: string, options: { parentPath?: string } = {}): VhdxCheckReport {
  const problems: string[] = [];
  let image: VhdxImage | undefined;
  try {
    image = VhdxImage.open(path, options.parentPath !== undefined ? { parentPath: options.parentPath } : {});
    for (const d of image.chain()) {
      // Name the file each problem is in, as every other VHDX error does.
      for (const p of d.checkBat()) problems.push(`Invalid VHDX file '${d.path}': ${d === image ? "" : "parent in the chain: "}${p}`);
    }
  } catch (e) {
    if (e instanceof HvbError) problems.push(e.message);
    else throw e;
  } finally {
    image?.close();
  }
  return { path, ok: problems.length === 0, problems };
}
