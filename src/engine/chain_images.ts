import * as path from "node:path";
import { VhdxImage } from "../vhdx/mod";

/**
 * The disk images a `verify --deep` of one VM reads through, each chain opened once.
 *
 * Why: every point is read back through its own chain, and opening point k opened the k files
 * below it again (header, log, regions, metadata, BAT pages, a realpath per level), so a VM with
 * n points opened n(n+1)/2 files: 78 for 12 points, 20,000 for 200. Opened from the newest
 * point, one chain holds every older point's file as an ancestor, already checked against its
 * child (parent linkage, size, sector size): each point's deep check uses that ancestor, read
 * exactly as if it had been opened on its own.
 *
 * A file that is not in a chain opened here (another full's chain, a parent locator leading
 * elsewhere, a newest file that does not open) is opened on its own, as before. Images stay open
 * until {@link close}: as many as a restore of the newest point holds.
 */
export class ChainImages {
  readonly #byFile = new Map<string, VhdxImage>();
  readonly #tops: VhdxImage[] = [];
  readonly #tried = new Set<string>();

  /**
   * The image of `file` with its chain. `newest`, when given, is the same disk's file in the
   * newest point, opened first (once) so that `file` is found among its ancestors; a newest file
   * that fails to open is left for its own point's check to report.
   */
  imageFor(file: string, newest?: string): VhdxImage {
    if (newest !== undefined && !this.#tried.has(path.resolve(newest))) {
      this.#tried.add(path.resolve(newest));
      try {
        this.#register(VhdxImage.open(newest));
      } catch {
        // Reported when the newest point itself is checked (opened on its own then).
      }
    }
    const found = this.#byFile.get(path.resolve(file));
    if (found) return found;
    const image = VhdxImage.open(file);
    this.#register(image);
    return image;
  }

  /** Closes every chain opened (each image once, with its parents). */
  close(): void {
    for (const top of this.#tops.splice(0)) top.close();
    this.#byFile.clear();
  }

  #register(top: VhdxImage): void {
    this.#tops.push(top);
    for (const image of top.chain()) {
      const key = path.resolve(image.path);
      if (!this.#byFile.has(key)) this.#byFile.set(key, image);
    }
  }
}
