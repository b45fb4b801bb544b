/** Cylinders / heads / sectors per track as stored in the footer's Disk Geometry field. */
export interface ChsGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** The largest geometry the field can hold: 65535 × 16 × 255 sectors (about 127 GiB). */
export const MAX_CHS_SECTORS = 65535 * 16 * 255;

/**
 * The CHS geometry of a disk of `totalSectors` 512-byte sectors, computed with the algorithm of
 * the VHD specification's appendix "CHS Calculation". The result rounds down: C×H×S may address
 * fewer sectors than the disk has, and disks above 127 GiB get the maximum geometry.
 *
 * This implementation (like Hyper-V, creator "win ") still writes the requested size as Current
 * Size and reads the size from Current Size, never from C×H×S; the geometry is informational.
 *
 * @example computeGeometry(131072) // 64 MiB: { cylinders: 963, heads: 8, sectorsPerTrack: 17 }
 */
export function computeGeometry(totalSectors: number): ChsGeometry {
  const total = Math.min(Math.floor(totalSectors), MAX_CHS_SECTORS);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (total >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    heads = Math.floor((cylinderTimesHeads + 1023) / 1024);
    if (heads < 4) heads = 4;
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(total / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}
