/**
 * Fixed offsets, sizes and identifiers of the VHDX format (MS-VHDX v1.0, [MS-VHDX] 2.1-2.6).
 *
 * ```
 * 0       64K      128K     192K      256K     320K            1 MiB ...
 * | FileId | Header1 | Header2 | RegionT1 | RegionT2 | reserved  | log, BAT, metadata, blocks (1 MiB aligned)
 * ```
 */
export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Every structure in the header section occupies a 64 KiB slot (2.1). */
export const SLOT_SIZE = 64 * KiB;
export const FILE_IDENTIFIER_OFFSET = 0;
export const HEADER1_OFFSET = 64 * KiB;
export const HEADER2_OFFSET = 128 * KiB;
export const REGION_TABLE1_OFFSET = 192 * KiB;
export const REGION_TABLE2_OFFSET = 256 * KiB;
/** The header section; everything else lives at 1 MiB-aligned offsets after it (2.1). */
export const HEADER_SECTION_SIZE = MiB;

/** A header is 4 KiB at the start of its slot; its checksum covers those 4 KiB (2.2.2). */
export const HEADER_SIZE = 4 * KiB;
/** A region table is the whole 64 KiB slot; its checksum covers all of it (2.2.3). */
export const REGION_TABLE_SIZE = 64 * KiB;
/** At most 2047 region table entries and 2047 metadata table entries (2.2.3, 2.6.1). */
export const MAX_TABLE_ENTRIES = 2047;
/** The metadata table is the first 64 KiB of the metadata region (2.6.1). */
export const METADATA_TABLE_SIZE = 64 * KiB;
/** Metadata items may be at most 1 MiB long (2.6.1.2). */
export const MAX_METADATA_ITEM_LENGTH = MiB;
/** Log entries are made of 4 KiB sectors (2.3). */
export const LOG_SECTOR_SIZE = 4 * KiB;

/** Signatures as they appear in the file (ASCII). */
export const SIG_FILE = "vhdxfile";
export const SIG_HEADER = "head";
export const SIG_REGION = "regi";
export const SIG_METADATA = "metadata";
export const SIG_LOG_ENTRY = "loge";
export const SIG_ZERO_DESC = "zero";
export const SIG_DATA_DESC = "desc";
export const SIG_DATA_SECTOR = "data";

/** Region GUIDs (2.2.3.2). */
export const REGION_BAT = "2dc27766-f623-4200-9d64-115e9bfd4a08";
export const REGION_METADATA = "8b7ca206-4790-4b9a-b8fe-575f050f886e";

/** System metadata item GUIDs (2.6.2). */
export const META_FILE_PARAMETERS = "caa16737-fa36-4d43-b3b6-33f0aa44e76b";
export const META_VIRTUAL_DISK_SIZE = "2fa54224-cd1b-4876-b211-5dbed83bf4b8";
export const META_PAGE83 = "beca12ab-b2e6-4523-93ef-c309e000c746";
export const META_LOGICAL_SECTOR_SIZE = "8141bf1d-a96f-4709-ba47-f233a8faab5f";
export const META_PHYSICAL_SECTOR_SIZE = "cda348c7-445d-4471-9cc9-e9885251c556";
export const META_PARENT_LOCATOR = "a8d35f2d-b30b-454d-abf7-d3d84834ab0c";
/** The only parent locator type MS-VHDX defines (2.6.2.6.3). */
export const PARENT_LOCATOR_TYPE_VHDX = "b04aefb7-d19e-4a81-b789-25b8e9445913";

/** Block sizes are powers of two from 1 MiB to 256 MiB (2.6.2.1). */
export const MIN_BLOCK_SIZE = MiB;
export const MAX_BLOCK_SIZE = 256 * MiB;
/** Largest virtual disk VHDX supports: 64 TiB (2.6.2.2). */
export const MAX_VIRTUAL_SIZE = 64 * 1024 * 1024 * MiB;
/** One sector bitmap block covers 2^23 sectors (2.5). */
export const SECTORS_PER_BITMAP_BLOCK = 2 ** 23;

/** Payload BAT entry states (2.5.1.1). */
export const PAYLOAD_NOT_PRESENT = 0;
export const PAYLOAD_UNDEFINED = 1;
export const PAYLOAD_ZERO = 2;
export const PAYLOAD_UNMAPPED = 3;
/** Value of UNMAPPED in the v0.95 draft, still written by old tools; read as unmapped (as qemu). */
export const PAYLOAD_UNMAPPED_V095 = 5;
export const PAYLOAD_FULLY_PRESENT = 6;
export const PAYLOAD_PARTIALLY_PRESENT = 7;
/** Sector bitmap BAT entry states (2.5.1.2). */
export const SB_NOT_PRESENT = 0;
export const SB_PRESENT = 6;

/** Creator string we write into the file identifier (informational only). */
export const CREATOR = "HyperVBackup";
