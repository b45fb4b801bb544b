/**
 * Sizes, limits and constants of the legacy VHD format ("Virtual Hard Disk Image Format
 * Specification", Microsoft, version 1.0, October 11, 2006).
 *
 * ```
 * fixed:      | data (Current Size bytes) | footer (512) |
 * dynamic /
 * differencing: | footer copy (512) | dynamic header (1024) | [locator data] | BAT | block … block | footer (512) |
 * block:      | sector bitmap (ceil(BlockSize/512/8) bytes, padded to 512) | BlockSize bytes of data |
 * ```
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** VHD sectors are always 512 bytes ("Mapping a Disk Sector to a Sector in the Block"). */
export const SECTOR_SIZE = 512;
/** The footer is 512 bytes ("Hard Disk Footer Format"); older products wrote 511, not supported. */
export const FOOTER_SIZE = 512;
/** The dynamic disk header is 1024 bytes ("Dynamic Disk Header Format"). */
export const DYNAMIC_HEADER_SIZE = 1024;
/** Where this implementation (and qemu, Hyper-V) puts the dynamic header: right after the footer copy. */
export const DYNAMIC_HEADER_OFFSET = 512;
/** One parent locator entry is 24 bytes; the header holds eight of them. */
export const PARENT_LOCATOR_ENTRY_SIZE = 24;
export const PARENT_LOCATOR_COUNT = 8;

export const FOOTER_COOKIE = "conectix";
export const DYNAMIC_HEADER_COOKIE = "cxsparse";
/** File Format Version and Header Version: major 1, minor 0. */
export const FORMAT_VERSION = 0x00010000;
/** Features bit 1 is reserved and "must always be set to 1". */
export const FEATURES_RESERVED = 0x00000002;

/** Disk Type values of the footer. */
export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;
export const DISK_TYPE_DIFFERENCING = 4;

/** A BAT entry that is not allocated. */
export const BAT_UNUSED = 0xffffffff;
/** Default block size of dynamic and differencing disks: 4096 sectors (2 MiB). */
export const DEFAULT_BLOCK_SIZE = 2 * MiB;
/** Block sizes this implementation accepts: a power of two in [512 B, 256 MiB]. */
export const MIN_BLOCK_SIZE = SECTOR_SIZE;
export const MAX_BLOCK_SIZE = 256 * MiB;

/**
 * Largest Current Size we create: 2040 GiB, the VHD limit of Hyper-V and qemu. Reading accepts
 * up to 2 TiB, the most a 32-bit sector number in the BAT can address.
 */
export const MAX_CREATE_SIZE = 2040 * GiB;
export const MAX_READ_SIZE = 2048 * GiB;
/** At most 2^24 BAT entries (64 MiB of BAT) are read; more would be absurd for a 2 TiB disk. */
export const MAX_BAT_ENTRIES = 1 << 24;
/** Parent locator data longer than this is refused (a Windows path is at most 32767 UTF-16 units). */
export const MAX_LOCATOR_DATA = 64 * KiB;
/** Differencing chains deeper than this are refused (Hyper-V's own limit is far lower). */
export const MAX_CHAIN_DEPTH = 128;

/** VHD time stamps count seconds since 2000-01-01T00:00:00Z. */
export const VHD_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Converts a JavaScript time to a VHD time stamp (clamped to the u32 range). */
export function toVhdTimestamp(ms: number): number {
  const s = Math.floor((ms - VHD_EPOCH_MS) / 1000);
  return Math.min(Math.max(s, 0), 0xffffffff);
}

/** Rounds `n` up to a multiple of `m`. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
