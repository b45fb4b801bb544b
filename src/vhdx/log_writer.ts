import { crashPoint } from "../base/mod";
import type { FileIo } from "./file_io";
import { newGuid } from "./guid";
import { type VhdxHeader, serializeHeader } from "./header";
import { buildLogEntry, descriptorSectors, maxWritesPerEntry } from "./log";
import type { MetadataPages } from "./metadata_pages";
import { HEADER1_OFFSET, HEADER2_OFFSET, LOG_SECTOR_SIZE } from "./_layout";

/** Where a writable file's header and log stand when it is opened. */
export interface LogWriterInit {
  io: FileIo;
  header: VhdxHeader;
  headerSlot: 0 | 1;
  /** Byte offset within the log for the next entry (after a replay, past its last entry). */
  logPosition: number;
  /** Sequence number for the next entry. */
  logSequence: bigint;
}

/**
 * The write path of a file's headers and log (MS-VHDX 2.2.2, 2.3): sessions with fresh
 * GUIDs, both header copies, and commits of dirty metadata pages through the log.
 */
export class LogWriter {
  #io: FileIo;
  #header: VhdxHeader;
  #headerSlot: 0 | 1;
  #sessionStarted = false;
  #dataChanged = false;
  #logPosition: number;
  #logSequence: bigint;

  constructor(init: LogWriterInit) {
    this.#io = init.io;
    this.#header = init.header;
    this.#headerSlot = init.headerSlot;
    this.#logPosition = init.logPosition;
    this.#logSequence = init.logSequence;
  }

  /** The current header (the live object: callers copy before changing it). */
  get header(): VhdxHeader {
    return this.#header;
  }

  /** Whether a change has been made since the file was opened. */
  get sessionStarted(): boolean {
    return this.#sessionStarted;
  }

  /**
   * Commits dirty metadata pages: data is synced first, then the pages go into a log entry that
   * is synced, then they are written in place and synced. A crash before the log entry is
   * complete leaves the old metadata (new blocks are merely unreferenced); a crash after it is
   * repaired by replaying the log on the next open.
   */
  commit(pages: MetadataPages, fileEnd: number): void {
    if (pages.dirtyCount === 0) return;
    this.beginSession(false);
    const maxPerEntry = maxWritesPerEntry(this.#header.logLength);
    const offsets = pages.dirtyOffsets();
    this.#io.sync();
    crashPoint("vhdx-data-synced");
    for (let i = 0; i < offsets.length; i += maxPerEntry) {
      const batch = offsets.slice(i, i + maxPerEntry);
      const writes = batch.map((o) => ({ kind: "data" as const, fileOffset: o, data: pages.dirtyPage(o) }));
      const length = (descriptorSectors(writes.length) + writes.length) * LOG_SECTOR_SIZE;
      if (this.#logPosition + length > this.#header.logLength) {
        // Wrap to the start under a new LogGuid. Every earlier entry is applied already; a new
        // GUID makes them all invalid, so no reader can chain the new entry at 0 to the stale
        // ones after it (qemu 7.2's log search does: it links the entry after the first of a
        // run without comparing sequence numbers, goes once round the log and fails with EINVAL).
        this.writeHeader({ ...this.#header, logGuid: newGuid() });
        this.#logPosition = 0;
      }
      const entry = buildLogEntry({
        sequenceNumber: this.#logSequence,
        // Every earlier entry has been applied in place already: this entry is the whole sequence.
        tail: this.#logPosition,
        logGuid: this.#header.logGuid,
        flushedFileOffset: this.#io.size(),
        lastFileOffset: fileEnd,
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
      for (const o of batch) pages.markClean(o);
    }
  }

  /**
   * Before the first change after opening: a new FileWriteGuid, a new LogGuid (so that stale
   * entries of earlier sessions can never be replayed) and, before the first user-visible
   * change, a new DataWriteGuid (MS-VHDX 2.2.2).
   */
  beginSession(dataChange: boolean): void {
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
    this.writeHeader(next);
  }

  /**
   * Writes `h` as the new current header: into the non-current slot with the next sequence
   * number, synced; then again into the other slot, so both copies are valid (as qemu does).
   */
  writeHeader(h: VhdxHeader): void {
    for (let i = 0; i < 2; i++) {
      const slot = this.#headerSlot === 0 ? 1 : 0;
      const next = { ...h, sequenceNumber: this.#header.sequenceNumber + 1n };
      this.#io.write(serializeHeader(next), slot === 0 ? HEADER1_OFFSET : HEADER2_OFFSET);
      this.#io.sync();
      this.#header = next;
      this.#headerSlot = slot;
    }
  }
}
