import * as fs from "node:fs";
import type { ByteRange, DiskType, VirtualDisk } from "../disk/mod";
import { HvbError } from "../base/mod";
import { fileSize, openFile, readAt, readFully, syncFile, truncateFile, writeFully } from "./_io";
import { VhdStructureError, vhdFormatError } from "./_errors";
import {
  BAT_UNUSED,
  DISK_TYPE_DIFFERENCING,
  DISK_TYPE_DYNAMIC,
  DISK_TYPE_FIXED,
  DYNAMIC_HEADER_SIZE,
  FOOTER_SIZE,
  MAX_CHAIN_DEPTH,
  MAX_LOCATOR_DATA,
  MiB,
  SECTOR_SIZE,
  roundUp,
} from "./_layout";
import { mergeRanges, pushRange } from "../base/mod";
import { type Bat, batByteSize, checkBat, parseBat, serializeBatEntry } from "./bat";
import { type VhdDynamicHeader, parseDynamicHeader } from "./dynamic_header";
import { type VhdFooter, parseFooter, serializeFooter } from "./footer";
import { parentCandidates } from "./parent_path";
import { bitmapByteSize, sectorRuns, setSectors } from "./sector_bitmap";

/** How to open a VHD. */
export interface VhdOpenOptions {
  /** Open this file for writing (its parents stay read-only). Default false. */
  writable?: boolean;
  /** For a differencing disk: use this file as the parent instead of the one its locators name. */
  parentPath?: string;
  /** Also open the direct parent for writing (what {@link mergeVhdIntoParent} needs). Default false. */
  parentWritable?: boolean;
}

interface ChainContext {
  /** Real paths of the children already open above this file, top first. */
  chain: string[];
}

interface ImageParts {
  path: string;
  fd: number;
  writable: boolean;
  footer: VhdFooter;
  header: VhdDynamicHeader | undefined;
  bat: Bat | undefined;
  nextFree: number;
  parent: VhdImage | undefined;
}

const BITMAP_CACHE_BYTES = 8 * MiB;
/** Writes to dynamic and differencing disks are widened to this many bytes (see write()). */
const WRITE_UNIT = 4096;

/**
 * A legacy VHD file (fixed, dynamic or differencing) opened for synchronous reads and, when
 * asked, writes. A differencing disk opens its whole parent chain, read-only.
 *
 * Writes keep the file valid after every call: a new block is written (bitmap and data) over
 * the old end-of-file footer, then the footer after it, then the BAT entry; a crash between
 * those steps leaves either an unreferenced block or a file whose only valid footer is the copy
 * at offset 0, which {@link VhdImage.open} accepts (and repairs when opened for writing).
 *
 * @example
 * const disk = VhdImage.open("base.vhd");
 * const buf = new Uint8Array(4096);
 * disk.read(buf, 0); // the first 4 KiB the guest sees
 * disk.close();
 */
export class VhdImage implements VirtualDisk {
  readonly path: string;
  readonly type: DiskType;
  readonly virtualSize: number;
  readonly logicalSectorSize = SECTOR_SIZE;
  readonly parent: VhdImage | undefined;
  /** The footer in use (the one at the end of the file, or the copy at offset 0 after a crash). */
  readonly footer: VhdFooter;
  /** The dynamic header of dynamic and differencing disks. */
  readonly header: VhdDynamicHeader | undefined;
  /** True when opened for writing. */
  readonly writable: boolean;

  #fd: number;
  #bat: Bat | undefined;
  #blockSize: number;
  #bitmapBytes: number;
  #nextFree: number;
  #bitmaps = new Map<number, Uint8Array>();
  #bitmapCacheMax: number;
  #closed = false;

  private constructor(p: ImageParts) {
    this.path = p.path;
    this.#fd = p.fd;
    this.writable = p.writable;
    this.footer = p.footer;
    this.header = p.header;
    this.#bat = p.bat;
    this.#nextFree = p.nextFree;
    this.parent = p.parent;
    this.virtualSize = p.footer.currentSize;
    this.type = p.footer.diskType === DISK_TYPE_FIXED ? "fixed" : p.footer.diskType === DISK_TYPE_DYNAMIC ? "dynamic" : "differencing";
    this.#blockSize = p.header?.blockSize ?? 0;
    this.#bitmapBytes = p.header ? bitmapByteSize(p.header.blockSize) : 0;
    this.#bitmapCacheMax = Math.max(16, Math.floor(BITMAP_CACHE_BYTES / Math.max(this.#bitmapBytes, 1)));
  }

  /**
   * Opens a VHD and, for a differencing disk, its parents. Throws {@link HvbError}
   * `VhdFormat` (InvalidData) for a damaged file, `VhdParentNotFound` or `VhdParentMismatch`
   * for a broken chain, `NotFound` when the file does not exist.
   */
  static open(path: string, options: VhdOpenOptions = {}): VhdImage {
    return VhdImage.#open(path, options, { chain: [] });
  }

  static #open(path: string, options: VhdOpenOptions, ctx: ChainContext): VhdImage {
    const writable = options.writable ?? false;
    const fd = openFile(path, writable ? "r+" : "r");
    let parent: VhdImage | undefined;
    try {
      const size = fileSize(fd, path);
      if (size < FOOTER_SIZE) throw vhdFormatError(path, `file is ${size} bytes, too short for a VHD footer (${FOOTER_SIZE} bytes)`);
      const { footer, atEnd } = readFooter(fd, path, size);
      if (footer.diskType === DISK_TYPE_FIXED) {
        if (size - FOOTER_SIZE < footer.currentSize) {
          throw vhdFormatError(path, `fixed disk is truncated: footer Current Size is ${footer.currentSize} bytes, but the file holds ${size - FOOTER_SIZE} bytes before the footer`);
        }
        return new VhdImage({ path, fd, writable, footer, header: undefined, bat: undefined, nextFree: 0, parent: undefined });
      }

      const dataOffset = footer.dataOffset!;
      if (dataOffset + DYNAMIC_HEADER_SIZE > size) {
        throw vhdFormatError(path, `footer Data Offset ${dataOffset} points past the end of the file (${size} bytes)`);
      }
      const header = parse(path, () => parseDynamicHeader(readAt(fd, path, DYNAMIC_HEADER_SIZE, dataOffset)));
      const blocksNeeded = Math.ceil(footer.currentSize / header.blockSize);
      if (header.maxTableEntries < blocksNeeded) {
        throw vhdFormatError(path, `dynamic header Max Table Entries is ${header.maxTableEntries}, but Current Size ${footer.currentSize} needs ${blocksNeeded} blocks of ${header.blockSize} bytes`);
      }
      const batBytes = header.maxTableEntries * 4;
      if (header.tableOffset + batBytes > size) {
        throw vhdFormatError(path, `dynamic header Table Offset ${header.tableOffset}: the BAT of ${batBytes} bytes ends past the end of the file (${size} bytes)`);
      }
      const bat = parse(path, () => parseBat(readAt(fd, path, batBytes, header.tableOffset), header.maxTableEntries));

      const reserved: ByteRange[] = [
        { offset: 0, length: FOOTER_SIZE },
        { offset: dataOffset, length: DYNAMIC_HEADER_SIZE },
        { offset: header.tableOffset, length: batByteSize(header.maxTableEntries) },
      ];
      const isDifferencing = footer.diskType === DISK_TYPE_DIFFERENCING;
      if (isDifferencing) {
        header.parentLocators.forEach((e, i) => {
          if (e.platformCode === "" || e.platformDataLength === 0) return;
          if (e.platformDataLength > MAX_LOCATOR_DATA || e.platformDataOffset + e.platformDataLength > size) {
            throw vhdFormatError(path, `parent locator ${i + 1} ('${e.platformCode}'): data of ${e.platformDataLength} bytes at offset ${e.platformDataOffset} is outside the file (${size} bytes) or longer than ${MAX_LOCATOR_DATA}`);
          }
          reserved.push({ offset: e.platformDataOffset, length: e.platformDataLength });
        });
      }
      const blockBytes = bitmapByteSize(header.blockSize) + header.blockSize;
      parse(path, () => checkBat(bat, { blockBytes, reserved, limit: atEnd ? size - FOOTER_SIZE : size }));

      let end = 0;
      for (const r of reserved) end = Math.max(end, r.offset + r.length);
      for (const e of bat) if (e !== BAT_UNUSED) end = Math.max(end, e * SECTOR_SIZE + blockBytes);
      let nextFree = roundUp(end, SECTOR_SIZE);
      if (atEnd) nextFree = Math.max(nextFree, roundUp(size - FOOTER_SIZE, SECTOR_SIZE));

      if (isDifferencing) parent = VhdImage.#openParent(path, header, fd, options, ctx);
      const image = new VhdImage({ path, fd, writable, footer, header, bat, nextFree, parent });
      if (writable && !atEnd) {
        // Repair after a crash during block allocation: drop the partial tail, rewrite the footer.
        truncateFile(fd, path, nextFree);
        writeFully(fd, path, serializeFooter(footer), nextFree);
        syncFile(fd, path);
      }
      return image;
    } catch (e) {
      parent?.close();
      fs.closeSync(fd);
      throw e;
    }
  }

  static #openParent(path: string, header: VhdDynamicHeader, fd: number, options: VhdOpenOptions, ctx: ChainContext): VhdImage {
    const chain = [...ctx.chain, realPath(path)];
    if (chain.length > MAX_CHAIN_DEPTH) {
      throw vhdFormatError(path, `differencing chain is deeper than ${MAX_CHAIN_DEPTH} files`);
    }
    let parentPath: string;
    if (options.parentPath !== undefined) {
      parentPath = options.parentPath;
    } else {
      const candidates = parentCandidates(path, header, (e) => readAt(fd, path, e.platformDataLength, e.platformDataOffset));
      const found = candidates.find((c) => fs.existsSync(c.path));
      if (!found) {
        const tried = candidates.length === 0 ? "the file names no parent" : `tried ${candidates.map((c) => `'${c.path}' (${c.source})`).join(", ")}`;
        throw new HvbError("VhdParentNotFound", `Cannot open '${path}': parent disk not found; ${tried}`, { category: "ObjectNotFound", target: path });
      }
      parentPath = found.path;
    }
    const parentReal = realPath(parentPath);
    if (chain.includes(parentReal)) {
      throw vhdFormatError(path, `differencing chain loops: parent '${parentPath}' is already in the chain (${chain.map((c) => `'${c}'`).join(" -> ")})`);
    }
    const parent = VhdImage.#open(parentPath, { writable: options.parentWritable ?? false }, { chain });
    if (parent.footer.uniqueId !== header.parentUniqueId) {
      parent.close();
      throw new HvbError(
        "VhdParentMismatch",
        `Cannot open '${path}': parent '${parentPath}' has footer Unique Id ${parent.footer.uniqueId}, but the child's dynamic header Parent Unique Id is ${header.parentUniqueId}`,
        { category: "InvalidData", target: path },
      );
    }
    return parent;
  }

  /** Reads guest data at `offset` through the whole chain. */
  read(buf: Uint8Array, offset: number): void {
    this.#check("read", offset, buf.length);
    if (buf.length === 0) return;
    if (this.#bat === undefined) {
      readFully(this.#fd, this.path, buf, offset);
      return;
    }
    this.#forEachBlock(offset, buf.length, (block, inBlock, at, len) => {
      this.#readInBlock(block, inBlock, buf.subarray(at, at + len), offset + at);
    });
  }

  /** Writes guest data at `offset` into this file. */
  write(buf: Uint8Array, offset: number): void {
    this.#check("write", offset, buf.length);
    if (!this.writable) {
      throw new HvbError("VhdReadOnly", `Cannot write '${this.path}': the disk is open read-only`, { category: "InvalidOperation", target: this.path });
    }
    if (buf.length === 0) return;
    if (this.#bat === undefined) {
      writeFully(this.#fd, this.path, buf, offset);
      return;
    }
    // Widen to whole 4 KiB units (8 sectors = one bitmap byte), filling the edges with the
    // current data, so every bitmap byte we write is 0x00 or 0xFF. The spec allows any sector
    // pattern, but libvhdi 20210425 misreads a byte whose set bits are followed by clear bits
    // (it reads the rest of that byte from the child), and Hyper-V itself works in 4 KiB units.
    const unit = Math.min(WRITE_UNIT, this.#blockSize);
    const start = Math.floor(offset / unit) * unit;
    const end = Math.min(roundUp(offset + buf.length, unit), this.virtualSize);
    let data = buf;
    if (start !== offset || end !== offset + buf.length) {
      data = new Uint8Array(end - start);
      if (start !== offset) this.read(data.subarray(0, Math.min(unit, end - start)), start);
      if (end !== offset + buf.length) {
        const tail = Math.floor((offset + buf.length) / unit) * unit;
        this.read(data.subarray(tail - start), tail);
      }
      data.set(buf, offset - start);
    }
    this.#forEachBlock(start, data.length, (block, inBlock, at, len) => {
      this.#writeInBlock(block, inBlock, data.subarray(at, at + len));
    });
  }

  /** Byte ranges not known to be zero: allocated sectors of this file, or of the whole chain. */
  dataRanges(scope: "file" | "chain", offset = 0, length = this.virtualSize - offset): ByteRange[] {
    this.#check("read", offset, length);
    const own: ByteRange[] = [];
    if (length === 0) return own;
    if (this.#bat === undefined) {
      own.push({ offset, length });
    } else {
      this.#forEachBlock(offset, length, (block, inBlock, at, len) => {
        const entry = this.#bat![block]!;
        if (entry === BAT_UNUSED) return;
        const bitmap = this.#bitmap(block);
        const blockBase = offset + at - inBlock;
        const first = Math.floor(inBlock / SECTOR_SIZE);
        const last = Math.ceil((inBlock + len) / SECTOR_SIZE);
        for (const run of sectorRuns(bitmap, first, last - first)) {
          if (!run.set) continue;
          const s = Math.max(run.first * SECTOR_SIZE, inBlock);
          const e = Math.min((run.first + run.count) * SECTOR_SIZE, inBlock + len);
          pushRange(own, blockBase + s, e - s);
        }
      });
    }
    if (scope === "file" || this.parent === undefined) return own;
    const parentLen = Math.max(0, Math.min(offset + length, this.parent.virtualSize) - offset);
    if (parentLen === 0) return own;
    return mergeRanges([...own, ...this.parent.dataRanges("chain", offset, parentLen)]);
  }

  /** Flushes this file to stable storage. */
  flush(): void {
    if (this.#closed) return;
    if (this.writable) syncFile(this.#fd, this.path);
  }

  /** Flushes and closes this file and its parents. Calling it twice is harmless. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      fs.closeSync(this.#fd);
      this.parent?.close();
    }
  }

  #check(action: "read" | "write", offset: number, length: number): void {
    if (this.#closed) {
      throw new HvbError("VhdClosed", `Cannot ${action} '${this.path}': the disk is closed`, { category: "InvalidOperation", target: this.path });
    }
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.virtualSize) {
      throw new HvbError(
        "VhdRange",
        `Cannot ${action} '${this.path}': range [${offset}, ${offset + length}) is outside the virtual disk of ${this.virtualSize} bytes`,
        { category: "InvalidArgument", target: this.path },
      );
    }
  }

  /** Calls `fn` for each block touched by `[offset, offset + length)`; `at` is the position in the request. */
  #forEachBlock(offset: number, length: number, fn: (block: number, inBlock: number, at: number, len: number) => void): void {
    const bs = this.#blockSize;
    let at = 0;
    while (at < length) {
      const pos = offset + at;
      const block = Math.floor(pos / bs);
      const inBlock = pos - block * bs;
      const len = Math.min(bs - inBlock, length - at);
      fn(block, inBlock, at, len);
      at += len;
    }
  }

  #readInBlock(block: number, inBlock: number, out: Uint8Array, virtualOffset: number): void {
    const entry = this.#bat![block]!;
    if (entry === BAT_UNUSED) {
      this.#readAbsent(out, virtualOffset);
      return;
    }
    const dataStart = entry * SECTOR_SIZE + this.#bitmapBytes;
    const bitmap = this.#bitmap(block);
    const first = Math.floor(inBlock / SECTOR_SIZE);
    const last = Math.ceil((inBlock + out.length) / SECTOR_SIZE);
    for (const run of sectorRuns(bitmap, first, last - first)) {
      const s = Math.max(run.first * SECTOR_SIZE, inBlock);
      const e = Math.min((run.first + run.count) * SECTOR_SIZE, inBlock + out.length);
      const part = out.subarray(s - inBlock, e - inBlock);
      if (run.set) readFully(this.#fd, this.path, part, dataStart + s);
      else this.#readAbsent(part, virtualOffset + (s - inBlock));
    }
  }

  /** Data not in this file: the parent's for a differencing disk (zeros past its end), else zeros. */
  #readAbsent(out: Uint8Array, virtualOffset: number): void {
    if (this.parent === undefined) {
      out.fill(0);
      return;
    }
    const inParent = Math.max(0, Math.min(out.length, this.parent.virtualSize - virtualOffset));
    if (inParent > 0) this.parent.read(out.subarray(0, inParent), virtualOffset);
    out.fill(0, inParent);
  }

  #writeInBlock(block: number, inBlock: number, data: Uint8Array): void {
    const entry = this.#bat![block]!;
    const firstSector = inBlock / SECTOR_SIZE;
    const count = data.length / SECTOR_SIZE;
    if (entry === BAT_UNUSED) {
      this.#allocate(block, firstSector, data);
      return;
    }
    const blockStart = entry * SECTOR_SIZE;
    // Data first, then the bitmap bits that make it visible.
    writeFully(this.#fd, this.path, data, blockStart + this.#bitmapBytes + inBlock);
    const bitmap = this.#bitmap(block);
    if (setSectors(bitmap, firstSector, count)) {
      const from = Math.floor(firstSector / 8 / SECTOR_SIZE) * SECTOR_SIZE;
      const to = Math.min(roundUp(Math.ceil((firstSector + count) / 8), SECTOR_SIZE), this.#bitmapBytes);
      writeFully(this.#fd, this.path, bitmap.subarray(from, to), blockStart + from);
    }
  }

  /**
   * Allocates `block` at the end of the file: bitmap and data over the old footer, the footer
   * after the block, then the BAT entry. Sectors not written are marked absent in the bitmap.
   * The rest of the block needs no zeroing: the file never extends more than one footer past
   * `#nextFree` (open() repairs or places `#nextFree` at the footer), and the bitmap (at least
   * 512 bytes) covers that footer, so the data area lies past the old end of file and reads as
   * zeros (a hole on sparse file systems).
   */
  #allocate(block: number, firstSector: number, data: Uint8Array): void {
    const blockStart = this.#nextFree;
    const sector = blockStart / SECTOR_SIZE;
    if (sector >= BAT_UNUSED) {
      throw new HvbError("VhdFull", `Cannot write '${this.path}': the file would grow past what a 32-bit BAT sector number addresses (2 TiB)`, {
        category: "WriteError",
        target: this.path,
      });
    }
    const bitmap = new Uint8Array(this.#bitmapBytes);
    setSectors(bitmap, firstSector, data.length / SECTOR_SIZE);
    const blockEnd = blockStart + this.#bitmapBytes + this.#blockSize;
    writeFully(this.#fd, this.path, bitmap, blockStart);
    const dataAt = blockStart + this.#bitmapBytes + firstSector * SECTOR_SIZE;
    writeFully(this.#fd, this.path, data, dataAt);
    writeFully(this.#fd, this.path, serializeFooter(this.footer), blockEnd);
    writeFully(this.#fd, this.path, serializeBatEntry(sector), this.header!.tableOffset + block * 4);
    this.#bat![block] = sector;
    this.#nextFree = blockEnd;
    this.#remember(block, bitmap);
  }

  #bitmap(block: number): Uint8Array {
    const cached = this.#bitmaps.get(block);
    if (cached) return cached;
    const bitmap = readAt(this.#fd, this.path, this.#bitmapBytes, this.#bat![block]! * SECTOR_SIZE);
    this.#remember(block, bitmap);
    return bitmap;
  }

  #remember(block: number, bitmap: Uint8Array): void {
    if (this.#bitmaps.size >= this.#bitmapCacheMax) {
      const oldest = this.#bitmaps.keys().next().value;
      if (oldest !== undefined) this.#bitmaps.delete(oldest);
    }
    this.#bitmaps.set(block, bitmap);
  }
}

function readFooter(fd: number, path: string, size: number): { footer: VhdFooter; atEnd: boolean } {
  try {
    return { footer: parseFooter(readAt(fd, path, FOOTER_SIZE, size - FOOTER_SIZE)), atEnd: true };
  } catch (e) {
    if (!(e instanceof VhdStructureError)) throw e;
    // A dynamic disk whose last write was interrupted keeps a valid footer copy at offset 0.
    try {
      const copy = parseFooter(readAt(fd, path, FOOTER_SIZE, 0));
      if (copy.diskType !== DISK_TYPE_FIXED) return { footer: copy, atEnd: false };
    } catch {
      // fall through to the error about the footer at the end
    }
    throw vhdFormatError(path, e.message, e);
  }
}

function parse<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof VhdStructureError) throw vhdFormatError(path, e.message, e);
    throw e;
  }
}

function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
