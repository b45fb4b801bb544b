import type { FileIo } from "./file_io";
import { LOG_SECTOR_SIZE } from "./_layout";

/** Size of a cached metadata page: one log sector, the unit the log writes. */
export const PAGE = LOG_SECTOR_SIZE;

/**
 * Metadata pages (4 KiB of BAT or sector bitmap) kept in memory at most, when clean: 4 MiB per
 * open file, which covers 512 GiB of disk at 1 MiB blocks. (16 MiB per file made a 2 TiB disk
 * with 1 MiB blocks peak 1.75x higher than a 1 GiB one in a VHDX-to-VHDX convert.)
 */
const MAX_CACHED_PAGES = 1024;

/**
 * The 4 KiB metadata pages (BAT, sector bitmaps, metadata region) of one open file, cached in
 * LRU order; dirty pages stay in memory until the log writer has committed them.
 */
export class MetadataPages {
  #io: FileIo;
  #pages = new Map<number, Buffer>();
  #dirty = new Set<number>();

  constructor(io: FileIo) {
    this.#io = io;
  }

  /** A 4 KiB metadata page (BAT or sector bitmap), cached; dirty pages stay until committed. */
  page(pageOffset: number, what: string): Buffer {
    let page = this.#pages.get(pageOffset);
    if (page) {
      this.#pages.delete(pageOffset);
      this.#pages.set(pageOffset, page);
      return page;
    }
    // A full cache gives up its least recently used clean page, whose buffer holds the new one:
    // a pass over a 16 MiB BAT then makes no garbage (fresh 4 KiB buffers for every page made a
    // 2 TiB disk with 1 MiB blocks peak 40 MiB above a 1 GiB one before the collector ran). Safe
    // because no caller keeps a clean page across a call of page() (dirty ones are never evicted).
    // (Beyond the limit, which dirty pages can push it past, clean pages are dropped until under it.)
    while (this.#pages.size > MAX_CACHED_PAGES && this.#evictOne() !== undefined);
    page = (this.#pages.size >= MAX_CACHED_PAGES ? this.#evictOne() : undefined) ?? Buffer.alloc(PAGE);
    if (!this.#io.holds(pageOffset + PAGE)) page.fill(0); // allocated, not yet written
    else this.#io.readInto(page, pageOffset, what);
    this.#pages.set(pageOffset, page);
    return page;
  }

  /** Removes the least recently used clean page and returns its buffer (none when all are dirty). */
  #evictOne(): Buffer | undefined {
    for (const [key, buf] of this.#pages) {
      if (this.#dirty.has(key)) continue;
      this.#pages.delete(key);
      return buf;
    }
    return undefined;
  }

  /** Marks the page at `pageOffset` (already loaded with {@link page}) as changed. */
  markDirty(pageOffset: number): void {
    this.#dirty.add(pageOffset);
  }

  /** How many pages wait to be committed. */
  get dirtyCount(): number {
    return this.#dirty.size;
  }

  /** File offsets of the pages waiting to be committed, ascending. */
  dirtyOffsets(): number[] {
    return [...this.#dirty].sort((a, b) => a - b);
  }

  /** The cached bytes of a dirty page (dirty pages are never evicted). */
  dirtyPage(pageOffset: number): Buffer {
    return this.#pages.get(pageOffset)!;
  }

  /** Marks a page as committed: it may be evicted again. */
  markClean(pageOffset: number): void {
    this.#dirty.delete(pageOffset);
  }
}
