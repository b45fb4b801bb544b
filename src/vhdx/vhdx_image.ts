import type { ByteRange, DiskType, VirtualDisk } from "../disk/mod";
import { type BatGeometry, batGeometry, bitmapIndex, entryOffset, entryState, makeEntry, payloadIndex } from "./bat";
import { checkBatEntries } from "./bat_check";
import { openParent } from "./chain";
import { StructureError, VhdxFormatError } from "./errors";
import { FileIo } from "./file_io";
import { NIL_GUID, newGuid } from "./guid";
import type { VhdxHeader } from "./header";
import { readCurrentHeader } from "./header_read";
import { type Extent, type SectorRun, mapExtents } from "./extent_map";
import { alignUp, replayOpenLog } from "./log_replay";
import { LogWriter } from "./log_writer";
import { MetadataPages, PAGE } from "./metadata_pages";
import type { MetadataEntry } from "./metadata_table";
import { readMetadataValues } from "./metadata_values";
import type { ParentLocatorEntries } from "./parent_locator";
import { readRegions } from "./region_read";
import type { RegionEntry } from "./region_table";
import { maxWritesPerEntry } from "./log";
import {
  HEADER_SECTION_SIZE,
  MiB,
  PAYLOAD_FULLY_PRESENT,
  PAYLOAD_NOT_PRESENT,
  PAYLOAD_PARTIALLY_PRESENT,
  PAYLOAD_UNDEFINED,
  PAYLOAD_UNMAPPED,
  PAYLOAD_UNMAPPED_V095,
  PAYLOAD_ZERO,
  SB_PRESENT,
} from "./_layout";

/*
 * The image class keeps reads, writes and block allocation; the log's write path is in
 * log_writer.ts, replay in log_replay.ts, the page cache in metadata_pages.ts, metadata values
 * in metadata_values.ts, regions in region_read.ts, parents in chain.ts, BAT checks in
 * bat_check.ts, extent mapping in extent_map.ts, header choice in header_read.ts. Still about
 * 640 lines: read, write, locate (the copy pipeline's block map) and sector-bitmap paths share
 * the private BAT/page state and are clearest kept together.
 */

/** How to open a VHDX file. */
export interface VhdxOpenOptions {
  /** Open for writing (guest writes, merges). Parents are always opened read-only. */
  writable?: boolean;
  /** Use this file as the parent instead of resolving the parent locator. */
  parentPath?: string;
  /**
   * Open a differencing file on its own, without its parent: reads of sectors the file does not
   * hold fail. Used by merges, which only need the file's own data.
   */
  noParent?: boolean;
  /** @internal Real paths of the files of the chain from its top down to this one (this one's included), to detect loops. */
  chainSeen?: Set<string>;
}

export type { Extent, ExtentKind } from "./extent_map";

/** A run of guest bytes and where they are stored (see {@link VhdxImage.locate}). */
export interface PhysicalRun {
  /** Guest offset of the run. */
  offset: number;
  length: number;
  /** Open descriptor of the file holding the bytes, or -1: the run reads as zeros. */
  fd: number;
  /** Where the run starts in that file (0 for zeros). */
  fileOffset: number;
  /** The file's path, for messages ("" for zeros). */
  path: string;
}

/**
 * An open VHDX file (MS-VHDX): fixed, dynamic or differencing, with its parent chain.
 *
 * Reads go through the chain at sector granularity. Writes allocate 1 MiB-aligned blocks at the
 * end of the file, write data first and commit BAT and sector-bitmap changes through the log,
 * so a crash at any moment leaves a file that opens with either the old or the new metadata.
 *
 * @example
 * const disk = VhdxImage.open("web01.avhdx");
 * const buf = new Uint8Array(4096);
 * disk.read(buf, 0); // first 4 KiB as the guest sees them
 * disk.close();
 */
export class VhdxImage implements VirtualDisk {
  readonly path: string;
  readonly type: DiskType;
  readonly virtualSize: number;
  readonly blockSize: number;
  readonly logicalSectorSize: number;
  readonly physicalSectorSize: number;
  /** The Page 83 identifier: what Hyper-V calls the VirtualDiskId. */
  readonly virtualDiskId: string;
  /** Parent locator key/values of a differencing file, else undefined. */
  readonly parentLocator: ParentLocatorEntries | undefined;
  readonly parent: VhdxImage | undefined;
  /** LeaveBlockAllocated: the file is fully provisioned (fixed). */
  readonly leaveBlockAllocated: boolean;
  readonly geometry: BatGeometry;
  readonly regions: { bat: RegionEntry; metadata: RegionEntry };
  readonly metadataEntries: readonly MetadataEntry[];
  /** Whether a log had to be replayed when the file was opened. */
  readonly replayedLog: boolean;

  #io: FileIo;
  /** Headers, sessions and commits through the log. */
  #log: LogWriter;
  /** Cached BAT and sector-bitmap pages; the dirty ones wait for the next commit. */
  #pages: MetadataPages;
  #fileEnd = 0;
  #closed = false;

  private constructor(init: {
    io: FileIo;
    header: VhdxHeader;
    headerSlot: 0 | 1;
    regions: { bat: RegionEntry; metadata: RegionEntry };
    metadataEntries: MetadataEntry[];
    blockSize: number;
    leaveBlockAllocated: boolean;
    hasParent: boolean;
    virtualSize: number;
    logicalSectorSize: number;
    physicalSectorSize: number;
    virtualDiskId: string;
    parentLocator: ParentLocatorEntries | undefined;
    parent: VhdxImage | undefined;
    replayedLog: boolean;
    logPosition: number;
    logSequence: bigint;
  }) {
    this.#io = init.io;
    this.path = init.io.path;
    this.#log = new LogWriter(init);
    this.#pages = new MetadataPages(init.io);
    this.regions = init.regions;
    this.metadataEntries = init.metadataEntries;
    this.blockSize = init.blockSize;
    this.leaveBlockAllocated = init.leaveBlockAllocated;
    this.virtualSize = init.virtualSize;
    this.logicalSectorSize = init.logicalSectorSize;
    this.physicalSectorSize = init.physicalSectorSize;
    this.virtualDiskId = init.virtualDiskId;
    this.parentLocator = init.parentLocator;
    this.parent = init.parent;
    this.replayedLog = init.replayedLog;
    this.type = init.hasParent ? "differencing" : init.leaveBlockAllocated ? "fixed" : "dynamic";
    this.geometry = batGeometry(init.virtualSize, init.blockSize, init.logicalSectorSize, init.hasParent);
    const batNeeded = this.geometry.totalEntries * 8;
    if (batNeeded > init.regions.bat.length) {
      throw new VhdxFormatError(this.path, "BAT region", `is ${init.regions.bat.length} bytes, the disk needs ${batNeeded} for ${this.geometry.totalEntries} entries`);
    }
    this.#fileEnd = alignUp(Math.max(init.io.size(), HEADER_SECTION_SIZE), MiB);
  }

  /** The current header's DataWriteGuid: what a child's `parent_linkage` must name. */
  get dataWriteGuid(): string {
    return this.#log.header.dataWriteGuid;
  }

  /** The current header's FileWriteGuid. */
  get fileWriteGuid(): string {
    return this.#log.header.fileWriteGuid;
  }

  /** The current header (a copy). */
  get header(): Readonly<VhdxHeader> {
    return { ...this.#log.header };
  }

  /** This file and its ancestors, child first. */
  chain(): VhdxImage[] {
    const out: VhdxImage[] = [];
    for (let d: VhdxImage | undefined = this; d; d = d.parent) out.push(d);
    return out;
  }

  /**
   * Opens a VHDX file: file identifier, both headers, log (replayed: in place when writable,
   * in memory otherwise), region tables, metadata, and for a differencing file its parent chain
   * with the `parent_linkage` check.
   */
  static open(path: string, options: VhdxOpenOptions = {}): VhdxImage {
    const writable = options.writable ?? false;
    const io = new FileIo(path, writable);
    try {
      return VhdxImage.#openIo(io, options);
    } catch (e) {
      io.close();
      if (e instanceof StructureError) throw new VhdxFormatError(path, e.structure, e.detail);
      throw e;
    }
  }

  static #openIo(io: FileIo, options: VhdxOpenOptions): VhdxImage {
    const { header, slot } = readCurrentHeader(io);
    const log = replayOpenLog(io, header);

    const regions = readRegions(io);
    const meta = readMetadataValues(io, regions.metadata);
    const image = new VhdxImage({
      io,
      header,
      headerSlot: slot,
      regions,
      metadataEntries: meta.entries,
      blockSize: meta.blockSize,
      leaveBlockAllocated: meta.leaveBlockAllocated,
      hasParent: meta.hasParent,
      virtualSize: meta.virtualSize,
      logicalSectorSize: meta.logicalSectorSize,
      physicalSectorSize: meta.physicalSectorSize,
      virtualDiskId: meta.virtualDiskId,
      parentLocator: meta.parentLocator,
      parent: undefined,
      replayedLog: log.replayed,
      logPosition: log.logPosition,
      logSequence: log.logSequence,
    });
    if (log.replayed && io.writable) {
      // The replayed state is now on disk; mark the log empty so it is never replayed again.
      // (Not a session: the next change still starts one, with fresh GUIDs.)
      image.#log.writeHeader({ ...image.#log.header, logGuid: NIL_GUID, fileWriteGuid: newGuid() });
    }
    if (meta.hasParent && !options.noParent) {
      // On failure open() closes `io`; closing it here too would close the descriptor twice
      // (EBADF hiding the real error, or closing a file that reused the number).
      (image as { parent: VhdxImage | undefined }).parent = openParent(image, options, (p, o) => VhdxImage.open(p, o));
    }
    return image;
  }

  /** Reads `buf.length` bytes of guest-visible data at `offset`, through the whole chain. */
  read(buf: Uint8Array, offset: number): void {
    this.#checkRange(offset, buf.length, "read");
    let done = 0;
    while (done < buf.length) {
      const pos = offset + done;
      const block = Math.floor(pos / this.blockSize);
      const inBlock = pos - block * this.blockSize;
      const len = Math.min(buf.length - done, this.blockSize - inBlock);
      this.#readInBlock(buf.subarray(done, done + len), block, inBlock);
      done += len;
    }
  }

  #readInBlock(out: Uint8Array, block: number, inBlock: number): void {
    const entry = this.#batEntry(payloadIndex(this.geometry, block));
    const state = entryState(entry);
    const virtualPos = block * this.blockSize + inBlock;
    switch (state) {
      case PAYLOAD_FULLY_PRESENT:
        this.#io.readInto(out, this.#blockFileOffset(entry, block) + inBlock, `payload block ${block}`);
        return;
      case PAYLOAD_NOT_PRESENT:
        if (this.type === "differencing") this.#readParent(out, virtualPos);
        else out.fill(0);
        return;
      case PAYLOAD_ZERO:
      case PAYLOAD_UNMAPPED:
      case PAYLOAD_UNMAPPED_V095:
      case PAYLOAD_UNDEFINED:
        out.fill(0);
        return;
      case PAYLOAD_PARTIALLY_PRESENT: {
        if (this.type !== "differencing") {
          throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, "state PARTIALLY_PRESENT is only valid in a differencing file");
        }
        const fileOffset = this.#blockFileOffset(entry, block);
        const lss = this.logicalSectorSize;
        const endSector = Math.ceil((virtualPos + out.length) / lss);
        let i = 0;
        while (i < out.length) {
          const sector = Math.floor((virtualPos + i) / lss);
          // The whole run of sectors with the same bitmap bit, read or fetched in one go.
          const run = this.#sectorRun(sector, endSector - sector);
          const end = Math.min((sector + run.count) * lss - virtualPos, out.length);
          const part = out.subarray(i, end);
          if (run.present) this.#io.readInto(part, fileOffset + inBlock + i, `payload block ${block}`);
          else this.#readParent(part, virtualPos + i);
          i = end;
        }
        return;
      }
      default:
        throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, `state ${state} is not a valid payload block state`);
    }
  }

  #readParent(out: Uint8Array, virtualPos: number): void {
    if (!this.parent) {
      throw new VhdxFormatError(this.path, "parent", "data lives in the parent, but the file was opened without it", "VhdxParentMissing");
    }
    this.parent.read(out, virtualPos);
  }

  /** File offset of a present payload block, checked against the end of the file. */
  #blockFileOffset(entry: bigint, block: number): number {
    const off = entryOffset(entry);
    if (off < HEADER_SECTION_SIZE) {
      throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, `FileOffsetMB points into the header section (${off})`);
    }
    // The last block of a disk whose size is not a multiple of the block size may end where the
    // disk does: qemu's fixed images stop the file there.
    const needed = off + this.#blockBytes(block);
    if (!this.#io.holds(needed) && !(this.#io.writable && needed <= this.#fileEnd)) {
      throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, `block at ${off} lies past the end of the ${this.#io.size()}-byte file`, "VhdxTruncated");
    }
    return off;
  }

  /** Bytes of payload block `block` that lie inside the virtual disk (less for a short last block). */
  #blockBytes(block: number): number {
    return Math.min(this.blockSize, this.virtualSize - block * this.blockSize);
  }

  /**
   * Whether logical sector `sector` (disk-wide index) is present in this file per its bitmap,
   * and how many sectors from it (1 to `maxCount`, within its chunk) have the same bit. The
   * bitmap entry is checked once per call and whole bytes of equal bits are skipped at once:
   * restore and verify map every partially present block of a chain, and a lookup (BAT entry,
   * page cache, file size) per 512-byte sector was most of their main thread's time.
   */
  #sectorRun(sector: number, maxCount: number): SectorRun {
    const perChunk = 2 ** 23;
    const chunk = Math.floor(sector / perChunk);
    const first = sector - chunk * perChunk;
    const sb = this.#batEntry(bitmapIndex(this.geometry, chunk));
    if (entryState(sb) !== SB_PRESENT) {
      throw new VhdxFormatError(this.path, `sector bitmap entry of chunk ${chunk}`, `state is ${entryState(sb)}, but a payload block of the chunk is PARTIALLY_PRESENT`);
    }
    const sbOffset = entryOffset(sb);
    if (sbOffset < HEADER_SECTION_SIZE || (sbOffset + MiB > this.#fileEnd && !this.#io.holds(sbOffset + MiB))) {
      throw new VhdxFormatError(this.path, `sector bitmap entry of chunk ${chunk}`, `bitmap block at ${sbOffset} lies outside the file`);
    }
    const what = `sector bitmap of chunk ${chunk}`;
    const limit = Math.min(maxCount, perChunk - first);
    let pageIndex = Math.floor((first >>> 3) / PAGE);
    let page = this.#pages.page(sbOffset + pageIndex * PAGE, what);
    const bitOf = (bit: number): number => (page[(bit >>> 3) % PAGE]! >> (bit & 7)) & 1;
    const present = bitOf(first);
    const same = present === 1 ? 0xff : 0;
    let count = 1;
    while (count < limit) {
      const bit = first + count;
      const p = Math.floor((bit >>> 3) / PAGE);
      if (p !== pageIndex) {
        // The next page of the bitmap; the previous one is not used again (see MetadataPages.page).
        pageIndex = p;
        page = this.#pages.page(sbOffset + p * PAGE, what);
      }
      if ((bit & 7) === 0 && count + 8 <= limit && page[(bit >>> 3) % PAGE] === same) {
        count += 8;
        continue;
      }
      if (bitOf(bit) !== present) break;
      count++;
    }
    return { present: present === 1, count };
  }

  /**
   * What this file holds for `[offset, offset+length)`: its own data, zeros (which, in a
   * differencing file, hide the parent) or "parent" (look further down the chain; plain
   * unallocated space in a dynamic file reads as zeros and is reported as "zero").
   */
  extents(offset = 0, length = this.virtualSize - offset): Extent[] {
    this.#checkRange(offset, length, "map");
    return mapExtents(
      {
        path: this.path,
        type: this.type,
        blockSize: this.blockSize,
        virtualSize: this.virtualSize,
        logicalSectorSize: this.logicalSectorSize,
        blockState: (block) => entryState(this.#batEntry(payloadIndex(this.geometry, block))),
        sectorRun: (sector, maxCount) => this.#sectorRun(sector, maxCount),
      },
      { offset, length },
    );
  }

  /**
   * Where the guest bytes of `[offset, offset+length)` live, resolved through the chain: runs of
   * one file (its open descriptor and the file offset) or zeros, each byte from the newest file
   * that holds it. Lets the copy pipeline read what {@link read} returns with plain positional
   * reads on other threads of this process (descriptors are process-wide), while this image
   * stays open.
   */
  locate(offset = 0, length = this.virtualSize - offset): PhysicalRun[] {
    this.#checkRange(offset, length, "map");
    const out: PhysicalRun[] = [];
    const push = (r: PhysicalRun): void => {
      const last = out[out.length - 1];
      if (last && last.fd === r.fd && last.offset + last.length === r.offset && (r.fd < 0 || last.fileOffset + last.length === r.fileOffset)) last.length += r.length;
      else out.push(r);
    };
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      const block = Math.floor(pos / this.blockSize);
      const blockStart = block * this.blockSize;
      const segEnd = Math.min(blockStart + this.blockSize, end);
      for (const e of this.extents(pos, segEnd - pos)) {
        if (e.kind === "zero") push({ offset: e.offset, length: e.length, fd: -1, fileOffset: 0, path: "" });
        else if (e.kind === "data") {
          const at = this.#blockFileOffset(this.#batEntry(payloadIndex(this.geometry, block)), block);
          push({ offset: e.offset, length: e.length, fd: this.#io.fd, fileOffset: at + (e.offset - blockStart), path: this.path });
        } else if (this.parent) for (const r of this.parent.locate(e.offset, e.length)) push({ ...r });
        else throw new VhdxFormatError(this.path, "parent", "data lives in the parent, but the file was opened without it", "VhdxParentMissing");
      }
      pos = segEnd;
    }
    return out;
  }

  /** Ranges that may hold non-zero data, in this file only or anywhere in the chain. */
  dataRanges(scope: "file" | "chain", offset = 0, length = this.virtualSize - offset): ByteRange[] {
    const out: ByteRange[] = [];
    const push = (o: number, l: number): void => {
      const last = out[out.length - 1];
      if (last && last.offset + last.length === o) last.length += l;
      else out.push({ offset: o, length: l });
    };
    for (const e of this.extents(offset, length)) {
      if (e.kind === "data") push(e.offset, e.length);
      else if (e.kind === "parent" && scope === "chain" && this.parent) {
        for (const r of this.parent.dataRanges("chain", e.offset, e.length)) push(r.offset, r.length);
      }
    }
    return out;
  }

  /** Writes guest data at `offset` (any byte range; partial sectors are read-modify-written). */
  write(buf: Uint8Array, offset: number): void {
    this.#requireWritable();
    this.#checkRange(offset, buf.length, "write");
    if (buf.length === 0) return;
    const lss = this.logicalSectorSize;
    const start = Math.floor(offset / lss) * lss;
    const end = Math.min(alignUp(offset + buf.length, lss), this.virtualSize);
    let data = buf;
    if (start !== offset || end !== offset + buf.length) {
      // Widen to whole sectors so sector bitmaps stay exact: read what the guest sees around it.
      const widened = new Uint8Array(end - start);
      this.read(widened.subarray(0, lss), start);
      if (end - lss > start) this.read(widened.subarray(widened.length - lss), end - lss);
      widened.set(buf, offset - start);
      data = widened;
    }
    this.#log.beginSession(true);
    let done = 0;
    while (done < data.length) {
      const pos = start + done;
      const block = Math.floor(pos / this.blockSize);
      const inBlock = pos - block * this.blockSize;
      const len = Math.min(data.length - done, this.blockSize - inBlock);
      this.#writeInBlock(data.subarray(done, done + len), block, inBlock);
      done += len;
    }
  }

  #writeInBlock(data: Uint8Array, block: number, inBlock: number): void {
    const index = payloadIndex(this.geometry, block);
    const entry = this.#batEntry(index);
    const state = entryState(entry);
    const blockBytes = Math.min(this.blockSize, this.virtualSize - block * this.blockSize);
    if (state === PAYLOAD_FULLY_PRESENT) {
      this.#io.write(data, this.#blockFileOffset(entry, block) + inBlock);
      return;
    }
    if (state === PAYLOAD_PARTIALLY_PRESENT) {
      this.#io.write(data, this.#blockFileOffset(entry, block) + inBlock);
      this.#setSectorBits(block, inBlock, data.length);
      return;
    }
    const fileOffset = this.#allocate(this.blockSize);
    const coversBlock = inBlock === 0 && data.length >= blockBytes;
    if (this.type === "differencing" && state === PAYLOAD_NOT_PRESENT && !coversBlock) {
      this.#io.write(data, fileOffset + inBlock);
      this.#setBatEntry(index, makeEntry(PAYLOAD_PARTIALLY_PRESENT, fileOffset));
      this.#setSectorBits(block, inBlock, data.length);
      return;
    }
    // Dynamic/fixed, or a differencing block whose other sectors read as zero: the new block is
    // zero-filled by the allocation, so it is fully present.
    this.#io.write(data, fileOffset + inBlock);
    this.#setBatEntry(index, makeEntry(PAYLOAD_FULLY_PRESENT, fileOffset));
  }

  /**
   * Where to write one whole block of new guest data yourself: for `[offset, offset+length)`
   * covering exactly one block that the file does not hold yet (dynamic files only), allocates
   * the block, records it in the BAT as fully present and returns the descriptor and file offset
   * the caller (a pipeline worker) writes the bytes to before {@link close}; else undefined, and
   * the caller uses {@link write}. Lets writes run on other threads than the BAT's owner.
   */
  placeBlock(offset: number, length: number): { fd: number; fileOffset: number } | undefined {
    this.#requireWritable();
    this.#checkRange(offset, length, "write");
    const block = Math.floor(offset / this.blockSize);
    if (this.type !== "dynamic" || offset !== block * this.blockSize || length !== Math.min(this.blockSize, this.virtualSize - offset)) return undefined;
    const index = payloadIndex(this.geometry, block);
    const state = entryState(this.#batEntry(index));
    if (state === PAYLOAD_FULLY_PRESENT || state === PAYLOAD_PARTIALLY_PRESENT) return undefined;
    this.#log.beginSession(true);
    const fileOffset = this.#allocate(this.blockSize);
    this.#setBatEntry(index, makeEntry(PAYLOAD_FULLY_PRESENT, fileOffset));
    return { fd: this.#io.fd, fileOffset };
  }

  /**
   * Makes `[offset, offset+length)` read as zeros. Whole blocks become PAYLOAD_BLOCK_ZERO (no
   * space used; in a differencing file this hides the parent); partial blocks get zero bytes.
   */
  writeZeroes(offset: number, length: number): void {
    this.#requireWritable();
    this.#checkRange(offset, length, "write");
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      const block = Math.floor(pos / this.blockSize);
      const blockStart = block * this.blockSize;
      const blockEnd = Math.min(blockStart + this.blockSize, this.virtualSize);
      const segEnd = Math.min(blockEnd, end);
      // ZERO blocks in a differencing file hide the parent per MS-VHDX 2.5.1.1, but libvhdi
      // (and so tools built on it) reads them from the parent: there, write real zeros so every
      // reader agrees. In fixed and dynamic files every reader treats ZERO as zeros.
      if (pos === blockStart && segEnd === blockEnd && !this.leaveBlockAllocated && this.type !== "differencing") {
        this.#log.beginSession(true);
        this.#setBatEntry(payloadIndex(this.geometry, block), makeEntry(PAYLOAD_ZERO, 0));
      } else {
        const zeros = new Uint8Array(Math.min(segEnd - pos, 8 * MiB));
        for (let p = pos; p < segEnd; p += zeros.length) this.write(zeros.subarray(0, Math.min(zeros.length, segEnd - p)), p);
      }
      pos = segEnd;
    }
  }

  #setSectorBits(block: number, inBlock: number, length: number): void {
    const lss = this.logicalSectorSize;
    const perChunk = 2 ** 23;
    const first = (block * this.blockSize + inBlock) / lss;
    const count = length / lss;
    const chunk = Math.floor(first / perChunk);
    const sbIndex = bitmapIndex(this.geometry, chunk);
    let sb = this.#batEntry(sbIndex);
    if (entryState(sb) !== SB_PRESENT) {
      const at = this.#allocate(MiB);
      sb = makeEntry(SB_PRESENT, at);
      this.#setBatEntry(sbIndex, sb);
    }
    const sbOffset = entryOffset(sb);
    for (let s = first; s < first + count; ) {
      const bit = s - chunk * perChunk;
      const byte = bit >>> 3;
      const pageOffset = sbOffset + Math.floor(byte / PAGE) * PAGE;
      const page = this.#pages.page(pageOffset, `sector bitmap of chunk ${chunk}`);
      const b = byte % PAGE;
      if ((bit & 7) === 0 && s + 8 <= first + count) {
        // Whole bytes at a time where the run allows.
        const bytes = Math.min(Math.floor((first + count - s) / 8), PAGE - b);
        page.fill(0xff, b, b + bytes);
        s += bytes * 8;
      } else {
        page[b] = page[b]! | (1 << (bit & 7));
        s += 1;
      }
      this.#pages.markDirty(pageOffset);
    }
  }

  /** Reserves `size` bytes (a multiple of 1 MiB) at the end of the file, zero-filled. */
  #allocate(size: number): number {
    const at = this.#fileEnd;
    this.#fileEnd += size;
    this.#io.truncate(this.#fileEnd);
    return at;
  }

  /** Commits pending BAT and bitmap changes through the log and syncs the file. */
  flush(): void {
    if (!this.#io.writable) return;
    this.#commit();
    this.#io.sync();
  }

  /** Flushes, marks the log empty, and closes this file and its parents. */
  close(): void {
    if (this.#closed) return;
    try {
      if (this.#io.writable) {
        this.#commit();
        if (this.#log.sessionStarted) {
          this.#io.sync();
          this.#log.writeHeader({ ...this.#log.header, logGuid: NIL_GUID });
        }
      }
    } finally {
      this.#closed = true;
      this.#io.close();
      this.parent?.close();
    }
  }

  /** Verifies the BAT: states valid for the file type, blocks inside the file, no overlaps. */
  checkBat(): string[] {
    return checkBatEntries({
      fileSize: this.#io.size(),
      type: this.type,
      geometry: this.geometry,
      regions: this.regions,
      log: { offset: this.#log.header.logOffset, length: this.#log.header.logLength },
      batEntry: (i) => this.#batEntry(i),
      blockBytes: (b) => this.#blockBytes(b),
    });
  }

  // ---- metadata pages, BAT access and the log -------------------------------------------

  #batEntry(index: number): bigint {
    const byte = index * 8;
    const pageOffset = this.regions.bat.fileOffset + Math.floor(byte / PAGE) * PAGE;
    return this.#pages.page(pageOffset, "BAT").readBigUInt64LE(byte % PAGE);
  }

  #setBatEntry(index: number, value: bigint): void {
    const byte = index * 8;
    const pageOffset = this.regions.bat.fileOffset + Math.floor(byte / PAGE) * PAGE;
    this.#pages.page(pageOffset, "BAT").writeBigUInt64LE(value, byte % PAGE);
    this.#pages.markDirty(pageOffset);
    if (this.#pages.dirtyCount >= maxWritesPerEntry(this.#log.header.logLength || MiB)) this.#commit();
  }

  /** Commits pending BAT and bitmap changes through the log (the write order is in LogWriter.commit). */
  #commit(): void {
    this.#log.commit(this.#pages, this.#fileEnd);
  }

  /** Rewrites metadata item bytes in place through the log (e.g. a parent locator update). */
  rewriteMetadataItem(itemId: string, data: Uint8Array): void {
    this.#requireWritable();
    const entry = this.metadataEntries.find((e) => e.itemId === itemId && !e.isUser);
    if (!entry) throw new VhdxFormatError(this.path, "metadata", `item ${itemId} is not present`);
    const start = this.regions.metadata.fileOffset + entry.offset;
    const end = start + data.length;
    if (data.length > entry.length) {
      // Items are laid out back to back; only the last one may grow, within the region.
      const regionEnd = this.regions.metadata.fileOffset + this.regions.metadata.length;
      const followers = this.metadataEntries.filter((e) => e.offset > entry.offset && e.length > 0);
      if (followers.length > 0 || end > regionEnd) {
        throw new VhdxFormatError(this.path, "metadata", `item ${itemId} cannot grow from ${entry.length} to ${data.length} bytes in place`);
      }
    }
    // Not a change of user-visible data (MS-VHDX 2.2.2): the DataWriteGuid stays, so children
    // of this file keep their parent_linkage.
    this.#log.beginSession(false);
    for (let p = Math.floor(start / PAGE) * PAGE; p < end; p += PAGE) {
      const page = this.#pages.page(p, "metadata");
      const from = Math.max(start, p);
      const to = Math.min(end, p + PAGE);
      page.set(data.subarray(from - start, to - start), from - p);
      this.#pages.markDirty(p);
    }
    // The table entry's length changes with the item.
    const tablePage = this.regions.metadata.fileOffset;
    const table = this.#pages.page(tablePage, "metadata table");
    const idx = this.metadataEntries.indexOf(entry);
    table.writeUInt32LE(data.length, 32 + idx * 32 + 20);
    this.#pages.markDirty(tablePage);
    (entry as { length: number }).length = data.length;
    this.#commit();
  }

  #requireWritable(): void {
    if (!this.#io.writable) throw new VhdxFormatError(this.path, "file", "is open read-only", "VhdxReadOnly");
    if (this.#closed) throw new VhdxFormatError(this.path, "file", "is closed", "VhdxClosed");
  }

  #checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.virtualSize) {
      throw new VhdxFormatError(this.path, what, `range [${offset}, ${offset + length}) is outside the ${this.virtualSize}-byte virtual disk`, "VhdxRange");
    }
  }
}
