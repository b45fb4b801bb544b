// Preloaded (NODE_OPTIONS=--require) into a CLI run by unfinished_exit.test.ts: timers of 100 ms
// to 5 s never fire and keep nothing alive, so any wait on one is a wait nothing will end. The
// pipeline's Atomics.waitAsync is kept alive by such a timer: with it gone, node's event loop
// empties in the middle of a copy, as it would after any lost wake-up.
const realSetTimeout = global.setTimeout;
const realClearTimeout = global.clearTimeout;
const dead = () => ({ unref() { return this; }, ref() { return this; }, hasRef() { return false; }, refresh() { return this; }, [Symbol.toPrimitive]() { return 0; } });
global.setTimeout = function (fn, ms, ...args) {
  if (typeof ms === "number" && ms >= 100 && ms < 5000) return dead();
  return realSetTimeout(fn, ms, ...args);
};
global.clearTimeout = function (t) {
  if (t && typeof t === "object" && !("_idleTimeout" in t)) return undefined;
  return realClearTimeout(t);
};
