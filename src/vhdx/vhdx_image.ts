import { realpathSync } from "node:fs";
import type { ByteRange, DiskType, VirtualDisk } from "../disk/mod";
import { crashPoint } from "../base/mod";
import {
  type BatGeometry,
  batGeometry,
  bitmapIndex,
  entryOffset,
  entryState,
  isValidBlockSize,
  makeEntry,
  payloadIndex,
} from "./bat";
import { StructureError, VhdxFormatError } from "./errors";
import { FileIo } from "./file_io";
import { NIL_GUID, newGuid, normalizeGuid, readGuid } from "./guid";
import { type VhdxHeader, chooseHeader, serializeHeader, printable } from "./header";
import { type LogEntry, buildLogEntry, descriptorSectors, findActiveSequence, maxWritesPerEntry } from "./log";
import { type MetadataEntry, parseMetadataTable } from "./metadata_table";
import { type ParentLocatorEntries, parseParentLocator } from "./parent_locator";
import { resolveParentPath } from "./parent_path";
import { type RegionEntry, parseRegionTable } from "./region_table";
import {
  HEADER1_OFFSET,
  HEADER2_OFFSET,
  HEADER_SECTION_SIZE,
  HEADER_SIZE,
  LOG_SECTOR_SIZE,
  MAX_VIRTUAL_SIZE,
  META_FILE_PARAMETERS,
  META_LOGICAL_SECTOR_SIZE,
  META_PAGE83,
  META_PARENT_LOCATOR,
  META_PHYSICAL_SECTOR_SIZE,
  META_VIRTUAL_DISK_SIZE,
  METADATA_TABLE_SIZE,
  MiB,
  PAYLOAD_FULLY_PRESENT,
  PAYLOAD_NOT_PRESENT,
  PAYLOAD_PARTIALLY_PRESENT,
  PAYLOAD_UNDEFINED,
  PAYLOAD_UNMAPPED,
  PAYLOAD_UNMAPPED_V095,
  PAYLOAD_ZERO,
  REGION_BAT,
  REGION_METADATA,
  REGION_TABLE1_OFFSET,
  REGION_TABLE2_OFFSET,
  REGION_TABLE_SIZE,
  SB_NOT_PRESENT,
  SB_PRESENT,
  SIG_FILE,
} from "./_layout";

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
  /** @internal Files already open above this one in the chain, to detect loops. */
  chainSeen?: Set<string>;
}

/** What a range of a single file holds. */
export type ExtentKind = "data" | "zero" | "parent";

/** A range of the virtual disk and where its content comes from in one file. */
export interface Extent extends ByteRange {
  kind: ExtentKind;
}

/** Deepest differencing chain we follow; real chains are far shorter, a loop is longer. */
const MAX_CHAIN_DEPTH = 256;
/**
 * Metadata pages (4 KiB of BAT or sector bitmap) kept in memory at most, when clean: 4 MiB per
 * open file, which covers 512 GiB of disk at 1 MiB blocks. (16 MiB per file made a 2 TiB disk
 * with 1 MiB blocks peak 1.75x higher than a 1 GiB one in a VHDX-to-VHDX convert.)
 */
const MAX_CACHED_PAGES = 1024;
const PAGE = LOG_SECTOR_SIZE;

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
  #header: VhdxHeader;
  #headerSlot: 0 | 1;
  #pages = new Map<number, Buffer>();
  #dirty = new Set<number>();
  #fileEnd = 0;
  #sessionStarted = false;
  #dataChanged = false;
  #logPosition = 0;
  #logSequence = 1n;
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
  }) {
    this.#io = init.io;
    this.path = init.io.path;
    this.#header = init.header;
    this.#headerSlot = init.headerSlot;
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
    return this.#header.dataWriteGuid;
  }

  /** The current header's FileWriteGuid. */
  get fileWriteGuid(): string {
    return this.#header.fileWriteGuid;
  }

  /** The current header (a copy). */
  get header(): Readonly<VhdxHeader> {
    return { ...this.#header };
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
    const path = io.path;
    const size = io.size();
    if (size < HEADER_SECTION_SIZE) {
      const sig = size >= 8 ? io.readExact(0, 8, "file identifier").toString("latin1") : "";
      if (sig !== SIG_FILE) throw new VhdxFormatError(path, "file identifier", `signature is '${printable(sig)}', expected '${SIG_FILE}' (not a VHDX file)`, "VhdxNotVhdx");
      throw new VhdxFormatError(path, "file", `is ${size} bytes, smaller than the 1 MiB header section`, "VhdxTruncated");
    }
    const sig = io.readExact(0, 8, "file identifier").toString("latin1");
    if (sig !== SIG_FILE) throw new VhdxFormatError(path, "file identifier", `signature is '${printable(sig)}', expected '${SIG_FILE}' (not a VHDX file)`, "VhdxNotVhdx");

    const { header, slot } = chooseHeader(
      io.readExact(HEADER1_OFFSET, HEADER_SIZE, "header 1"),
      io.readExact(HEADER2_OFFSET, HEADER_SIZE, "header 2"),
    );

    let replayed = false;
    let logSequence = 1n;
    let logPosition = 0;
    if (header.logGuid !== NIL_GUID && header.logLength > 0) {
      if (header.logOffset + header.logLength > size) {
        throw new VhdxFormatError(path, "log", `log [${header.logOffset}, ${header.logOffset + header.logLength}) lies past the end of the ${size}-byte file`, "VhdxTruncated");
      }
      const entries = findActiveSequence(
        (pos, len) => readCircular(io, header.logOffset, header.logLength, pos, len),
        header.logLength,
        header.logGuid,
      );
      if (entries.length > 0) {
        replayLog(io, entries, size);
        replayed = true;
        const last = entries[entries.length - 1]!;
        logSequence = last.sequenceNumber + 1n;
        logPosition = (last.position + last.length) % header.logLength;
      }
    }

    const regions = readRegions(io);
    const meta = readMetadata(io, regions.metadata);
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
      replayedLog: replayed,
    });
    image.#logSequence = logSequence;
    image.#logPosition = logPosition;
    if (replayed && io.writable) {
      // The replayed state is now on disk; mark the log empty so it is never replayed again.
      image.#writeHeader({ ...image.#header, logGuid: NIL_GUID, fileWriteGuid: newGuid() });
      image.#sessionStarted = false;
    }
    if (meta.hasParent && !options.noParent) {
      // On failure open() closes `io`; closing it here too would close the descriptor twice
      // (EBADF hiding the real error, or closing a file that reused the number).
      (image as { parent: VhdxImage | undefined }).parent = openParent(image, options);
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
        let i = 0;
        while (i < out.length) {
          const sector = Math.floor((virtualPos + i) / lss);
          const present = this.#sectorPresent(sector);
          // Extend the run while the bitmap bit stays the same.
          let end = (sector + 1) * lss - virtualPos;
          while (end < out.length && this.#sectorPresent(Math.floor((virtualPos + end) / lss)) === present) end += lss;
          end = Math.min(end, out.length);
          const part = out.subarray(i, end);
          if (present) this.#io.readInto(part, fileOffset + inBlock + i, `payload block ${block}`);
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
    if (needed > this.#io.size() && !(this.#io.writable && needed <= this.#fileEnd)) {
      throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, `block at ${off} lies past the end of the ${this.#io.size()}-byte file`, "VhdxTruncated");
    }
    return off;
  }

  /** Bytes of payload block `block` that lie inside the virtual disk (less for a short last block). */
  #blockBytes(block: number): number {
    return Math.min(this.blockSize, this.virtualSize - block * this.blockSize);
  }

  /** Whether logical sector `sector` (disk-wide index) is present in this file per its bitmap. */
  #sectorPresent(sector: number): boolean {
    const perChunk = 2 ** 23;
    const chunk = Math.floor(sector / perChunk);
    const bit = sector - chunk * perChunk;
    const sb = this.#batEntry(bitmapIndex(this.geometry, chunk));
    if (entryState(sb) !== SB_PRESENT) {
      throw new VhdxFormatError(this.path, `sector bitmap entry of chunk ${chunk}`, `state is ${entryState(sb)}, but a payload block of the chunk is PARTIALLY_PRESENT`);
    }
    const sbOffset = entryOffset(sb);
    if (sbOffset < HEADER_SECTION_SIZE || sbOffset + MiB > Math.max(this.#io.size(), this.#fileEnd)) {
      throw new VhdxFormatError(this.path, `sector bitmap entry of chunk ${chunk}`, `bitmap block at ${sbOffset} lies outside the file`);
    }
    const byte = bit >>> 3;
    const page = this.#page(sbOffset + Math.floor(byte / PAGE) * PAGE, `sector bitmap of chunk ${chunk}`);
    return ((page[byte % PAGE]! >> (bit & 7)) & 1) === 1;
  }

  /**
   * What this file holds for `[offset, offset+length)`: its own data, zeros (which, in a
   * differencing file, hide the parent) or "parent" (look further down the chain; plain
   * unallocated space in a dynamic file reads as zeros and is reported as "zero").
   */
  extents(offset = 0, length = this.virtualSize - offset): Extent[] {
    this.#checkRange(offset, length, "map");
    const out: Extent[] = [];
    const push = (o: number, l: number, kind: ExtentKind): void => {
      const last = out[out.length - 1];
      if (last && last.kind === kind && last.offset + last.length === o) last.length += l;
      else out.push({ offset: o, length: l, kind });
    };
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      const block = Math.floor(pos / this.blockSize);
      const blockEnd = Math.min((block + 1) * this.blockSize, end, this.virtualSize);
      const state = entryState(this.#batEntry(payloadIndex(this.geometry, block)));
      if (state === PAYLOAD_FULLY_PRESENT) push(pos, blockEnd - pos, "data");
      else if (state === PAYLOAD_NOT_PRESENT) push(pos, blockEnd - pos, this.type === "differencing" ? "parent" : "zero");
      else if (state === PAYLOAD_PARTIALLY_PRESENT && this.type === "differencing") {
        const lss = this.logicalSectorSize;
        let p = pos;
        while (p < blockEnd) {
          const sector = Math.floor(p / lss);
          const next = Math.min((sector + 1) * lss, blockEnd);
          push(p, next - p, this.#sectorPresent(sector) ? "data" : "parent");
          p = next;
        }
      } else if (state === PAYLOAD_PARTIALLY_PRESENT) {
        throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, "state PARTIALLY_PRESENT is only valid in a differencing file");
      } else if (state === PAYLOAD_ZERO || state === PAYLOAD_UNMAPPED || state === PAYLOAD_UNMAPPED_V095 || state === PAYLOAD_UNDEFINED) {
        push(pos, blockEnd - pos, "zero");
      } else {
        // As read() does: a reserved state is damage, not zeros (callers copy only mapped data).
        throw new VhdxFormatError(this.path, `BAT entry of payload block ${block}`, `state ${state} is not a valid payload block state`);
      }
      pos = blockEnd;
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
    this.#beginSession(true);
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
        this.#beginSession(true);
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
      const page = this.#page(pageOffset, `sector bitmap of chunk ${chunk}`);
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
      this.#dirty.add(pageOffset);
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
        if (this.#sessionStarted) {
          this.#io.sync();
          this.#writeHeader({ ...this.#header, logGuid: NIL_GUID });
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
    const problems: string[] = [];
    const size = this.#io.size();
    const used: Array<[number, number, string]> = [
      [0, HEADER_SECTION_SIZE, "header section"],
      [this.#header.logOffset, this.#header.logOffset + this.#header.logLength, "log"],
      [this.regions.bat.fileOffset, this.regions.bat.fileOffset + this.regions.bat.length, "BAT region"],
      [this.regions.metadata.fileOffset, this.regions.metadata.fileOffset + this.regions.metadata.length, "metadata region"],
    ];
    const g = this.geometry;
    let partialInChunk = false;
    for (let i = 0; i < g.totalEntries; i++) {
      const e = this.#batEntry(i);
      const state = entryState(e);
      const isBitmap = (i + 1) % (g.chunkRatio + 1) === 0;
      if ((e & 0xffff8n) !== 0n) problems.push(`BAT entry ${i}: reserved bits are not zero`);
      if (isBitmap) {
        if (state === SB_PRESENT) {
          if (this.type !== "differencing") problems.push(`BAT entry ${i}: sector bitmap block present in a non-differencing file`);
          used.push([entryOffset(e), entryOffset(e) + MiB, `sector bitmap entry ${i}`]);
        } else if (state !== SB_NOT_PRESENT) problems.push(`BAT entry ${i}: sector bitmap state ${state} is not valid`);
        else if (partialInChunk) problems.push(`BAT entry ${i}: sector bitmap block missing for a PARTIALLY_PRESENT payload block`);
        partialInChunk = false;
        continue;
      }
      const block = i - Math.floor(i / (g.chunkRatio + 1));
      if (block >= g.dataBlocks) {
        if (state !== PAYLOAD_NOT_PRESENT) problems.push(`BAT entry ${i}: payload entry past the last block has state ${state}`);
        continue;
      }
      if (state === PAYLOAD_FULLY_PRESENT || state === PAYLOAD_PARTIALLY_PRESENT) {
        if (state === PAYLOAD_PARTIALLY_PRESENT) {
          if (this.type !== "differencing") problems.push(`BAT entry ${i} (payload block ${block}): PARTIALLY_PRESENT in a non-differencing file`);
          partialInChunk = true;
        }
        used.push([entryOffset(e), entryOffset(e) + this.#blockBytes(block), `payload block ${block}`]);
      } else if (![PAYLOAD_NOT_PRESENT, PAYLOAD_UNDEFINED, PAYLOAD_ZERO, PAYLOAD_UNMAPPED, PAYLOAD_UNMAPPED_V095].includes(state)) {
        problems.push(`BAT entry ${i} (payload block ${block}): state ${state} is not valid`);
      }
    }
    if (partialInChunk && g.totalEntries % (g.chunkRatio + 1) !== 0) {
      problems.push("BAT: a PARTIALLY_PRESENT payload block has no sector bitmap entry");
    }
    for (const [from, to, what] of used.slice(4)) {
      if (from < HEADER_SECTION_SIZE) problems.push(`${what}: file offset ${from} lies in the header section`);
      else if (from >= size) problems.push(`${what}: file offset ${from} lies past the end of the ${size}-byte file`);
      // A short last block (see #blockBytes) may end with the file, but not before it.
      else if (to > size) problems.push(`${what}: [${from}, ${to}) is cut short by the end of the ${size}-byte file`);
    }
    used.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < used.length; i++) {
      const [pf, pt, pw] = used[i - 1]!;
      const [f, , w] = used[i]!;
      if (f < pt && pf !== pt) problems.push(`${w} at ${f} overlaps ${pw} at ${pf}`);
    }
    return problems;
  }

  // ---- metadata pages, BAT access and the log -------------------------------------------

  #batEntry(index: number): bigint {
    const byte = index * 8;
    const pageOffset = this.regions.bat.fileOffset + Math.floor(byte / PAGE) * PAGE;
    return this.#page(pageOffset, "BAT").readBigUInt64LE(byte % PAGE);
  }

  #setBatEntry(index: number, value: bigint): void {
    const byte = index * 8;
    const pageOffset = this.regions.bat.fileOffset + Math.floor(byte / PAGE) * PAGE;
    this.#page(pageOffset, "BAT").writeBigUInt64LE(value, byte % PAGE);
    this.#dirty.add(pageOffset);
    if (this.#dirty.size >= maxWritesPerEntry(this.#header.logLength || MiB)) this.#commit();
  }

  /** A 4 KiB metadata page (BAT or sector bitmap), cached; dirty pages stay until committed. */
  #page(pageOffset: number, what: string): Buffer {
    let page = this.#pages.get(pageOffset);
    if (page) {
      this.#pages.delete(pageOffset);
      this.#pages.set(pageOffset, page);
      return page;
    }
    if (pageOffset + PAGE > this.#io.size()) page = Buffer.alloc(PAGE); // allocated, not yet written
    else page = this.#io.readExact(pageOffset, PAGE, what);
    this.#pages.set(pageOffset, page);
    if (this.#pages.size > MAX_CACHED_PAGES) {
      for (const key of this.#pages.keys()) {
        if (this.#pages.size <= MAX_CACHED_PAGES) break;
        if (!this.#dirty.has(key)) this.#pages.delete(key);
      }
    }
    return page;
  }

  /**
   * Commits dirty metadata pages: data is synced first, then the pages go into a log entry that
   * is synced, then they are written in place and synced. A crash before the log entry is
   * complete leaves the old metadata (new blocks are merely unreferenced); a crash after it is
   * repaired by replaying the log on the next open.
   */
  #commit(): void {
    if (this.#dirty.size === 0) return;
    this.#beginSession(false);
    const maxPerEntry = maxWritesPerEntry(this.#header.logLength);
    const offsets = [...this.#dirty].sort((a, b) => a - b);
    this.#io.sync();
    crashPoint("vhdx-data-synced");
    for (let i = 0; i < offsets.length; i += maxPerEntry) {
      const batch = offsets.slice(i, i + maxPerEntry);
      const writes = batch.map((o) => ({ kind: "data" as const, fileOffset: o, data: this.#pages.get(o)! }));
      const length = (descriptorSectors(writes.length) + writes.length) * LOG_SECTOR_SIZE;
      if (this.#logPosition + length > this.#header.logLength) {
        // Wrap to the start under a new LogGuid. Every earlier entry is applied already; a new
        // GUID makes them all invalid, so no reader can chain the new entry at 0 to the stale
        // ones after it (qemu 7.2's log search does: it links the entry after the first of a
        // run without comparing sequence numbers, goes once round the log and fails with EINVAL).
        this.#writeHeader({ ...this.#header, logGuid: newGuid() });
        this.#logPosition = 0;
      }
      const entry = buildLogEntry({
        sequenceNumber: this.#logSequence,
        // Every earlier entry has been applied in place already: this entry is the whole sequence.
        tail: this.#logPosition,
        logGuid: this.#header.logGuid,
        flushedFileOffset: this.#io.size(),
        lastFileOffset: this.#fileEnd,
        writes,
      });
      this.#io.write(entry, this.#header.logOffset + this.#logPosition);
      this.#io.sync();
      crashPoint("vhdx-log-written");
      for (const w of writes) this.#io.write(w.data, w.fileOffset);
      this.#io.sync();
      crashPoint("vhdx-log-applied");
      this.#logPosition += entry.length;
      this.#logSequence += 1n;
      for (const o of batch) this.#dirty.delete(o);
    }
  }

  /**
   * Before the first change after opening: a new FileWriteGuid, a new LogGuid (so that stale
   * entries of earlier sessions can never be replayed) and, before the first user-visible
   * change, a new DataWriteGuid (MS-VHDX 2.2.2).
   */
  #beginSession(dataChange: boolean): void {
    if (this.#sessionStarted && (!dataChange || this.#dataChanged)) return;
    const next: VhdxHeader = { ...this.#header };
    if (!this.#sessionStarted) {
      next.fileWriteGuid = newGuid();
      next.logGuid = newGuid();
      this.#logPosition = 0;
      this.#logSequence = 1n;
    }
    if (dataChange && !this.#dataChanged) {
      next.dataWriteGuid = newGuid();
      this.#dataChanged = true;
    }
    this.#sessionStarted = true;
    this.#writeHeader(next);
  }

  /**
   * Writes `h` as the new current header: into the non-current slot with the next sequence
   * number, synced; then again into the other slot, so both copies are valid (as qemu does).
   */
  #writeHeader(h: VhdxHeader): void {
    for (let i = 0; i < 2; i++) {
      const slot = this.#headerSlot === 0 ? 1 : 0;
      const next = { ...h, sequenceNumber: this.#header.sequenceNumber + 1n };
      this.#io.write(serializeHeader(next), slot === 0 ? HEADER1_OFFSET : HEADER2_OFFSET);
      this.#io.sync();
      this.#header = next;
      this.#headerSlot = slot;
    }
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
    this.#beginSession(false);
    for (let p = Math.floor(start / PAGE) * PAGE; p < end; p += PAGE) {
      const page = this.#page(p, "metadata");
      const from = Math.max(start, p);
      const to = Math.min(end, p + PAGE);
      page.set(data.subarray(from - start, to - start), from - p);
      this.#dirty.add(p);
    }
    // The table entry's length changes with the item.
    const tablePage = this.regions.metadata.fileOffset;
    const table = this.#page(tablePage, "metadata table");
    const idx = this.metadataEntries.indexOf(entry);
    table.writeUInt32LE(data.length, 32 + idx * 32 + 20);
    this.#dirty.add(tablePage);
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

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function readCircular(io: FileIo, logOffset: number, logLength: number, pos: number, len: number): Uint8Array {
  const out = Buffer.alloc(len);
  let done = 0;
  while (done < len) {
    const p = (pos + done) % logLength;
    const n = Math.min(len - done, logLength - p);
    io.readInto(out.subarray(done, done + n), logOffset + p, "log");
    done += n;
  }
  return out;
}

/** Applies a log sequence: in place when writable (then synced), else into the I/O overlay. */
function replayLog(io: FileIo, entries: LogEntry[], fileSize: number): void {
  for (const e of entries) {
    if (e.flushedFileOffset > fileSize) {
      throw new VhdxFormatError(io.path, "log", `entry ${e.sequenceNumber} needs the file to be at least ${e.flushedFileOffset} bytes, it is ${fileSize} (file truncated after the log was written)`, "VhdxTruncated");
    }
    for (const w of e.writes) {
      const end = w.fileOffset + (w.kind === "zero" ? w.length : LOG_SECTOR_SIZE);
      if (w.fileOffset < HEADER_SECTION_SIZE || end > Math.max(e.lastFileOffset, fileSize)) {
        throw new VhdxFormatError(io.path, "log", `entry ${e.sequenceNumber} writes [${w.fileOffset}, ${end}) outside the file's structures`);
      }
    }
  }
  for (const e of entries) {
    if (io.writable) {
      if (io.size() < e.lastFileOffset) io.truncate(alignUp(e.lastFileOffset, MiB));
      for (const w of e.writes) {
        if (w.kind === "data") io.write(w.data, w.fileOffset);
        else {
          const zeros = new Uint8Array(Math.min(w.length, MiB));
          for (let p = 0; p < w.length; p += zeros.length) io.write(zeros.subarray(0, Math.min(zeros.length, w.length - p)), w.fileOffset + p);
        }
      }
    } else {
      io.overlayExtend(e.lastFileOffset);
      for (const w of e.writes) {
        if (w.kind === "data") io.overlaySector(w.fileOffset, w.data);
        else io.overlayZero(w.fileOffset, w.length);
      }
    }
  }
  io.sync();
}

function readRegions(io: FileIo): { bat: RegionEntry; metadata: RegionEntry } {
  let entries: RegionEntry[] | undefined;
  const errors: string[] = [];
  for (const [offset, name] of [[REGION_TABLE1_OFFSET, "region table 1"], [REGION_TABLE2_OFFSET, "region table 2"]] as const) {
    try {
      entries = parseRegionTable(io.readExact(offset, REGION_TABLE_SIZE, name), name);
      break;
    } catch (e) {
      if (!(e instanceof StructureError)) throw e;
      errors.push(e.message);
    }
  }
  if (!entries) throw new StructureError("region tables", `no valid region table (${errors.join("; ")})`);
  const bat = entries.find((e) => e.guid === REGION_BAT);
  const metadata = entries.find((e) => e.guid === REGION_METADATA);
  if (!bat) throw new StructureError("region table", "has no BAT region");
  if (!metadata) throw new StructureError("region table", "has no metadata region");
  const size = io.size();
  for (const [r, name] of [[bat, "BAT region"], [metadata, "metadata region"]] as const) {
    if (r.fileOffset + r.length > size) {
      throw new VhdxFormatError(io.path, name, `[${r.fileOffset}, ${r.fileOffset + r.length}) lies past the end of the ${size}-byte file`, "VhdxTruncated");
    }
  }
  if (bat.fileOffset < metadata.fileOffset + metadata.length && metadata.fileOffset < bat.fileOffset + bat.length) {
    throw new StructureError("region table", `BAT region at ${bat.fileOffset} overlaps metadata region at ${metadata.fileOffset}`);
  }
  return { bat, metadata };
}

interface ParsedMetadata {
  entries: MetadataEntry[];
  blockSize: number;
  leaveBlockAllocated: boolean;
  hasParent: boolean;
  virtualSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  virtualDiskId: string;
  parentLocator: ParentLocatorEntries | undefined;
}

const KNOWN_ITEMS = new Set([
  META_FILE_PARAMETERS,
  META_VIRTUAL_DISK_SIZE,
  META_PAGE83,
  META_LOGICAL_SECTOR_SIZE,
  META_PHYSICAL_SECTOR_SIZE,
  META_PARENT_LOCATOR,
]);

function readMetadata(io: FileIo, region: RegionEntry): ParsedMetadata {
  const entries = parseMetadataTable(io.readExact(region.fileOffset, METADATA_TABLE_SIZE, "metadata table"), region.length);
  const item = (id: string, what: string, size?: number): Buffer => {
    const e = entries.find((x) => x.itemId === id && !x.isUser);
    if (!e) throw new StructureError("metadata", `required item ${what} (${id}) is missing`);
    if (size !== undefined && e.length !== size) throw new StructureError(`metadata item ${what}`, `length is ${e.length}, expected ${size}`);
    return io.readExact(region.fileOffset + e.offset, e.length, `metadata item ${what}`);
  };
  for (const e of entries) {
    if (e.isRequired && (e.isUser || !KNOWN_ITEMS.has(e.itemId))) {
      throw new StructureError("metadata", `unknown required item ${e.itemId}`);
    }
  }
  const fp = item(META_FILE_PARAMETERS, "File Parameters", 8);
  const blockSize = fp.readUInt32LE(0);
  const flags = fp.readUInt32LE(4);
  if (!isValidBlockSize(blockSize)) throw new StructureError("metadata item File Parameters", `BlockSize ${blockSize} is not a power of two from 1 MiB to 256 MiB`);
  if ((flags & ~3) !== 0) throw new StructureError("metadata item File Parameters", `reserved flag bits are set (${flags})`);
  const hasParent = (flags & 2) !== 0;
  const virtualSize = Number(item(META_VIRTUAL_DISK_SIZE, "Virtual Disk Size", 8).readBigUInt64LE(0));
  const logicalSectorSize = item(META_LOGICAL_SECTOR_SIZE, "Logical Sector Size", 4).readUInt32LE(0);
  const physicalSectorSize = item(META_PHYSICAL_SECTOR_SIZE, "Physical Sector Size", 4).readUInt32LE(0);
  if (logicalSectorSize !== 512 && logicalSectorSize !== 4096) throw new StructureError("metadata item Logical Sector Size", `is ${logicalSectorSize}, expected 512 or 4096`);
  if (physicalSectorSize !== 512 && physicalSectorSize !== 4096) throw new StructureError("metadata item Physical Sector Size", `is ${physicalSectorSize}, expected 512 or 4096`);
  if (virtualSize === 0 || virtualSize > MAX_VIRTUAL_SIZE || virtualSize % logicalSectorSize !== 0) {
    throw new StructureError("metadata item Virtual Disk Size", `${virtualSize} is not a non-zero multiple of ${logicalSectorSize} up to 64 TiB`);
  }
  const virtualDiskId = readGuid(item(META_PAGE83, "Page 83 Data", 16), 0);
  let parentLocator: ParentLocatorEntries | undefined;
  if (hasParent) {
    const pl = entries.find((x) => x.itemId === META_PARENT_LOCATOR && !x.isUser);
    if (!pl) throw new StructureError("metadata", "HasParent is set but the Parent Locator item is missing");
    parentLocator = parseParentLocator(io.readExact(region.fileOffset + pl.offset, pl.length, "metadata item Parent Locator"));
  }
  return {
    entries,
    blockSize,
    leaveBlockAllocated: (flags & 1) !== 0 && !hasParent,
    hasParent,
    virtualSize,
    logicalSectorSize,
    physicalSectorSize,
    virtualDiskId,
    parentLocator,
  };
}

function openParent(child: VhdxImage, options: VhdxOpenOptions): VhdxImage {
  const seen = new Set(options.chainSeen ?? []);
  seen.add(realpathSync(child.path));
  if (seen.size > MAX_CHAIN_DEPTH) {
    throw new VhdxFormatError(child.path, "parent locator", `differencing chain is deeper than ${MAX_CHAIN_DEPTH} files`, "VhdxChainTooDeep");
  }
  const locator = child.parentLocator!;
  const parentPath = options.parentPath ?? resolveParentPath(child.path, locator);
  const real = realpathSync(parentPath);
  if (seen.has(real)) {
    throw new VhdxFormatError(child.path, "parent locator", `parent '${parentPath}' is already part of this chain (the chain loops)`, "VhdxChainLoop");
  }
  const parent = VhdxImage.open(parentPath, { chainSeen: seen });
  try {
    const linkage = locator["parent_linkage"];
    const linkage2 = locator["parent_linkage2"];
    const want = [linkage, linkage2].filter((x): x is string => x !== undefined).map(safeGuid);
    if (!want.includes(parent.dataWriteGuid)) {
      throw new VhdxFormatError(
        child.path,
        "parent locator",
        `parent_linkage ${linkage} does not match the DataWriteGuid {${parent.dataWriteGuid}} of parent '${parentPath}' (the parent was modified or replaced after this child was created)`,
        "VhdxParentLinkage",
      );
    }
    if (parent.virtualSize !== child.virtualSize) {
      throw new VhdxFormatError(child.path, "parent", `parent '${parentPath}' has virtual size ${parent.virtualSize}, the child ${child.virtualSize}`, "VhdxParentMismatch");
    }
    if (parent.logicalSectorSize !== child.logicalSectorSize) {
      throw new VhdxFormatError(child.path, "parent", `parent '${parentPath}' has ${parent.logicalSectorSize}-byte sectors, the child ${child.logicalSectorSize}`, "VhdxParentMismatch");
    }
    return parent;
  } catch (e) {
    parent.close();
    throw e;
  }
}

function safeGuid(text: string): string {
  try {
    return normalizeGuid(text);
  } catch {
    return text;
  }
}
