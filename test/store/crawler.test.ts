import assert from "node:assert/strict";
import { test } from "node:test";
import { Seg } from "../../src/store/arena.ts";
import { StoreMode } from "../../src/store/cache.ts";
import { C } from "../../src/store/class-stats.ts";
import { Crawler, type CrawlerOptions } from "../../src/store/crawler.ts";
import { testStore } from "./fixture.ts";

function setup(options: CrawlerOptions = {}) {
  const { cache, engine, clock } = testStore({ limitBytes: 64 * 1024 * 1024, hashSeed: 1 });
  const counters = cache.counters;
  const crawler = new Crawler(engine, cache, options);
  const set = (key: string, value: string, ttl = 0): void => {
    const k = Buffer.from(key, "latin1");
    const h = cache.beginStore(StoreMode.set, k, 0, k.length, 0, cache.absoluteExptime(ttl), value.length);
    engine.writeValue(h, 0, Buffer.from(value, "latin1"), 0, value.length);
    cache.commitStore(h, StoreMode.set, 0, false);
  };
  const has = (key: string): boolean => {
    const k = Buffer.from(key, "latin1");
    return engine.find(k, 0, k.length) >= 0;
  };
  const checked = (cls = 1): number => engine.classStats.get(cls, C.crawler_items_checked);
  const reclaimed = (cls = 1): number => engine.classStats.get(cls, C.crawler_reclaimed);
  /** Ticks until the running crawl ends; returns how many ticks it took. */
  const runOut = (): number => {
    let ticks = 0;
    while (crawler.running) {
      crawler.tick(clock.now());
      ticks++;
      assert.ok(ticks < 100_000, "crawl never ends");
    }
    return ticks;
  };
  const all = new Uint8Array(64).fill(1, 1);
  return { clock, counters, engine, cache, crawler, set, has, checked, reclaimed, runOut, all };
}

test("expired items are reclaimed without any access", () => {
  const t = setup();
  for (let i = 0; i < 100; i++) t.set(`ttl${i}`, "v", 10);
  for (let i = 0; i < 50; i++) t.set(`keep${i}`, "v");
  t.clock.advance(11);
  assert.equal(t.crawler.start(t.all, t.clock.now()), true);
  t.runOut();
  assert.equal(t.engine.count(), 50);
  for (let i = 0; i < 100; i++) assert.equal(t.has(`ttl${i}`), false);
  assert.equal(t.reclaimed(), 100);
  assert.equal(t.engine.classStats.get(1, C.expired_unfetched), 100);
  assert.equal(t.engine.stats.expiredUnfetched, 100);
  // The crawler's reclaims are not the LRU tail's `reclaimed`, and nothing was looked up.
  assert.equal(t.engine.classStats.get(1, C.reclaimed), 0);
  assert.equal(t.counters.getExpired, 0);
  assert.equal(t.checked(), 150);
});

test("flushed items are reclaimed but not counted as expired_unfetched", () => {
  const t = setup();
  for (let i = 0; i < 10; i++) t.set(`k${i}`, "v");
  t.clock.advance(1);
  t.cache.flushAll(0);
  t.crawler.start(t.all, t.clock.now());
  t.runOut();
  assert.equal(t.engine.count(), 0);
  assert.equal(t.reclaimed(), 10);
  assert.equal(t.engine.classStats.get(1, C.expired_unfetched), 0);
});

test("each tick checks a bounded number of items", () => {
  const t = setup({ itemsPerTick: 10 });
  for (let i = 0; i < 95; i++) t.set(`k${i}`, "v", 5);
  t.clock.advance(6);
  t.crawler.start(t.all, t.clock.now());
  assert.equal(t.checked(), 10);
  let before = t.checked();
  let ticks = 0;
  while (t.crawler.running) {
    t.crawler.tick(t.clock.now());
    assert.ok(t.checked() - before <= 10);
    before = t.checked();
    ticks++;
  }
  assert.equal(t.checked(), 95);
  assert.ok(ticks >= 9, `${ticks} ticks`);
  assert.equal(t.engine.count(), 0);
});

test("each tick steps over a bounded number of chunks", () => {
  const t = setup({ chunksPerTick: 1000 });
  t.set("a", "v", 1);
  t.clock.advance(2);
  t.crawler.start(t.all, t.clock.now());
  // One page of class 1 holds 10922 chunks: the crawl needs at least 11 slices.
  assert.ok(t.runOut() >= 10);
  assert.equal(t.has("a"), false);
});

test("the crawl survives LRU churn between slices", () => {
  const t = setup({ itemsPerTick: 7, chunksPerTick: 500 });
  for (let i = 0; i < 300; i++) t.set(`old${i}`, "v", 3);
  t.clock.advance(4);
  t.crawler.start(t.all, t.clock.now());
  let n = 0;
  while (t.crawler.running) {
    t.set(`new${n}`, "x".repeat(n % 50));
    const k = Buffer.from(`new${n >> 1}`);
    t.cache.delete(k, 0, k.length);
    n++;
    t.crawler.tick(t.clock.now());
  }
  for (let i = 0; i < 300; i++) assert.equal(t.has(`old${i}`), false);
  assert.equal(t.engine.count(), n - Math.ceil(n / 2));
});

test("tocrawl limits the items checked per class", () => {
  const t = setup();
  for (let i = 0; i < 20; i++) t.set(`k${i}`, "v", 1);
  t.crawler.tocrawl = 5;
  t.clock.advance(2);
  t.crawler.start(t.all, t.clock.now());
  t.runOut();
  assert.equal(t.checked(), 5);
  assert.equal(t.engine.count(), 15);
});

test("only the named classes are crawled", () => {
  const t = setup();
  t.set("small", "v", 1);
  t.set("big", "v".repeat(200), 1);
  const big = t.engine.slabClass(t.engine.find(Buffer.from("big"), 0, 3));
  t.clock.advance(2);
  const only = new Uint8Array(64);
  only[big] = 1;
  t.crawler.start(only, t.clock.now());
  t.runOut();
  assert.equal(t.has("big"), false);
  assert.equal(t.has("small"), true);
});

test("a second crawl is refused while one runs, until the next tick", () => {
  const t = setup();
  t.set("a", "v");
  assert.equal(t.crawler.start(t.all, t.clock.now()), true);
  assert.equal(t.crawler.start(t.all, t.clock.now()), false);
  assert.equal(t.crawler.starts, 1);
  t.crawler.tick(t.clock.now());
  assert.equal(t.crawler.running, false);
  assert.equal(t.crawler.start(t.all, t.clock.now()), true);
});

test("the autocrawl starts at once, then waits longer when it finds nothing to expire", () => {
  const t = setup();
  t.set("forever", "v");
  t.crawler.tick(t.clock.now());
  assert.equal(t.crawler.starts, 1);
  t.runOut();
  // Nothing had a TTL: memcached waits 60 s more (plus its 5 s minimum) before the next crawl.
  t.set("soon", "v", 30);
  for (let s = 0; s < 64; s++) {
    t.clock.advance(1);
    t.crawler.tick(t.clock.now());
  }
  assert.equal(t.crawler.starts, 1);
  assert.equal(t.has("soon"), true, "expired but not crawled yet, never accessed");
  t.clock.advance(2);
  t.crawler.tick(t.clock.now());
  t.runOut();
  assert.equal(t.crawler.starts, 2);
  assert.equal(t.has("soon"), false);
});

test("the autocrawl reclaims expiring items without any access", () => {
  const t = setup();
  t.crawler.tick(t.clock.now());
  t.runOut();
  for (let i = 0; i < 10; i++) t.set(`k${i}`, "v", 2);
  for (let s = 0; s < 70; s++) {
    t.clock.advance(1);
    t.crawler.tick(t.clock.now());
  }
  assert.equal(t.engine.count(), 0);
  assert.equal(t.reclaimed(), 10);
  assert.equal(t.counters.getExpired, 0);
});

test("a disabled crawler does nothing; enable reports whether it was off", () => {
  const t = setup();
  t.crawler.disable();
  t.set("a", "v", 1);
  t.clock.advance(100);
  t.crawler.tick(t.clock.now());
  assert.equal(t.crawler.starts, 0);
  assert.equal(t.has("a"), true);
  assert.equal(t.crawler.enable(), true);
  assert.equal(t.crawler.enable(), false);
});

test("disable abandons a running crawl", () => {
  const t = setup({ itemsPerTick: 1 });
  for (let i = 0; i < 5; i++) t.set(`k${i}`, "v", 1);
  t.clock.advance(2);
  t.crawler.start(t.all, t.clock.now());
  t.crawler.disable();
  assert.equal(t.crawler.running, false);
  assert.equal(t.engine.count(), 4);
});

test("dump lists items one LRU at a time in turn, oldest first; dead ones are not live", () => {
  const t = setup();
  for (const k of ["a", "b", "c", "d"]) t.set(k, "v");
  t.set("x", "v".repeat(200));
  t.set("y", "v".repeat(200));
  t.set("gone", "v", 1);
  t.engine.maintain(t.clock.now());
  t.clock.advance(2);
  const keyOf = (h: number): string => Buffer.from(t.engine.keyBuffer(h).subarray(t.engine.keyStart(h), t.engine.keyStart(h) + t.engine.keyLength(h))).toString();
  // The expected order, derived from the LRU lists as memcached's crawler walks them.
  const expected: string[] = [];
  const cursors: number[] = [];
  for (let seg = Seg.hot; seg <= Seg.temp; seg++) for (let cls = 1; cls < 64; cls++) cursors.push(cls <= t.engine.classes.largest ? t.engine.tail(cls, seg) : 0);
  while (cursors.some((h) => h !== 0)) {
    for (let i = 0; i < cursors.length; i++) {
      const h = cursors[i];
      if (h === 0) continue;
      if (keyOf(h) !== "gone") expected.push(keyOf(h));
      cursors[i] = t.engine.arena.i32[h * 2];
    }
  }
  const order = t.crawler.dump(t.all);
  assert.equal(order.length, 7);
  const seen = [...order].filter((h) => t.crawler.isLive(h, t.clock.now())).map(keyOf);
  assert.deepEqual(seen, expected);
  assert.deepEqual([...seen].sort(), ["a", "b", "c", "d", "x", "y"]);
  // Interleaved: the two classes alternate while both have items left.
  assert.notDeepEqual(seen.slice(0, 4), ["a", "b", "c", "d"]);
  assert.equal(t.has("gone"), true, "dump does not reclaim");
  assert.equal(t.checked(1) + t.checked(t.engine.slabClass(t.engine.find(Buffer.from("x"), 0, 1))), 7);
});

test("a dumped handle is not live once its item is gone or its page changed class", () => {
  const t = setup();
  t.set("a", "v");
  t.set("b", "v");
  const order = t.crawler.dump(t.all);
  const now = t.clock.now();
  assert.ok(order.every((h) => t.crawler.isLive(h, now)));
  t.cache.delete(Buffer.from("a"), 0, 1);
  assert.deepEqual([...order].map((h) => t.crawler.isLive(h, now)), [false, true]);
  // A page reassigned to a class of 120-byte chunks: the old 96-byte boundaries mostly fall inside chunks.
  const page = Math.floor((order[1] * 8) / (1024 * 1024));
  t.engine.arena.pageClass[page] = 2;
  assert.equal(t.crawler.isLive(order[1] + 12, now), false);
  assert.equal(t.crawler.isLive(0, now), false);
});

test("a chunked value is crawled with the largest class, whose LRU it is on", () => {
  const t = setup();
  t.set("big", "v".repeat(600 * 1024), 1);
  t.set("small", "v", 1);
  t.clock.advance(2);
  const only = new Uint8Array(64);
  only[t.engine.classes.largest] = 1;
  t.crawler.start(only, t.clock.now());
  t.runOut();
  assert.equal(t.has("big"), false);
  assert.equal(t.has("small"), true);
  assert.equal(t.reclaimed(t.engine.classes.largest), 1);
});

test("like memcached's, the crawler leaves an item expiring this very second to the next one", () => {
  const t = setup();
  t.set("a", "v", 5);
  t.clock.advance(5);
  t.crawler.start(t.all, t.clock.now());
  t.runOut();
  assert.equal(t.has("a"), true);
  assert.equal(t.cache.lookup(Buffer.from("a"), 0, 1, false), -1, "a fetch misses it already");
  t.set("b", "v", 5);
  t.clock.advance(6);
  t.crawler.start(t.all, t.clock.now());
  t.runOut();
  assert.equal(t.has("b"), false);
});
