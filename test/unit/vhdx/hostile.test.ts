/**
 * Hostile input: every damaged file must give exit 1 and exactly one line on stderr naming the
 * file and the structure that is wrong, without a stack trace, and finish quickly.
 */
import { copyFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checksumWithFieldZeroed } from "../../../src/vhdx/crc32c";
import { parseMetadataTable } from "../../../src/vhdx/metadata_table";
import { parseRegionTable } from "../../../src/vhdx/region_table";
import { parseHeader } from "../../../src/vhdx/header";
import { META_FILE_PARAMETERS, META_VIRTUAL_DISK_SIZE, REGION_BAT, REGION_METADATA } from "../../../src/vhdx/_layout";
import { createVhdx } from "../../../src/vhdx/mod";
import { type CliResult, cleanupTempDirs, cli, cliOk, expectCleanFailure, fileSize, MiB, pseudoRandom, readAt, tempDir, writeAt, writeRaw } from "../../support/vhdx";
import { CLI, LIB_BUNDLE } from "../../support/paths";
import { spawnSync } from "node:child_process";

const SIZE = 16 * MiB;
let dir: string;
let good: string;
let goodRaw: string;

/** Where the structures of a file are, read with our own parsers. */
function layout(file: string): { bat: number; meta: number; metaLength: number; items: Map<string, { entryAt: number; offset: number }>; logOffset: number } {
  const regions = parseRegionTable(readAt(file, 192 * 1024, 64 * 1024));
  const bat = regions.find((r) => r.guid === REGION_BAT)!;
  const meta = regions.find((r) => r.guid === REGION_METADATA)!;
  const entries = parseMetadataTable(readAt(file, meta.fileOffset, 64 * 1024), meta.length);
  const items = new Map(entries.map((e, i) => [e.itemId, { entryAt: meta.fileOffset + 32 + i * 32, offset: meta.fileOffset + e.offset }]));
  const h1 = parseHeader(readAt(file, 64 * 1024, 4096));
  return { bat: bat.fileOffset, meta: meta.fileOffset, metaLength: meta.length, items, logOffset: h1.logOffset };
}

function copyOf(name: string, from = good): string {
  const f = path.join(dir, name);
  copyFileSync(from, f);
  return f;
}

/** Runs a command that must fail cleanly and quickly; returns the one stderr line. */
function fails(args: string[], file: string, structure: RegExp): string {
  const r: CliResult = cli(args, { timeoutMs: 20_000 });
  const line = expectCleanFailure(r);
  expect(line).toContain(file);
  expect(line).toMatch(structure);
  expect(r.ms).toBeLessThan(10_000);
  return line;
}

function flipByte(file: string, offset: number): void {
  const b = readAt(file, offset, 1);
  b[0] = b[0]! ^ 0xff;
  writeAt(file, offset, b);
}

/** Recomputes a header's checksum after editing it. */
function fixHeaderChecksum(file: string, offset: number): void {
  const h = readAt(file, offset, 4096);
  h.writeUInt32LE(checksumWithFieldZeroed(h, 4), 4);
  writeAt(file, offset, h);
}

function replaceUtf16(file: string, from: string, to: string): void {
  expect(Buffer.byteLength(from, "utf16le")).toBe(Buffer.byteLength(to, "utf16le"));
  const head = readAt(file, 0, 4 * MiB);
  const at = head.indexOf(Buffer.from(from, "utf16le"));
  expect(at).toBeGreaterThan(0);
  writeAt(file, at, Buffer.from(to, "utf16le"));
}

beforeAll(() => {
  dir = tempDir();
  goodRaw = path.join(dir, "good.raw");
  writeRaw(goodRaw, SIZE, [
    { offset: 0, data: pseudoRandom(2 * MiB, 1) },
    { offset: 9 * MiB + 512, data: pseudoRandom(MiB, 2) },
    { offset: SIZE - 4096, data: Buffer.alloc(4096, 7) },
  ]);
  good = path.join(dir, "good.vhdx");
  cliOk(["vhdx", "convert", goodRaw, good, "--block-size", String(MiB)]);
});
afterAll(cleanupTempDirs);

describe("files that are not VHDX at all", () => {
  it("rejects random bytes, a text file and an empty file as not VHDX", () => {
    const rnd = path.join(dir, "random.vhdx");
    writeFileSync(rnd, pseudoRandom(2 * MiB, 9));
    fails(["vhdx", "info", rnd], rnd, /file identifier: signature is .* \(not a VHDX file\)/);
    const txt = path.join(dir, "text.vhdx");
    writeFileSync(txt, "hello, world\n");
    fails(["vhdx", "check", txt], txt, /file identifier.*not a VHDX/);
    const empty = path.join(dir, "empty.vhdx");
    writeFileSync(empty, "");
    fails(["vhdx", "convert", empty, path.join(dir, "empty.raw")], empty, /file identifier.*not a VHDX/);
  });

  it("reports a missing file in one line", () => {
    const missing = path.join(dir, "nope.vhdx");
    fails(["vhdx", "info", missing], missing, /ENOENT|no such file/i);
  });
});

describe("truncated files", () => {
  it("inside the header section", () => {
    const f = copyOf("trunc-header.vhdx");
    truncateSync(f, 100 * 1024);
    fails(["vhdx", "info", f], f, /file: is 102400 bytes, smaller than the 1 MiB header section/);
  });

  it("inside the BAT", () => {
    const f = copyOf("trunc-bat.vhdx");
    truncateSync(f, layout(f).bat + 4096);
    fails(["vhdx", "info", f], f, /BAT region.*past the end/);
    fails(["vhdx", "check", f], f, /BAT region.*past the end/);
  });

  it("inside a payload block: check and convert fail, naming the block", () => {
    const f = copyOf("trunc-block.vhdx");
    truncateSync(f, fileSize(f) - MiB / 2);
    fails(["vhdx", "check", f], f, /payload block \d+: \[\d+, \d+\) is cut short by the end of the \d+-byte file/);
    fails(["vhdx", "convert", f, path.join(dir, "trunc-block.raw")], f, /payload block \d+.*past the end/);
  });
});

describe("headers and region tables", () => {
  it("opens through the other header when the current one has a flipped checksum", () => {
    for (const slot of [64 * 1024, 128 * 1024]) {
      const f = copyOf(`header-${slot}.vhdx`);
      flipByte(f, slot + 5);
      const out = path.join(dir, `header-${slot}.raw`);
      cliOk(["vhdx", "convert", f, out]);
      expect(cli(["vhdx", "check", f]).code).toBe(0);
      expect(readAt(out, 0, SIZE).equals(readAt(goodRaw, 0, SIZE))).toBe(true);
    }
  });

  it("fails when both headers are bad", () => {
    const f = copyOf("headers-bad.vhdx");
    flipByte(f, 64 * 1024 + 5);
    flipByte(f, 128 * 1024);
    fails(["vhdx", "info", f], f, /headers: no valid header \(header 1: checksum.*; header 2: signature/);
  });

  it("opens through region table 2 when table 1 is bad, and fails when both are", () => {
    const f = copyOf("regions.vhdx");
    flipByte(f, 192 * 1024 + 100);
    expect(cli(["vhdx", "check", f]).code).toBe(0);
    flipByte(f, 256 * 1024 + 4);
    fails(["vhdx", "info", f], f, /region tables: no valid region table \(region table 1: checksum.*region table 2: checksum/);
  });
});

describe("BAT", () => {
  it("an entry pointing past the end of the file: read fails cleanly and check reports it", () => {
    const f = copyOf("bat-past-eof.vhdx");
    const { bat } = layout(f);
    const e = Buffer.alloc(8);
    e.writeBigUInt64LE((BigInt(4000) << 20n) | 6n); // block 0 at 4000 MiB
    writeAt(f, bat, e);
    expect(cli(["vhdx", "info", f]).code).toBe(0);
    fails(["vhdx", "convert", f, path.join(dir, "bat-past-eof.raw")], f, /BAT entry of payload block 0: block at 4194304000 lies past the end/);
    fails(["vhdx", "check", f], f, /payload block 0: file offset 4194304000 lies past the end/);
  });

  it("two entries pointing at the same block: check reports the overlap", () => {
    const f = copyOf("bat-overlap.vhdx");
    const { bat } = layout(f);
    const first = readAt(f, bat, 8);
    writeAt(f, bat + 9 * 8, first); // block 9 now shares block 0's space
    const line = fails(["vhdx", "check", f], f, /payload block (0|9) at \d+ overlaps payload block (0|9) at \d+/);
    expect(line).not.toMatch(/past the end/);
  });

  it("an invalid payload state and reserved bits are reported by check", () => {
    const f = copyOf("bat-state.vhdx");
    const { bat } = layout(f);
    const e = Buffer.alloc(8);
    e.writeBigUInt64LE(4n); // reserved state 4
    writeAt(f, bat + 3 * 8, e);
    fails(["vhdx", "check", f], f, /BAT entry 3 \(payload block 3\): state 4 is not valid/);
    fails(["vhdx", "convert", f, path.join(dir, "bat-state.raw")], f, /payload block 3.*state 4/);
  });

  it("PARTIALLY_PRESENT in a dynamic file is refused", () => {
    const f = copyOf("bat-partial.vhdx");
    const { bat } = layout(f);
    const e = readAt(f, bat, 8);
    e[0] = (e[0]! & ~7) | 7;
    writeAt(f, bat, e);
    fails(["vhdx", "convert", f, path.join(dir, "bat-partial.raw")], f, /PARTIALLY_PRESENT is only valid in a differencing file/);
  });
});

describe("metadata", () => {
  it("an absurd virtual size (> 64 TiB)", () => {
    const f = copyOf("meta-size.vhdx");
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(65n * 1024n ** 4n);
    writeAt(f, layout(f).items.get(META_VIRTUAL_DISK_SIZE)!.offset, v);
    fails(["vhdx", "info", f], f, /metadata item Virtual Disk Size: 71468255805440 is not a non-zero multiple of 512 up to 64 TiB/);
  });

  it("a virtual size of 2^64 - 512 does not wrap or allocate", () => {
    const f = copyOf("meta-size-huge.vhdx");
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(2n ** 64n - 512n);
    writeAt(f, layout(f).items.get(META_VIRTUAL_DISK_SIZE)!.offset, v);
    fails(["vhdx", "info", f], f, /Virtual Disk Size/);
  });

  it("a 3 MiB block size", () => {
    const f = copyOf("meta-block.vhdx");
    const b = Buffer.alloc(4);
    b.writeUInt32LE(3 * MiB);
    writeAt(f, layout(f).items.get(META_FILE_PARAMETERS)!.offset, b);
    fails(["vhdx", "info", f], f, /metadata item File Parameters: BlockSize 3145728 is not a power of two/);
  });

  it("a metadata item offset outside the region", () => {
    const f = copyOf("meta-offset.vhdx");
    const { items, metaLength } = layout(f);
    const o = Buffer.alloc(4);
    o.writeUInt32LE(metaLength - 4);
    writeAt(f, items.get(META_VIRTUAL_DISK_SIZE)!.entryAt + 16, o);
    fails(["vhdx", "info", f], f, /metadata table entry 1 \(2fa54224.*\): item .* lies outside the metadata region/);
  });

  it("a bad metadata table signature", () => {
    const f = copyOf("meta-sig.vhdx");
    flipByte(f, layout(f).meta);
    fails(["vhdx", "info", f], f, /metadata table: signature/);
  });

  it("a missing required item", () => {
    const f = copyOf("meta-missing.vhdx");
    const { items } = layout(f);
    // Turn the Virtual Disk Size item into a user item: the system item is then missing.
    const flags = readAt(f, items.get(META_VIRTUAL_DISK_SIZE)!.entryAt + 24, 4);
    flags.writeUInt32LE(1); // IsUser, not required
    writeAt(f, items.get(META_VIRTUAL_DISK_SIZE)!.entryAt + 24, flags);
    fails(["vhdx", "info", f], f, /metadata: required item Virtual Disk Size .* is missing/);
  });
});

describe("parent locators", () => {
  let n = 0;
  /** P <- A <- B, all with 5-character names so locator paths can be swapped in place. */
  function chain(): { p: string; a: string; b: string } {
    n++;
    const p = path.join(dir, `P${n}x.vhdx`);
    const a = path.join(dir, `A${n}x.vhdx`);
    const b = path.join(dir, `B${n}x.vhdx`);
    createVhdx(p, { virtualSize: 8 * MiB, blockSize: MiB }).close();
    createVhdx(a, { parentPath: p }).close();
    createVhdx(b, { parentPath: a }).close();
    return { p, a, b };
  }

  it("pointing to a missing file", () => {
    const { a } = chain();
    replaceUtf16(a, `.\\P${n}x.vhdx`, `.\\Z${n}x.vhdx`);
    const line = fails(["vhdx", "info", a], a, /parent locator: parent not found \(looked for '.*Z\d+x\.vhdx'\).*--parent/);
    expect(line).not.toMatch(/ENOENT/);
    fails(["vhdx", "check", a], a, /parent locator: parent not found/);
    fails(["vhdx", "convert", a, path.join(dir, "missing.raw")], a, /parent not found/);
  });

  it("pointing outside the folder, to a file that is not a VHDX and to a folder", () => {
    const { a } = chain();
    const from = `.\\P${n}x.vhdx`;
    const outside = path.join(dir, "..", `Q${n}.vhdx`); // "..\\Q<n>.vhdx": same length as from
    writeFileSync(outside, "not a disk\n");
    try {
      replaceUtf16(a, from, `..\\Q${n}.vhdx`);
      const line = expectCleanFailure(cli(["vhdx", "check", a]));
      expect(line).toContain(outside);
      expect(line).toMatch(/file identifier: .*not a VHDX file/);
    } finally {
      rmSync(outside, { force: true });
    }
    // The parent folder itself (trailing separators resolve away).
    replaceUtf16(a, `..\\Q${n}.vhdx`, "..\\".padEnd(from.length, "\\"));
    const line = expectCleanFailure(cli(["vhdx", "check", a]));
    expect(line).toContain(path.resolve(dir, ".."));
    expect(line).not.toMatch(/^hvbackup: EISDIR/);
  });

  it("a folder given as the file", () => {
    fails(["vhdx", "info", dir], dir, /is a folder/);
    fails(["vhdx", "convert", dir, path.join(dir, "folder.raw")], dir, /is a folder/);
  });

  it("pointing to itself", () => {
    const { a } = chain();
    replaceUtf16(a, `.\\P${n}x.vhdx`, `.\\A${n}x.vhdx`);
    fails(["vhdx", "check", a], a, /parent locator: parent .* is already part of this chain \(the chain loops\)/);
  });

  it("in a loop A -> B -> A", () => {
    const { a, b } = chain();
    replaceUtf16(a, `.\\P${n}x.vhdx`, `.\\B${n}x.vhdx`);
    fails(["vhdx", "check", b], a, /the chain loops/);
    fails(["vhdx", "convert", b, path.join(dir, "loop.raw")], a, /the chain loops/);
  });

  it("with a parent_linkage that does not match the parent", () => {
    const { a, p } = chain();
    const w = createVhdx(path.join(dir, "other.vhdx"), { virtualSize: 8 * MiB });
    w.close();
    // Rewrite P's DataWriteGuid by writing to it.
    const r = spawnSync(process.execPath, ["-e", `const {VhdxImage}=require(${JSON.stringify(LIB_BUNDLE)});const d=VhdxImage.open(${JSON.stringify(p)},{writable:true});d.write(Buffer.alloc(512,1),0);d.close();`]);
    expect(r.status).toBe(0);
    fails(["vhdx", "info", a], a, /parent locator: parent_linkage \{[0-9a-f-]+\} does not match the DataWriteGuid \{[0-9a-f-]+\} of parent/);
  });

  it("a parent of another size, even with the right DataWriteGuid", () => {
    const p = path.join(dir, "sz-p.vhdx");
    const q = path.join(dir, "sz-q.vhdx");
    const c = path.join(dir, "sz-c.vhdx");
    createVhdx(p, { virtualSize: 8 * MiB }).close();
    createVhdx(c, { parentPath: p }).close();
    createVhdx(q, { virtualSize: 16 * MiB }).close();
    // Give q the DataWriteGuid p has (both header slots), so only the size differs.
    const guid = readAt(p, 64 * 1024 + 32, 16);
    for (const slot of [64 * 1024, 128 * 1024]) {
      writeAt(q, slot + 32, guid);
      fixHeaderChecksum(q, slot);
    }
    fails(["vhdx", "info", c, "--parent", q], c, /parent: parent '.*sz-q\.vhdx' has virtual size 16777216, the child 8388608/);
  });
});

describe("the log", () => {
  /** A file killed right after its first log entry was synced, and where that entry is. */
  function dirty(name: string): { file: string; entry: number } {
    const file = path.join(dir, name);
    const script = `const {createVhdx}=require(${JSON.stringify(LIB_BUNDLE)});const d=createVhdx(${JSON.stringify(file)},{virtualSize:${SIZE},blockSize:${MiB}});d.write(Buffer.alloc(4096,9),0);d.close();`;
    const r = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, HVBACKUP_CRASH_AT: "vhdx-log-written" } });
    expect(r.signal).toBe("SIGKILL");
    return { file, entry: layout(file).logOffset };
  }

  function fixEntryChecksum(file: string, at: number): void {
    const head = readAt(file, at, 4096);
    const length = head.readUInt32LE(8);
    const e = readAt(file, at, length);
    e.writeUInt32LE(checksumWithFieldZeroed(e, 4), 4);
    writeAt(file, at, e);
  }

  it("replays a valid entry (control)", () => {
    const { file } = dirty("log-ok.vhdx");
    const info = JSON.parse(cliOk(["vhdx", "info", file, "--json"]).stdout);
    expect(info.logReplayed).toBe(true);
    const out = path.join(dir, "log-ok.raw");
    cliOk(["vhdx", "convert", file, out]);
    expect(readAt(out, 0, 4096).every((b) => b === 9)).toBe(true);
  });

  it("ignores an entry with a bad checksum", () => {
    const { file, entry } = dirty("log-crc.vhdx");
    flipByte(file, entry + 4);
    const info = JSON.parse(cliOk(["vhdx", "info", file, "--json"]).stdout);
    expect(info.logReplayed).toBe(false);
    const out = path.join(dir, "log-crc.raw");
    cliOk(["vhdx", "convert", file, out]);
    expect(readAt(out, 0, 4096).every((b) => b === 0)).toBe(true);
  });

  it("ignores an entry whose LogGuid differs from the header's", () => {
    const { file, entry } = dirty("log-guid.vhdx");
    flipByte(file, entry + 40);
    fixEntryChecksum(file, entry);
    expect(JSON.parse(cliOk(["vhdx", "info", file, "--json"]).stdout).logReplayed).toBe(false);
    // And the other way round: the header names another log.
    const other = dirty("log-guid2.vhdx");
    for (const slot of [64 * 1024, 128 * 1024]) {
      flipByte(other.file, slot + 50);
      fixHeaderChecksum(other.file, slot);
    }
    expect(JSON.parse(cliOk(["vhdx", "info", other.file, "--json"]).stdout).logReplayed).toBe(false);
  });

  it("fails cleanly on an entry whose FlushedFileOffset lies beyond the file", () => {
    const { file, entry } = dirty("log-flushed.vhdx");
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(BigInt(1024 * MiB));
    writeAt(file, entry + 48, v);
    fixEntryChecksum(file, entry);
    fails(["vhdx", "info", file], file, /log: entry 1 needs the file to be at least 1073741824 bytes/);
    fails(["vhdx", "check", file], file, /log: entry 1/);
  });

  it("stays within bounded memory when a log entry header claims to be as long as a huge log", () => {
    // A sparse file (a few KiB on disk) whose header names a 512 MiB log holding one entry
    // header that claims 512 MiB - 4 KiB: the checksum is read in pieces, never all at once.
    const file = path.join(dir, "log-bomb.vhdx");
    createVhdx(file, { virtualSize: SIZE }).close();
    truncateSync(file, 1024 * MiB);
    const logLength = 512 * MiB;
    const guid = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    for (const slot of [64 * 1024, 128 * 1024]) {
      const h = readAt(file, slot, 4096);
      guid.copy(h, 48);
      h.writeUInt32LE(logLength, 68);
      writeAt(file, slot, h);
      fixHeaderChecksum(file, slot);
    }
    const e = Buffer.alloc(4096);
    e.write("loge", 0, "latin1");
    e.writeUInt32LE(logLength - 4096, 8);
    e.writeBigUInt64LE(1n, 16);
    guid.copy(e, 32);
    writeAt(file, layout(file).logOffset, e);
    const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, CLI, "vhdx", "info", file, "--json"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).logReplayed).toBe(false);
    const peakMiB = Number(r.stderr.trim().split("\n").pop()) / 1024;
    expect(peakMiB).toBeLessThan(256);
  });

  it("fails cleanly on an entry that writes into the header section", () => {
    const { file, entry } = dirty("log-target.vhdx");
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(BigInt(64 * 1024));
    writeAt(file, entry + 64 + 16, v);
    writeAt(file, entry + 64 + 16 + 32, v);
    fixEntryChecksum(file, entry);
    fails(["vhdx", "info", file], file, /log: entry 1 writes \[65536, 69632\) outside the file's structures/);
  });
});
