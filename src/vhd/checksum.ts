/**
 * The VHD checksum ("Hard Disk Footer Format", Checksum): the one's complement of the byte sum
 * of the structure, with the 4-byte checksum field counted as zero. The footer and the dynamic
 * header use the same rule over 512 and 1024 bytes.
 *
 * @example vhdChecksum(new Uint8Array(512), 64) // 0xffffffff
 */
export function vhdChecksum(bytes: Uint8Array, fieldOffset: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i >= fieldOffset && i < fieldOffset + 4) continue;
    sum += bytes[i]!;
  }
  return ~sum >>> 0;
}
