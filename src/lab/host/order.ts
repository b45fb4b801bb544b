/**
 * Seeded choices of the lab: the order instances come back in, and which calls answer with a
 * job. WMI documents no enumeration order, and real hosts vary it (across VMMS restarts,
 * configuration edits, checkpoints); a client that pairs objects by position works by luck.
 * The lab shuffles every answer with a seed fixed at `lab init`, so such a client fails a test
 * instead, and a failing run can be replayed with the same seed.
 */
import type { LabConfig } from "./model";

/** A small deterministic generator (mulberry32) of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a salt into a seed (FNV-1a over the salt's text). */
export function mixSeed(seed: number, salt: string | number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const ch of String(salt)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The lab's seed (labs made before seeds existed use 1). */
export function labSeed(config: LabConfig): number {
  return config.seed ?? 1;
}

/** True when answers are shuffled (the default; `stable` only when asked for at `lab init`). */
export function shufflesOrder(config: LabConfig): boolean {
  return (config.enumerationOrder ?? "shuffled") === "shuffled";
}

/** A copy of `items` in an order drawn from `seed` (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rand = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
