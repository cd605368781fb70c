import assert from "node:assert/strict";
import { test } from "node:test";
import { ALLOC_TOO_LARGE, ItemBits } from "../../src/store/engine.ts";
import { ArithResult, type Cache, DeleteResult, KEY_BINARY_BIT, type StoreOutcome, StoreMode, StoreResult, WinToken } from "../../src/store/cache.ts";
import { testStore as setup, valueOf } from "./fixture.ts";

const K = (s: string): Buffer => Buffer.from(s);

function store(cache: Cache, key: string, value: string, ttl = 0, mode: StoreMode = StoreMode.set, cas = 0, invalidate = false): StoreOutcome {
  const k = K(key);
  const h = cache.beginStore(mode, k, 0, k.length, 0, cache.absoluteExptime(ttl), value.length);
  assert.ok(h >= 0);
  cache.engine.writeValue(h, 0, Buffer.from(value), 0, value.length);
  return cache.commitStore(h, mode, cas, invalidate);
}

function find(cache: Cache, key: string): number {
  const k = K(key);
  return cache.lookup(k, 0, k.length, false);
}

const value = (cache: Cache, h: number): string => valueOf(cache, h).toString("latin1");

test("vivify links an empty item with a fresh CAS; the first fetch wins, later ones see Z", () => {
  const { cache } = setup();
  const h = cache.vivify(K("a"), 0, 1);
  assert.ok(h >= 0);
  assert.equal(cache.engine.valueLength(h), 0);
  assert.equal(cache.engine.cas(h), 1);
  assert.equal(cache.winTokens(h, true), WinToken.won);
  assert.equal(cache.winTokens(find(cache, "a"), false), WinToken.alreadySent);
});

test("recacheWins: only before the recache time, with a TTL, and once", () => {
  const { cache, clock } = setup();
  store(cache, "a", "x", 100);
  const h = find(cache, "a");
  assert.equal(cache.recacheWins(h, cache.absoluteExptime(50)), false);
  clock.advance(60);
  assert.equal(cache.recacheWins(h, cache.absoluteExptime(50)), true);
  cache.winTokens(h, true);
  assert.equal(cache.recacheWins(h, cache.absoluteExptime(50)), false);
  store(cache, "b", "x");
  assert.equal(cache.recacheWins(find(cache, "b"), cache.absoluteExptime(50)), false, "no TTL, nothing to refresh early");
});

test("metaDelete with stale marks instead of deleting, bumps CAS, resets the win", () => {
  const { cache } = setup();
  store(cache, "a", "x", 100);
  let h = find(cache, "a");
  cache.winTokens(h, true);
  const before = cache.engine.cas(h);
  assert.equal(cache.metaDelete(K("a"), 0, 1, false, 0, true, true, cache.absoluteExptime(30)), DeleteResult.deleted);
  h = find(cache, "a");
  assert.ok(h >= 0);
  assert.ok(cache.engine.cas(h) > before);
  assert.equal(cache.engine.exptime(h), cache.now() + 30);
  assert.equal(cache.winTokens(h, false), WinToken.stale | WinToken.won);
  assert.equal(cache.winTokens(h, false), WinToken.stale | WinToken.alreadySent);
});

test("metaDelete honours the CAS and counts like memcached", () => {
  const { cache } = setup();
  store(cache, "a", "x");
  assert.equal(cache.metaDelete(K("a"), 0, 1, true, 99, false, false, 0), DeleteResult.exists);
  assert.equal(cache.metaDelete(K("a"), 0, 1, true, 1, false, false, 0), DeleteResult.deleted);
  assert.equal(cache.metaDelete(K("a"), 0, 1, false, 0, false, false, 0), DeleteResult.notFound);
  assert.equal(cache.counters.deleteHits, 1);
  assert.equal(cache.counters.deleteMisses, 2);
});

test("a set with an older CAS and invalidate stores a stale value that keeps TTL and win", () => {
  const { cache } = setup();
  store(cache, "a", "v1", 100);
  store(cache, "a", "v2", 200);
  cache.winTokens(find(cache, "a"), true);
  assert.ok(store(cache, "a", "v0", 0, StoreMode.cas, 1, true) > 0, "stored");
  const h = find(cache, "a");
  assert.equal(value(cache, h), "v0");
  assert.equal(cache.engine.exptime(h), cache.now() + 200);
  assert.equal(cache.winTokens(h, false), WinToken.alreadySent | WinToken.stale);
  assert.equal(store(cache, "a", "v9", 0, StoreMode.cas, 99, true), StoreResult.exists, "a newer CAS still fails");
});

test("arith with a seed creates a counter it can then update in place", () => {
  const { cache } = setup();
  const created = cache.arith(K("n"), 0, 1, true, 5n, 0, { initial: 10n, exptime: cache.absoluteExptime(100) });
  assert.equal(created.code, ArithResult.created);
  assert.equal(created.value, 10n);
  assert.equal(cache.engine.exptime(created.handle), cache.now() + 100);
  assert.equal(created.cas, cache.engine.cas(created.handle));
  const down = cache.arith(K("n"), 0, 1, false, 3n, 0);
  assert.equal(down.code, ArithResult.ok);
  assert.equal(down.value, 7n);
  assert.equal(down.inPlace, true);
  assert.equal(value(cache, down.handle), "7 ");
  assert.equal(down.cas, created.cas + 1);
  const up = cache.arith(K("n"), 0, 1, true, 1000n, 0);
  assert.equal(up.code, ArithResult.ok);
  assert.equal(up.inPlace, false);
  assert.equal(value(cache, up.handle), "1007");
  assert.equal(up.handle, find(cache, "n"));
  assert.equal(cache.arith(K("n"), 0, 1, true, 1n, 1).code, ArithResult.casMismatch);
});

test("delete with a CAS removes only the item with that CAS and counts no miss on a mismatch", () => {
  const { cache } = setup();
  const counters = cache.counters;
  const cas = store(cache, "a", "v");
  assert.equal(cache.delete(K("a"), 0, 1, cas + 1), DeleteResult.exists);
  assert.equal(counters.deleteMisses, 0);
  assert.equal(counters.deleteHits, 0);
  assert.equal(cache.delete(K("a"), 0, 1, cas), DeleteResult.deleted);
  assert.equal(cache.delete(K("a"), 0, 1, cas), DeleteResult.notFound);
  assert.equal(counters.deleteMisses, 1);
});

test("arith misses are counted unless the caller will create the item", () => {
  const { cache } = setup();
  assert.equal(cache.arith(K("n"), 0, 1, true, 1n, 0, { initial: 0n, exptime: 0 }).code, ArithResult.created);
  assert.equal(cache.counters.incrMisses, 0);
  assert.equal(cache.arith(K("m"), 0, 1, true, 1n, 0).code, ArithResult.notFound);
  assert.equal(cache.counters.incrMisses, 1);
});

test("beginStore with dropOld removes the old value whatever the mode", () => {
  const { cache } = setup();
  store(cache, "a", "x");
  const huge = 2 * 1024 * 1024;
  assert.equal(cache.beginStore(StoreMode.add, K("a"), 0, 1, 0, 0, huge), ALLOC_TOO_LARGE);
  assert.ok(find(cache, "a") >= 0, "classic add keeps it");
  assert.equal(cache.beginStore(StoreMode.add, K("a"), 0, 1, 0, 0, huge, true), ALLOC_TOO_LARGE);
  assert.equal(find(cache, "a"), -1);
});

test("markKeyBinary sets a bit the engine keeps beside its own", () => {
  const { cache } = setup();
  const h = cache.beginStore(StoreMode.set, K("a"), 0, 1, 0, 0, 1);
  cache.markKeyBinary(h);
  cache.commitStore(h, StoreMode.set, 0, false);
  const l = find(cache, "a");
  cache.bump(l, true);
  assert.equal(cache.engine.bits(l) & (KEY_BINARY_BIT | ItemBits.fetched), KEY_BINARY_BIT | ItemBits.fetched);
});

test("countMetaGet: a touching hit counts as a touch only", () => {
  const { cache } = setup();
  store(cache, "a", "x");
  const h = find(cache, "a");
  cache.countMetaGet(h, false);
  cache.countMetaGet(-1, false);
  cache.countMetaGet(h, true);
  const c = cache.counters;
  assert.deepEqual([c.cmdGet, c.getHits, c.getMisses, c.cmdTouch, c.touchHits], [2, 1, 1, 1, 1]);
});
