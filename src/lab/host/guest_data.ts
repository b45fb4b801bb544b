/**
 * The bytes a lab guest writes: deterministic pseudo-random data from a seed, so a test can
 * recompute exactly what the guest wrote (`lab write --seed S`).
 *
 * Definition (stable; tests and other tools may rely on it): the seed string is hashed with
 * 32-bit FNV-1a to a state `s`; each 4-byte little-endian word i of the output is the next
 * value of mulberry32 started at `s`. Byte k of a write therefore depends only on the seed and
 * k, not on where the write lands.
 */

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The `length` bytes a guest write with `seed` produces.
 *
 * @example
 * guestData("1", 4).length; // 4
 */
export function guestData(seed: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const words = Math.ceil(length / 4);
  const view = new DataView(new ArrayBuffer(words * 4));
  let a = fnv1a(seed);
  for (let i = 0; i < words; i++) {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    view.setUint32(i * 4, (t ^ (t >>> 14)) >>> 0, true);
  }
  out.set(new Uint8Array(view.buffer, 0, length));
  return out;
}
