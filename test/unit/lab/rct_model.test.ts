import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { changesSince, degrade, issueRctId, newRct, trackWrite } from "../../../src/lab/host/rct";
import type { DiskRecord } from "../../../src/lab/host/model";

const SIZE = 16 * 1024 * 1024;

function covered(offsets: number[], lengths: number[], at: number): boolean {
  return offsets.some((o, i) => at >= o && at < o + lengths[i]!);
}

describe("RCT model", () => {
  it("always reports a superset of the writes since the id, never a write from before it, after any degradation", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ offset: fc.integer({ min: 0, max: SIZE - 4096 }), length: fc.integer({ min: 1, max: 4096 }) }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ offset: fc.integer({ min: 0, max: SIZE - 4096 }), length: fc.integer({ min: 1, max: 4096 }) }), { maxLength: 12 }),
        fc.constantFrom(1, 256 * 1024, 2 * 1024 * 1024),
        (before, after, grain) => {
          const rct = newRct(true);
          let seq = 0;
          for (const w of before) trackWrite(rct, ++seq, w.offset, w.length, 512);
          const id = issueRctId(rct, seq);
          for (const w of after) trackWrite(rct, ++seq, w.offset, w.length, 512);
          degrade([{ rct } as DiskRecord], grain);
          const r = changesSince(rct, id, Number.MAX_SAFE_INTEGER, 0, SIZE, SIZE, { rctMaxProcessed: SIZE });
          if (!r.ok) return false;
          for (const w of after) {
            if (!covered(r.offsets, r.lengths, w.offset) || !covered(r.offsets, r.lengths, w.offset + w.length - 1)) return false;
          }
          // Sorted, non-overlapping, inside the disk.
          for (let i = 0; i < r.offsets.length; i++) {
            if (r.offsets[i]! + r.lengths[i]! > SIZE) return false;
            if (i > 0 && r.offsets[i]! < r.offsets[i - 1]! + r.lengths[i - 1]!) return false;
          }
          // With exact tracking nothing else is reported.
          if (grain === 1) {
            const bytes = r.lengths.reduce((a, b) => a + b, 0);
            const maxExact = after.reduce((a, w) => a + Math.ceil((w.offset + w.length) / 512) * 512 - Math.floor(w.offset / 512) * 512, 0);
            if (bytes > maxExact) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it("issues ids that look like real ones and keeps them apart per disk", () => {
    const a = newRct(true);
    const b = newRct(true);
    const ia = issueRctId(a, 0);
    expect(ia).toMatch(/^rctX:[0-9a-f-]{36}:1$/);
    expect(changesSince(b, ia, 10, 0, SIZE, SIZE, { rctMaxProcessed: SIZE })).toMatchObject({ ok: false, code: 32773 });
    expect(issueRctId(newRct(false), 0)).toBe("");
  });
});
