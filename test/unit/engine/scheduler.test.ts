import { describe, expect, it } from "vitest";
import { type ScheduledTask, runScheduled } from "../../../src/engine/scheduler";

/** Fake tasks that record what ran at once, per resource, as the tasks themselves see it. */
function fakeTasks(specs: Array<{ key: string; volume?: string; host?: string; fail?: boolean; ticks?: number }>) {
  const running = new Map<string, number>();
  const seenPeak = new Map<string, number>();
  const started: string[] = [];
  let total = 0;
  let totalPeak = 0;
  const tasks: ScheduledTask<string>[] = specs.map((s) => {
    const res = [...(s.volume ? [{ kind: "volume", name: s.volume }] : []), ...(s.host ? [{ kind: "host", name: s.host }] : [])];
    return {
      key: s.key,
      resources: res,
      run: async () => {
        started.push(s.key);
        total++;
        totalPeak = Math.max(totalPeak, total);
        for (const r of res) {
          const k = `${r.kind}:${r.name}`;
          running.set(k, (running.get(k) ?? 0) + 1);
          seenPeak.set(k, Math.max(seenPeak.get(k) ?? 0, running.get(k)!));
        }
        // Yield a few times so other tasks really overlap with this one.
        for (let i = 0; i < (s.ticks ?? 3); i++) await Promise.resolve();
        await new Promise((r) => setImmediate(r));
        for (const r of res) running.set(`${r.kind}:${r.name}`, running.get(`${r.kind}:${r.name}`)! - 1);
        total--;
        if (s.fail) throw new Error(`${s.key} failed`);
        return s.key.toUpperCase();
      },
    };
  });
  return { tasks, seenPeak, started, totalPeak: () => totalPeak };
}

describe("runScheduled", () => {
  it("never runs more than the overall limit nor more than the limit per volume and per host", async () => {
    const specs = Array.from({ length: 24 }, (_, i) => ({ key: `vm${i}`, volume: `V${i % 3}`, host: `N${i % 2}` }));
    const f = fakeTasks(specs);
    const run = await runScheduled(f.tasks, { total: 4, perKind: { volume: 1, host: 2 } });
    expect(run.outcomes.every((o) => o.ok)).toBe(true);
    expect(f.totalPeak()).toBeLessThanOrEqual(4);
    for (const v of ["V0", "V1", "V2"]) expect(f.seenPeak.get(`volume:${v}`)).toBe(1);
    for (const n of ["N0", "N1"]) expect(f.seenPeak.get(`host:${n}`)).toBeLessThanOrEqual(2);
    // The limits were reached, not merely respected by running one at a time.
    expect(f.totalPeak()).toBe(3);
    expect(run.peaks.perResource["volume:V0"]).toBe(1);
    expect(run.peaks.total).toBe(f.totalPeak());
  });

  it("uses the whole overall limit when nothing else limits", async () => {
    const f = fakeTasks(Array.from({ length: 10 }, (_, i) => ({ key: `vm${i}` })));
    const run = await runScheduled(f.tasks, { total: 5 });
    expect(f.totalPeak()).toBe(5);
    expect(run.outcomes.map((o) => (o.ok ? o.value : "x"))).toEqual(Array.from({ length: 10 }, (_, i) => `VM${i}`));
  });

  it("a failed task is its own outcome: every other task still runs", async () => {
    const f = fakeTasks([{ key: "a", fail: true }, { key: "b" }, { key: "c", fail: true }, { key: "d" }]);
    const run = await runScheduled(f.tasks, { total: 1 });
    expect(run.outcomes.map((o) => o.ok)).toEqual([false, true, false, true]);
    expect((run.outcomes[0] as { error: Error }).error.message).toBe("a failed");
    expect(f.started).toEqual(["a", "b", "c", "d"]);
  });

  it("a task that throws before returning a promise fails alone", async () => {
    const run = await runScheduled<number>(
      [
        { key: "sync", resources: [], run: () => { throw new Error("boom"); } },
        { key: "fine", resources: [], run: async () => 7 },
      ],
      { total: 1 },
    );
    expect(run.outcomes.map((o) => o.ok)).toEqual([false, true]);
  });

  it("is fair: a busy volume does not hold back the tasks of other volumes, and each volume keeps submission order", async () => {
    // Five VMs on V0 first, then one on V1: with one slot per volume, V1's VM starts second, not sixth.
    const specs = [...Array.from({ length: 5 }, (_, i) => ({ key: `a${i}`, volume: "V0" })), { key: "b0", volume: "V1" }];
    const f = fakeTasks(specs);
    await runScheduled(f.tasks, { total: 2, perKind: { volume: 1 } });
    expect(f.started.slice(0, 2)).toEqual(["a0", "b0"]);
    expect(f.started.filter((k) => k.startsWith("a"))).toEqual(["a0", "a1", "a2", "a3", "a4"]);
  });

  it("a task on two volumes takes a slot on both", async () => {
    const f = fakeTasks([{ key: "x", volume: "V0" }, { key: "y", volume: "V1" }]);
    const both: ScheduledTask<string> = { key: "both", resources: [{ kind: "volume", name: "V0" }, { kind: "volume", name: "V1" }], run: async () => "BOTH" };
    const run = await runScheduled([f.tasks[0]!, both, f.tasks[1]!], { total: 3, perKind: { volume: 1 } });
    // "both" waits for x; y starts beside x; so at most one task per volume at any time.
    expect(run.peaks.perResource["volume:V0"]).toBe(1);
    expect(run.peaks.perResource["volume:V1"]).toBe(1);
    expect(run.outcomes.every((o) => o.ok)).toBe(true);
  });

  it("rejects limits below 1 and runs an empty list", async () => {
    await expect(runScheduled([], { total: 0 })).rejects.toThrow(/at least 1/);
    await expect(runScheduled([], { total: 1, perKind: { volume: 0 } })).rejects.toThrow(/per volume/);
    expect((await runScheduled([], { total: 1 })).outcomes).toEqual([]);
  });
});

describe("SlotLimiter", () => {
  it("gives slots within the limits, earliest fitting waiter first, and each release once", async () => {
    const { SlotLimiter } = await import("../../../src/engine/slot_limiter");
    const lim = new SlotLimiter({ total: 2, perKind: { volume: 1 } });
    const order: string[] = [];
    const take = (name: string, volume: string) => lim.acquire([{ kind: "volume", name: volume }]).then((release) => (order.push(name), release));
    const a = await take("a", "V0");
    const pb = take("b", "V0"); // waits for a
    const c = await take("c", "V1"); // V1 is free: goes before b
    expect(order).toEqual(["a", "c"]);
    const pd = take("d", "V1");
    a();
    a(); // a second release changes nothing
    const b = await pb;
    expect(order).toEqual(["a", "c", "b"]);
    c();
    const d = await pd;
    b();
    d();
    expect(order).toEqual(["a", "c", "b", "d"]);
    expect(lim.peaks.perResource).toEqual({ "volume:V0": 1, "volume:V1": 1 });
    expect(lim.peaks.total).toBe(2);
  });
});
