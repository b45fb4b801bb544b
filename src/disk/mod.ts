/**
 * What every virtual disk format offers (`VirtualDisk`): the contract below the formats. The
 * formats (src/vhdx, src/vhd) implement it; src/disks opens and converts files of any format.
 *
 * @module
 */
export type { VirtualDisk, DiskType, ByteRange } from "./virtual_disk";
