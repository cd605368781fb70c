import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { ALLOC_NO_MEMORY, ALLOC_NO_MEMORY_DATA, ItemBits } from "../../src/store/engine.ts";
import { SEGMENTS, type SlabEngine } from "../../src/store/slab-engine.ts";
import { ArithResult, Cache, StoreMode } from "../../src/store/cache.ts";
import { checkIntegrity } from "../../src/store/integrity.ts";
import { Arena, H, HEADER_BYTES, STATE_DRAINED, Seg } from "../../src/store/arena.ts";
import { C } from "../../src/store/class-stats.ts";
import { classFor, slabClasses } from "../../src/store/slab-classes.ts";
import { manualFiller, testStore, storeValue, valueOf } from "./fixture.ts";

const setup = testStore;

function set(cache: Cache, key: string, size: number, ttl = 0): number {
  return storeValue(cache, key, Buffer.alloc(size, 0x61), ttl);
}

function get(cache: Cache, key: string): number {
  const k = Buffer.from(key);
  return cache.get(k, 0, k.length, false, 0);
}

test("slab classes are exactly memcached's (its -vv table), for default and custom -n/-f", () => {
  for (const [n, f] of [[48, 1.25], [100, 1.5], [48, 2], [10, 1.08]]) {
    // memcached prints its class table on stderr at start-up; the timeout stops it.
    const run = spawnSync("memcached", ["-u", "nobody", "-U", "0", "-l", "127.0.0.1", "-p", "0", "-vv", "-n", String(n), "-f", String(f)], {
      encoding: "utf8",
      timeout: 300,
    });
    const table = [...run.stderr.matchAll(/slab class\s+(\d+): chunk size\s+(\d+) perslab\s+(\d+)/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
    assert.ok(table.length > 5, `memcached printed its classes: ${run.stderr.slice(0, 200)}`);
    const ours = slabClasses(n, f, 512 * 1024);
    assert.deepEqual(
      ours.size.slice(1).map((size, i) => [i + 1, size, ours.perSlab[i + 1]]),
      table,
      `-n ${n} -f ${f}`,
    );
  }
});

test("hash index finds every item while it grows, and after", () => {
  const { cache, engine } = setup({ limitBytes: 64 * 1024 * 1024 });
  const n = 150_000;
  for (let i = 0; i < n; i++) assert.ok(set(cache, `k${i}`, 10) > 0, "stored");
  assert.equal(engine.count(), n);
  assert.ok(engine.index.power > 16, "the table grew");
  for (let i = 0; i < n; i += 7) assert.ok(get(cache, `k${i}`) >= 0, `k${i} found`);
  for (let i = 0; i < 1000; i++) engine.maintain(0); // hash growth only: the time does not matter
  assert.equal(engine.index.expanding, false);
  for (let i = 0; i < n; i += 3) assert.ok(get(cache, `k${i}`) >= 0, `k${i} found after growth`);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("prefetch (a multi-key get's read-ahead) changes nothing and reads only item memory", () => {
  // 16 buckets: chains far longer than prefetch follows; chunked values; keys that are absent.
  const { cache, engine } = setup({ hashPower: 4, hashExpand: false });
  for (let i = 0; i < 300; i++) assert.ok(set(cache, `k${i}`, i % 50) > 0);
  for (let i = 0; i < 3; i++) assert.ok(set(cache, `big${i}`, 600 * 1024) > 0, "a chunked value");
  const names = [...Array.from({ length: 60 }, (_, i) => `k${(i * 37) % 300}`), "big0", "big2", "none1", "k", "none2", ...Array.from({ length: 20 }, (_, i) => `k${299 - i}`)];
  const line = Buffer.from(names.join(" "));
  const starts = new Int32Array(names.length);
  const ends = new Int32Array(names.length);
  for (let i = 0, at = 0; i < names.length; at += names[i].length + 1, i++) {
    starts[i] = at;
    ends[i] = at + names[i].length;
  }
  const found = names.map((_, i) => engine.find(line, starts[i], ends[i]));
  const before = Buffer.from(engine.arena.u8);
  engine.prefetch(line, starts, ends, 0, names.length);
  engine.prefetch(line, starts, ends, 5, 7);
  assert.ok(Number.isFinite(engine.prefetchTouched), "every byte read lies in the arena");
  assert.ok(Buffer.from(engine.arena.u8).equals(before), "no byte of item memory changed");
  assert.deepEqual(names.map((_, i) => engine.find(line, starts[i], ends[i])), found);
  assert.equal(found.filter((h) => h < 0).length, 3, "the absent keys stay absent");
  assert.deepEqual(checkIntegrity(engine), []);
});

test("with a filler, the hash index moves nothing into a larger table until it is faulted in", () => {
  const { cache, engine } = setup({ limitBytes: 64 * 1024 * 1024 });
  const { fills, filler } = manualFiller();
  engine.index.faultAheadWith(filler);
  const power = engine.index.power;
  let n = 0;
  while (fills.length === 0) assert.ok(set(cache, `k${n++}`, 10) > 0, "stored");
  // The fill covers the whole new table; growth has begun as memcached reports it.
  assert.equal(fills[0].offset, 0);
  assert.equal(fills[0].length, 4 * 2 ** (power + 1));
  assert.equal(engine.index.expanding, true);
  assert.equal(engine.index.power, power + 1);
  // Inserts and ticks meanwhile move no bucket: the fill's zeros land when it finishes and
  // would wipe any chain already moved, losing its keys.
  for (let i = 0; i < 20_000; i++) assert.ok(set(cache, `k${n++}`, 10) > 0, "stored");
  for (let i = 0; i < 100; i++) engine.maintain(0);
  assert.equal(fills.length, 1, "one fill at a time");
  for (let i = 0; i < n; i += 5) assert.ok(get(cache, `k${i}`) >= 0, `k${i} found while the new table fills`);
  fills[0].finish();
  for (let i = 0; i < 1000 && engine.index.expanding; i++) engine.maintain(0);
  assert.equal(engine.index.expanding, false);
  assert.equal(engine.index.power, power + 1);
  for (let i = 0; i < n; i++) assert.ok(get(cache, `k${i}`) >= 0, `k${i} found after growth`);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("a scan of one-hit keys does not flush the hot working set", () => {
  const { cache, engine, clock } = setup({ limitBytes: 4 * 1024 * 1024 });
  // 1000 items of ~1 KB: about a quarter of memory, fetched twice so they are active.
  const hot = Array.from({ length: 1000 }, (_, i) => `hot${i}`);
  for (const k of hot) set(cache, k, 1000);
  for (let round = 0; round < 2; round++) for (const k of hot) assert.ok(get(cache, k) >= 0);
  // 40 000 one-hit items of the same size: ten times the memory. A maintenance tick after each
  // round of hits moves the hit COLD items to WARM, as the server's 2 ms tick would.
  for (let i = 0; i < 40_000; i++) {
    if (i % 1000 === 0) engine.maintain(clock.now());
    set(cache, `scan${i}`, 1000);
    if (i % 1000 === 0) for (const k of hot) get(cache, k);
  }
  assert.ok(engine.stats.evictions > 30_000, `the scan evicted (${engine.stats.evictions})`);
  const survivors = hot.filter((k) => get(cache, k) >= 0).length;
  assert.ok(survivors >= 990, `${survivors}/1000 hot items survived the scan`);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("without the working set being fetched, the same scan evicts it (the test above can fail)", () => {
  const { cache } = setup({ limitBytes: 4 * 1024 * 1024 });
  for (let i = 0; i < 1000; i++) set(cache, `hot${i}`, 1000);
  for (let i = 0; i < 40_000; i++) set(cache, `scan${i}`, 1000);
  const survivors = Array.from({ length: 1000 }, (_, i) => get(cache, `hot${i}`)).filter((h) => h >= 0).length;
  assert.ok(survivors < 10, `${survivors} survived`);
});

test("maintainLru keeps the LRU (hit COLD items reach WARM) and leaves hash growth to maintain", () => {
  const { cache, engine, clock } = setup({ limitBytes: 64 * 1024 * 1024 });
  for (let i = 0; i < 50; i++) set(cache, `c${i}`, 10);
  // The items set after them push them out of HOT, which keeps its share, into COLD.
  let n = 0;
  while (!engine.index.expanding) set(cache, `k${n++}`, 10);
  const seg = (i: number): number => engine.segment(engine.find(Buffer.from(`c${i}`), 0, `c${i}`.length));
  assert.deepEqual(Array.from({ length: 50 }, (_, i) => seg(i)), Array(50).fill(Seg.cold));
  // Fetched twice in COLD: the second hit queues each for the move to WARM.
  for (let i = 0; i < 50; i++) for (let r = 0; r < 2; r++) get(cache, `c${i}`);
  assert.deepEqual(Array.from({ length: 50 }, (_, i) => seg(i)), Array(50).fill(Seg.cold), "moves wait for the tick");
  const juggles = engine.stats.lruMaintainerJuggles;
  for (let i = 0; i < 1000; i++) engine.maintainLru(clock.now());
  assert.equal(engine.stats.lruMaintainerJuggles, juggles + 1000, "a juggle pass each");
  assert.deepEqual(Array.from({ length: 50 }, (_, i) => seg(i)), Array(50).fill(Seg.warm), "the queued moves were made");
  // 1000 full ticks would have moved every bucket of the growing table.
  assert.equal(engine.index.expanding, true, "no hash growth");
  for (let i = 0; i < 1000 && engine.index.expanding; i++) engine.maintain(clock.now());
  assert.equal(engine.index.expanding, false);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("active items move HOT -> WARM, idle ones HOT -> COLD", () => {
  const { cache, engine, clock } = setup({ limitBytes: 4 * 1024 * 1024 });
  for (let i = 0; i < 200; i++) set(cache, `a${i}`, 1000);
  for (let i = 0; i < 100; i++) {
    get(cache, `a${i}`);
    get(cache, `a${i}`);
  }
  for (let i = 0; i < 10; i++) engine.maintain(clock.now());
  const segs = Array.from({ length: 200 }, (_, i) => engine.segment(engine.find(Buffer.from(`a${i}`), 0, `a${i}`.length)));
  assert.ok(segs.slice(0, 100).filter((s) => s === Seg.warm).length > 50, "fetched items reached WARM");
  assert.ok(segs.slice(100).filter((s) => s === Seg.cold).length > 50, "idle items drained to COLD");
  assert.ok(engine.classStats.get(engine.slabClass(engine.find(Buffer.from("a0"), 0, 2)), C.moves_to_warm) > 0, "moves_to_warm counted");
});

test("-M: a full cache refuses new items instead of evicting", () => {
  const { cache, engine } = setup({ limitBytes: 2 * 1024 * 1024, noEvict: true });
  let refused = 0;
  for (let i = 0; i < 5000; i++) if (set(cache, `k${i}`, 1000) === ALLOC_NO_MEMORY) refused++;
  assert.ok(refused > 0, "some stores were refused");
  assert.equal(engine.stats.evictions, 0);
  assert.ok(get(cache, "k0") >= 0, "the first items are still there");
  assert.deepEqual(checkIntegrity(engine), []);
});

test("automove: pages follow a change of value sizes", () => {
  const { cache, engine, clock } = setup({ limitBytes: 8 * 1024 * 1024 });
  for (let i = 0; i < 20_000; i++) set(cache, `small${i}`, 300);
  const small = engine.slabClass(engine.find(Buffer.from("small19999"), 0, 10));
  const before = engine.classPages[small].length;
  assert.ok(before >= 6, `small items took the memory (${before} pages)`);
  clock.advance(100);
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 300; i++) set(cache, `big${round}-${i}`, 3000);
    for (let t = 0; t < 10; t++) engine.maintain(clock.now());
  }
  const big = engine.slabClass(engine.find(Buffer.from("big39-0"), 0, 7));
  assert.ok(engine.classPages[small].length < before / 2, `small class gave pages back (${engine.classPages[small].length} left)`);
  assert.ok(engine.classPages[big].length > 3, `big class gained pages (${engine.classPages[big].length})`);
  assert.ok(engine.pagesCharged() <= engine.pageLimit + 2);
  assert.deepEqual(checkIntegrity(engine), []);
  // As memcached's automove (MIN_PAGES_FOR_SOURCE), a class keeps two pages however old.
  for (let round = 40; round < 100; round++) {
    for (let i = 0; i < 300; i++) set(cache, `big${round}-${i}`, 3000);
    for (let t = 0; t < 10; t++) engine.maintain(clock.now());
  }
  assert.equal(engine.classPages[small].length, 2);
  assert.ok(get(cache, "small19999") >= 0, "the newest small items are still there");
});

test("large values get pages back from small items when memory is full", () => {
  const { cache, engine } = setup({ limitBytes: 4 * 1024 * 1024 });
  for (let i = 0; i < 20_000; i++) set(cache, `s${i}`, 200);
  assert.ok(set(cache, "large", 900_000) > 0, "stored");
  const h = get(cache, "large");
  assert.ok(h >= 0);
  assert.equal(engine.valueLength(h), 900_000);
  assert.ok(engine.chunked(h), "a 900 KB value is chunked");
  assert.ok(valueOf(cache, h).equals(Buffer.alloc(900_000, 0x61)));
  assert.deepEqual(checkIntegrity(engine), []);
});

/** Chunks of a class holding an item or a piece of one. */
function usedChunks(engine: SlabEngine, cls: number): number {
  return engine.classPages[cls].length * engine.classes.perSlab[cls] - engine.freeCount[cls];
}

/** Value bytes one chunk of the largest class holds. */
function fullChunk(engine: SlabEngine): number {
  return engine.classes.size[engine.classes.largest] - HEADER_BYTES;
}

/** A value that fills exactly two chunks of the largest class (the whole of one page). */
function twoFullChunks(engine: SlabEngine): number {
  return 2 * fullChunk(engine);
}

test("an allocation never takes a class's last page", () => {
  // -m 2: one page of small items, and the one large page held by an unfinished set of two
  // full chunks.
  // A second large value finds nothing to evict; the small class's only page is not taken
  // (memcached's slabs_reassign answers NOSPARE for it), so the value is out of memory.
  const { cache, engine } = setup({ limitBytes: 2 * 1024 * 1024, maxItemSize: 2 * 1024 * 1024 });
  for (let i = 0; i < 100; i++) assert.ok(set(cache, `s${i}`, 10) > 0, "stored");
  // Long keys put both large values' headers in classes of their own: nothing of the small
  // class is in flight, so only the last-page rule keeps its page.
  const big = Buffer.from("b".repeat(100));
  const inFlight = cache.beginStore(StoreMode.set, big, 0, big.length, 0, 0, twoFullChunks(engine));
  assert.ok(inFlight > 0, "a large set in flight");
  assert.equal(set(cache, "k".repeat(200), 600_000), ALLOC_NO_MEMORY_DATA);
  assert.equal(engine.drainingPage, 0, "no page move started");
  assert.equal(engine.stats.evictions + engine.stats.slabReassignEvictionsNomem, 0);
  for (let i = 0; i < 100; i++) assert.ok(get(cache, `s${i}`) >= 0, `s${i} kept`);
  cache.abortStore(inFlight);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("an allocation takes back only a page it can empty at once, not one holding an item in flight", () => {
  // -m 3: two pages of 200-byte items and one large page, whose two chunks an unfinished set
  // holds. An item of the small class is being written into the oldest small page.
  const { cache, engine } = setup({ limitBytes: 3 * 1024 * 1024, maxItemSize: 2 * 1024 * 1024 });
  assert.ok(set(cache, "s0", 200) > 0, "stored");
  const perPage = engine.classes.perSlab[engine.arena.pageClass[Arena.pageOf(get(cache, "s0"))]];
  const count = Math.floor(perPage * 1.5);
  for (let i = 1; i < count; i++) assert.ok(set(cache, `s${i}`, 200) > 0, "stored");
  const big = Buffer.from("big");
  assert.ok(cache.beginStore(StoreMode.set, big, 0, 3, 0, 0, twoFullChunks(engine)) > 0, "a large set in flight");
  const d = Buffer.from("s0");
  cache.delete(d, 0, 2);
  const w = Buffer.from("w");
  assert.ok(cache.beginStore(StoreMode.set, w, 0, 1, 0, 0, 200) > 0, "a small set in flight, in the oldest page");
  assert.equal(set(cache, "big2", 900_000), ALLOC_NO_MEMORY_DATA);
  assert.equal(engine.drainingPage, 0, "no page move started");
  assert.equal(engine.stats.evictions + engine.stats.slabReassignEvictionsNomem, 0, "nothing evicted for nothing");
  for (let i = 1; i < count; i++) assert.ok(get(cache, `s${i}`) >= 0, `s${i} kept`);
});

test("a chunked value's last piece takes a chunk of the class that fits it, or a full chunk when that class is full", () => {
  const { cache, engine } = setup({ limitBytes: 4 * 1024 * 1024, noEvict: true });
  const largest = engine.classes.largest;
  const per = fullChunk(engine);
  const value = (c: number): Buffer => Buffer.alloc(per + 70_000, c);
  const tail = classFor(engine.classes, HEADER_BYTES + 70_000);
  assert.ok(storeValue(cache, "first", value(0x31)) > 0, "stored");
  assert.equal(usedChunks(engine, largest), 1, "one full chunk");
  assert.equal(usedChunks(engine, tail), 1, "and a 70 KB piece in a chunk of its size");
  assert.ok(storeValue(cache, "whole", Buffer.alloc(per, 0x77)) > 0, "stored");
  assert.equal(usedChunks(engine, largest), 2, "a value of exactly one chunk takes no piece");
  // Fill the tail's class with plain items. The next value takes the last page for its full
  // chunk; with -M and no page to spare, its last piece falls back to that page's other chunk,
  // as memcached's do_item_alloc_chunk.
  for (let i = 0; usedChunks(engine, tail) < engine.classes.perSlab[tail]; i++) assert.ok(storeValue(cache, `t${i}`, Buffer.alloc(70_000)) > 0, "stored");
  assert.ok(storeValue(cache, "second", value(0x32)) > 0, "stored");
  assert.equal(usedChunks(engine, largest), 4);
  assert.ok(valueOf(cache, get(cache, "first")).equals(value(0x31)));
  assert.ok(valueOf(cache, get(cache, "second")).equals(value(0x32)));
  assert.ok(valueOf(cache, get(cache, "whole")).equals(Buffer.alloc(per, 0x77)));
  assert.deepEqual(checkIntegrity(engine), []);
});

test("relocated items keep their key, value, flags, cas and LRU place", () => {
  const { cache, engine } = setup({ limitBytes: 8 * 1024 * 1024 });
  const find = (k: string): number => engine.find(Buffer.from(k), 0, k.length);
  for (let i = 0; i < 3000; i++) set(cache, `k${i}`, 500);
  // Free most of the first page, so its survivors can move into chunks elsewhere.
  for (let i = 0; i < 1500; i += 2) cache.delete(Buffer.from(`k${i}`), 0, `k${i}`.length);
  const cls = engine.slabClass(find("k1"));
  const page = engine.classPages[cls][0];
  const before = new Map<string, { h: number; cas: number }>();
  for (let i = 0; i < 3000; i++) {
    const h = find(`k${i}`);
    if (h >= 0 && Arena.pageOf(h) === page) before.set(`k${i}`, { h, cas: engine.cas(h) });
  }
  assert.ok(engine.releasePage(cls));
  let moved = 0;
  for (const [k, b] of before) {
    const h = find(k);
    if (h < 0) continue;
    assert.notEqual(Arena.pageOf(h), page);
    assert.equal(engine.cas(h), b.cas, k);
    assert.equal(engine.valueLength(h), 500);
    moved++;
  }
  assert.ok(moved > 100, `items moved (${moved})`);
  assert.equal(engine.stats.slabReassignRescues, moved);
  assert.equal(engine.stats.slabReassignEvictionsNomem, before.size - moved);
  assert.deepEqual(checkIntegrity(engine), []);
});

/** Value `i` of the chunked values big0..big7 (three 512 KiB chunks each, all different). */
const bigValue = (i: number): Buffer => Buffer.alloc(1_500_000 + i * 1000, i + 1);

/** A store holding big0..big7 with their values. */
function storeBigValues(): ReturnType<typeof setup> {
  const store = setup({ limitBytes: 32 * 1024 * 1024, maxItemSize: 4 * 1024 * 1024 });
  for (let i = 0; i < 8; i++) assert.ok(storeValue(store.cache, `big${i}`, bigValue(i)) >= 0, "stored");
  return store;
}

/** big<first>, big<first + 2>, ... are there with their values. */
function assertBigValuesKept(cache: Cache, first: number): void {
  for (let i = first; i < 8; i += 2) {
    const h = get(cache, `big${i}`);
    assert.ok(h >= 0, `big${i} still there`);
    assert.ok(valueOf(cache, h).equals(bigValue(i)), `big${i} intact`);
  }
}

test("chunked values survive page moves of both their header and their data chunks", () => {
  const { cache, engine } = storeBigValues();
  // Small items after the headers in the same class, so the class gets a second page; freeing
  // some on the first page leaves its other items fewer than the free chunks of the second.
  const header = engine.arena.pageClass[Arena.pageOf(engine.find(Buffer.from("big1"), 0, 4))];
  for (let i = 0; i < 12_000; i++) set(cache, `s${i}`, 10);
  assert.equal(engine.slabClass(engine.find(Buffer.from("s0"), 0, 2)), header, "small items share the headers' class");
  assert.ok(engine.classPages[header].length >= 2);
  for (let i = 0; i < 2_000; i++) cache.delete(Buffer.from(`s${i}`), 0, `s${i}`.length);
  for (let i = 0; i < 8; i += 2) cache.delete(Buffer.from(`big${i}`), 0, 4);
  assert.ok(engine.releasePage(engine.classes.largest), "data page released");
  assert.ok(engine.releasePage(header), "header page released");
  assert.deepEqual(checkIntegrity(engine), []);
  assertBigValuesKept(cache, 1);
});

test("a data page still holding chunks of live values moves them to free chunks of its class", () => {
  const { cache, engine } = storeBigValues();
  // The oldest data page holds big0's first chunks; deleting other values frees chunks elsewhere.
  for (let i = 1; i < 8; i += 2) cache.delete(Buffer.from(`big${i}`), 0, 4);
  const largest = engine.classes.largest;
  const pages = engine.classPages[largest].length;
  assert.ok(engine.releasePage(largest), "data page released");
  assert.equal(engine.classPages[largest].length, pages - 1);
  assert.ok(engine.stats.slabReassignChunkRescues > 0, "data chunks were moved, not only freed");
  assert.equal(engine.stats.slabReassignEvictionsNomem, 0);
  assert.deepEqual(checkIntegrity(engine), []);
  assertBigValuesKept(cache, 0);
});

test("-M: a page move that runs out of room midway stops and gives the emptied chunks back", () => {
  const { cache, engine } = setup({ noEvict: true, limitBytes: 2 * 1024 * 1024 });
  assert.ok(set(cache, "k0", 100) >= 0, "stored");
  const cls = engine.slabClass(engine.find(Buffer.from("k0"), 0, 2));
  const perSlab = engine.classes.perSlab[cls];
  let n = 1;
  for (; engine.classPages[cls].length < 2; n++) set(cache, `k${n}`, 100);
  // Room on the second page for everything on the first, so the move may start.
  for (let i = 0; i < 20; i++) cache.delete(Buffer.from(`k${i}`), 0, `k${i}`.length);
  assert.equal(engine.releasePage(cls, 100), false, "one slice of the move done");
  assert.notEqual(engine.drainingPage, 0);
  // New items take the free chunks the move was going to use (-M: nothing is evicted for them).
  for (; set(cache, `k${n}`, 100) >= 0; n++);
  assert.equal(engine.freeCount[cls], 0);
  assert.equal(engine.releasePage(cls), false, "the move cannot finish");
  assert.equal(engine.drainingPage, 0);
  assert.equal(engine.classPages[cls].length, 2, "the page stays with its class");
  assert.equal(engine.freeCount[cls], 2 * perSlab - engine.count(), "every chunk not holding an item is free again");
  assert.ok(engine.freeCount[cls] > 0);
  assert.deepEqual(checkIntegrity(engine), []);
  for (const k of ["k20", `k${n - 1}`]) assert.ok(get(cache, k) >= 0, `${k} still there`);
});

test("releasing a page with no room elsewhere drops its items, chunked ones with all their chunks", () => {
  const { cache, engine } = setup({ limitBytes: 32 * 1024 * 1024, maxItemSize: 4 * 1024 * 1024 });
  for (let i = 0; i < 6; i++) assert.ok(set(cache, `big${i}`, 1_200_000) > 0, "stored");
  const largest = engine.classes.largest;
  // Two full chunks each, and the last 151 KB in a chunk of the class that fits it.
  const tail = classFor(engine.classes, HEADER_BYTES + 1_200_000 - twoFullChunks(engine));
  assert.ok(tail < largest);
  assert.equal(usedChunks(engine, largest), 6 * 2);
  assert.equal(usedChunks(engine, tail), 6);
  const header = engine.arena.pageClass[Arena.pageOf(engine.find(Buffer.from("big0"), 0, 4))];
  assert.ok(engine.releasePage(header));
  assert.equal(engine.count(), 0);
  // memcached counts these in slab_reassign_evictions_nomem, not in evictions.
  assert.equal(engine.stats.slabReassignEvictionsNomem, 6);
  assert.equal(engine.stats.evictions, 0);
  assert.equal(usedChunks(engine, largest) + usedChunks(engine, tail), 0, "every data chunk is free again");
  assert.deepEqual(checkIntegrity(engine), []);
  assert.ok(engine.releasePage(largest), "a data page of free chunks is released at once");
  assert.deepEqual(checkIntegrity(engine), []);
});

test("hits_to_* count plain get hits by segment, not gat or touch", () => {
  const { cache, engine } = setup();
  set(cache, "a", 10);
  const k = Buffer.from("a");
  const cls = engine.slabClass(engine.find(k, 0, 1));
  const hits = (): number => [C.hits_to_hot, C.hits_to_warm, C.hits_to_cold, C.hits_to_temp].reduce((n, c) => n + engine.classStats.get(cls, c), 0);
  const seg = engine.segment(engine.find(k, 0, 1));
  cache.get(k, 0, 1, false, 0);
  assert.equal(engine.classStats.get(cls, C.hits_to_hot + seg), 1, "counted in the segment the item was in");
  cache.get(k, 0, 1, true, 0);
  cache.touch(k, 0, 1, 0);
  assert.equal(hits(), 1, "gat and touch are not counted");
  const bits = engine.bits(engine.find(k, 0, 1));
  cache.countHit(engine.find(k, 0, 1));
  assert.equal(hits(), 2, "mg u: counted without a bump");
  assert.equal(engine.bits(engine.find(k, 0, 1)), bits, "and without touching the item's bits");
});

test("TEMP LRU (-o temporary_ttl): short-lived items skip HOT/WARM/COLD and are reclaimed once dead", () => {
  const { cache, engine, clock } = setup({ temporaryTtl: 61 });
  set(cache, "short", 10, 30);
  set(cache, "long", 10, 100);
  set(cache, "forever", 10, 0);
  const seg = (k: string): number => engine.segment(engine.find(Buffer.from(k), 0, k.length));
  assert.equal(seg("short"), Seg.temp);
  assert.notEqual(seg("long"), Seg.temp);
  assert.notEqual(seg("forever"), Seg.temp);
  clock.advance(31);
  engine.maintain(clock.now());
  assert.equal(engine.find(Buffer.from("short"), 0, 5), -1, "reclaimed from TEMP's tail without an access");
  assert.ok(engine.find(Buffer.from("long"), 0, 4) >= 0);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("append and incr under eviction pressure never evict the item they read", () => {
  // -m 1: class 1 holds 10922 items. The item read is made the oldest of a full class, so the
  // allocation for its grown copy must evict, and without the pin would pick it first.
  const { cache, engine } = setup({ limitBytes: 1024 * 1024 });
  const perPage = engine.classes.perSlab[1];
  let next = 0;
  const newer = (n: number): void => {
    for (let i = 0; i < n; i++) set(cache, `g${next++}`, 40);
  };
  newer(perPage + 500);
  assert.ok(storeValue(cache, "n", Buffer.from("99")) > 0, "stored");
  newer(perPage - 1);
  const n = Buffer.from("n");
  assert.equal(engine.tail(1, Seg.cold), engine.find(n, 0, 1), "n is the next to go");
  assert.equal(cache.arith(n, 0, 1, true, 1n, 0).code, ArithResult.ok);
  assert.ok(valueOf(cache, cache.get(n, 0, 1, false, 0)).equals(Buffer.from("100")));
  // The append's own data block takes the oldest item, as in memcached, so "a" goes second.
  newer(1);
  assert.ok(storeValue(cache, "a", Buffer.from("x".repeat(30))) > 0, "stored");
  newer(perPage - 2);
  const a = Buffer.from("a");
  assert.equal(engine.arena.i32[engine.tail(1, Seg.cold) * 2 + H.prev], engine.find(a, 0, 1), "a is the second to go");
  assert.ok(storeValue(cache, "a", Buffer.from("y".repeat(10)), 0, StoreMode.append) > 0, "stored");
  assert.ok(valueOf(cache, cache.get(a, 0, 1, false, 0)).equals(Buffer.from("x".repeat(30) + "y".repeat(10))));
  assert.ok(engine.classStats.get(1, C.lrutail_reflocked) >= 2, "the pinned tail was skipped");
  assert.deepEqual(checkIntegrity(engine), []);
});

test("flat LRU mode (lru mode flat): one list per class, a hit moves an item up at most once a minute", () => {
  const { cache, engine, clock } = setup({ limitBytes: 1024 * 1024 });
  engine.tuning.segmented = false;
  set(cache, "a", 40);
  const a = Buffer.from("a");
  assert.equal(engine.segment(engine.find(a, 0, 1)), Seg.cold, "new items go straight to COLD");
  for (let i = 0; i < 100; i++) set(cache, `b${i}`, 40);
  assert.equal(engine.tail(1, Seg.cold), engine.find(a, 0, 1));
  cache.get(a, 0, 1, false, 0);
  assert.equal(engine.tail(1, Seg.cold), engine.find(a, 0, 1), "a hit within a minute does not move it");
  clock.advance(61);
  cache.get(a, 0, 1, false, 0);
  assert.notEqual(engine.tail(1, Seg.cold), engine.find(a, 0, 1), "after a minute it moves to the head");
  assert.equal(engine.lruCount[1 * 4 + Seg.hot] + engine.lruCount[1 * 4 + Seg.warm], 0);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("slabs reassign: the page goes to the destination class, in slices, items moved or evicted", () => {
  const { cache, engine, clock } = setup({ limitBytes: 4 * 1024 * 1024 });
  for (let i = 0; i < 30_000; i++) set(cache, `k${i}`, 10);
  const pages = engine.classPages[1].length;
  assert.equal(engine.reassign(1, 1), "same");
  assert.equal(engine.reassign(1, 99), "badclass");
  assert.equal(engine.reassign(2, 1), "nospare");
  assert.equal(engine.reassign(1, 2), "ok");
  assert.equal(engine.reassign(1, 3), "busy");
  for (let i = 0; i < 20 && engine.drainingPage !== 0; i++) engine.maintain(clock.now());
  assert.equal(engine.drainingPage, 0);
  assert.equal(engine.classPages[1].length, pages - 1);
  assert.equal(engine.classPages[2].length, 1);
  assert.deepEqual(checkIntegrity(engine), []);
  assert.ok(get(cache, "k29999") >= 0);
});

test("a chunk a write in flight reads is not reused, rewritten in place or moved until the write is done", () => {
  const { cache, engine, clock } = setup({ limitBytes: 4 * 1024 * 1024 });
  const size = 10_000;
  const fill = (i: number): number => 0x41 + (i % 26);
  for (let i = 0; i < 150; i++) assert.ok(storeValue(cache, `v${i}`, Buffer.alloc(size, fill(i))) >= 0);
  const valueOfKey = (key: string): Uint8Array => {
    const h = get(cache, key);
    return engine.valueBuffer(h).subarray(engine.valueStart(h), engine.valueStart(h) + engine.valueLength(h));
  };
  const intact = (part: Uint8Array, c: number): boolean => part.every((b) => b === c);
  assert.equal(engine.hold(Buffer.alloc(10)), false, "not item memory: nothing held");

  // Held while linked, then deleted; and deleted (back on the free list), then held.
  const v0 = valueOfKey("v0");
  const v1 = valueOfKey("v1");
  const h0 = get(cache, "v0");
  const h1 = get(cache, "v1");
  assert.ok(engine.hold(v0));
  cache.delete(Buffer.from("v0"), 0, 2);
  cache.delete(Buffer.from("v1"), 0, 2);
  assert.ok(engine.hold(v1));
  // A padded number, incremented while held: a new item, not the held bytes.
  assert.ok(storeValue(cache, "n", Buffer.from("7".padEnd(size, " "))) >= 0);
  const n = valueOfKey("n");
  assert.ok(engine.hold(n));
  const r = cache.arith(Buffer.from("n"), 0, 1, true, 1n, 0);
  assert.equal(r.value, 8n);
  assert.equal(r.inPlace, false, "not rewritten in place");
  assert.equal(n[0], 0x37);

  // Sets of the same size reuse every free chunk and evict the rest: never the held ones.
  for (let i = 0; i < 600; i++) {
    assert.ok(storeValue(cache, `w${i}`, Buffer.alloc(size, 0x7a)) >= 0);
    const h = get(cache, `w${i}`);
    assert.ok(h !== h0 && h !== h1, `w${i} took a held chunk`);
  }
  assert.ok(intact(v0, fill(0)) && intact(v1, fill(1)), "held values unchanged");
  assert.equal(engine.heldChunks, 3);
  assert.deepEqual(checkIntegrity(engine), []);

  // A page holding a held chunk is not given away until the write is done.
  const cls = engine.slabClass(get(cache, "w599"));
  const page = engine.classPages[cls][0];
  const first = Arena.firstHandle(page);
  const size8 = engine.classes.size[cls] / 8;
  let inPage = -1;
  for (let c = 0; c < engine.classes.perSlab[cls] && inPage < 0; c++) if (engine.isLinked(first + c * size8)) inPage = first + c * size8;
  const key = Buffer.from(engine.keyBuffer(inPage).subarray(engine.keyStart(inPage), engine.keyStart(inPage) + engine.keyLength(inPage))).toString();
  const held = valueOfKey(key);
  const c = held[0];
  assert.ok(engine.hold(held));
  assert.equal(engine.reassign(cls, 0), "ok");
  for (let t = 0; t < 50; t++) engine.maintain(clock.now());
  assert.equal(engine.drainingPage, page, "the page waits for the write");
  assert.ok(intact(held, c));
  assert.deepEqual(checkIntegrity(engine), []);

  for (const part of [v0, v1, n, held]) engine.unhold(part);
  assert.equal(engine.heldChunks, 0);
  for (let t = 0; t < 50 && engine.drainingPage !== 0; t++) engine.maintain(clock.now());
  assert.equal(engine.drainingPage, 0, "released once the write is done");
  assert.deepEqual(checkIntegrity(engine), []);
  for (let i = 0; i < 600; i++) assert.ok(storeValue(cache, `x${i}`, Buffer.alloc(size, 0x78)) >= 0, "freed chunks are usable again");
  assert.deepEqual(checkIntegrity(engine), []);
});

test("a value lent, then freed in a page being emptied, keeps that page from being given away until it is written", () => {
  const { cache, engine, clock } = setup({ limitBytes: 8 * 1024 * 1024 });
  // Thousands of small items per page: emptying one takes several ticks.
  for (let i = 0; i < 20_000; i++) set(cache, `k${i}`, 10);
  const cls = engine.slabClass(get(cache, "k0"));
  const page = engine.classPages[cls][0];
  assert.equal(engine.reassign(cls, 0), "ok");
  assert.equal(engine.drainingPage, page, "still emptying after the first slice");
  // The page's last item, which the move has not reached: lent by a get, deleted in the same
  // read (its chunk is then marked drained, not freed), and only then written.
  const first = Arena.firstHandle(page);
  const size8 = engine.classes.size[cls] / 8;
  let h = 0;
  for (let c = engine.classes.perSlab[cls] - 1; c >= 0 && h === 0; c--) if (engine.isLinked(first + c * size8)) h = first + c * size8;
  const part = engine.valueBuffer(h).subarray(engine.valueStart(h), engine.valueStart(h) + engine.valueLength(h));
  const copy = Buffer.from(part);
  engine.unlink(h);
  assert.equal(engine.arena.u8[h * 8 + H.state], STATE_DRAINED);
  assert.ok(engine.hold(part));
  for (let t = 0; t < 30; t++) engine.maintain(clock.now());
  assert.equal(engine.drainingPage, page, "the page waits for the write");
  for (let i = 0; i < 5000; i++) set(cache, `n${i}`, 10);
  assert.ok(copy.equals(part), "held bytes unchanged");
  assert.deepEqual(checkIntegrity(engine), []);
  engine.unhold(part);
  for (let t = 0; t < 30 && engine.drainingPage !== 0; t++) engine.maintain(clock.now());
  assert.equal(engine.drainingPage, 0);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("one maintenance tick is one memcached lru_maintainer_juggle: 500 rounds per class", () => {
  const { cache, engine, clock } = setup({ limitBytes: 16 * 1024 * 1024 });
  const n = 4000;
  for (let i = 0; i < n; i++) set(cache, `k${i}`, 100);
  for (let t = 0; t < 100; t++) engine.maintain(clock.now());
  // Every item fetched twice: the COLD ones (all but HOT's share) go to WARM at the next tick.
  for (let i = 0; i < n; i++) {
    get(cache, `k${i}`);
    get(cache, `k${i}`);
  }
  const cls = engine.slabClass(engine.find(Buffer.from("k0"), 0, 2));
  const warm = (): number => engine.lruCount[cls * SEGMENTS + Seg.warm];
  const toCold = (): number => engine.classStats.get(cls, C.moves_to_cold);
  const before = toCold();
  engine.maintain(clock.now());
  // WARM is far over its share: each of the 500 rounds moves one item from its tail to COLD.
  assert.equal(toCold() - before, 500, "one tick: 500 rounds");
  assert.ok(warm() > n * 0.6, `WARM still holds more than its share (${warm()})`);
  // memcached's maintainer brings WARM back to warm_lru_pct within milliseconds; 20 ticks are 200 ms here.
  for (let t = 0; t < 20; t++) engine.maintain(clock.now());
  assert.ok(warm() <= n * 0.41, `WARM is back to its 40% share (${warm()} of ${n})`);
});

test("a hit that activates a COLD item queues its move: the next tick puts it in WARM, inactive", () => {
  const { cache, engine, clock } = setup();
  set(cache, "a", 100);
  set(cache, "b", 100);
  // Enough others that one item in WARM stays within its share.
  for (let i = 0; i < 20; i++) set(cache, `x${i}`, 100);
  for (let t = 0; t < 10; t++) engine.maintain(clock.now());
  const h = engine.find(Buffer.from("a"), 0, 1);
  assert.equal(engine.segment(h), Seg.cold, "idle items drained to COLD");
  const cls = engine.slabClass(h);
  const warmMoves = engine.classStats.get(cls, C.moves_to_warm);
  get(cache, "a");
  get(cache, "a");
  assert.equal(engine.segment(h), Seg.cold, "the hit only queues the move, as memcached's lru_bump_async");
  assert.notEqual(engine.bits(h) & ItemBits.active, 0);
  clock.advance(5);
  engine.maintain(clock.now());
  assert.equal(engine.segment(h), Seg.warm);
  assert.equal(engine.bits(h) & ItemBits.active, 0, "memcached's do_item_update clears ACTIVE on the move");
  assert.equal(engine.time(h), clock.now(), "and stamps the time of the move");
  assert.equal(engine.classStats.get(cls, C.moves_to_warm), warmMoves + 1);
  // An item that left COLD before the tick is passed over: deleted here.
  const hb = engine.find(Buffer.from("b"), 0, 1);
  get(cache, "b");
  get(cache, "b");
  const k = Buffer.from("b");
  cache.delete(k, 0, 1);
  engine.maintain(clock.now());
  assert.equal(engine.classStats.get(cls, C.moves_to_warm), warmMoves + 1, "nothing moved for the deleted item");
  assert.notEqual(hb, -1);
  // Nor after `lru mode flat`: flat mode has no WARM.
  get(cache, "x0");
  get(cache, "x0");
  engine.tuning.segmented = false;
  engine.maintain(clock.now());
  assert.equal(engine.segment(engine.find(Buffer.from("x0"), 0, 2)), Seg.cold);
  assert.deepEqual(checkIntegrity(engine), []);
});

test("a full bump queue forgets the hit and counts lru_bumps_dropped, as memcached", () => {
  const { cache, engine, clock } = setup({ limitBytes: 16 * 1024 * 1024 });
  const n = 8000;
  for (let i = 0; i < n; i++) set(cache, `k${i}`, 10);
  for (let t = 0; t < 200; t++) engine.maintain(clock.now());
  const cold = Array.from({ length: n }, (_, i) => `k${i}`).filter((k) => engine.segment(engine.find(Buffer.from(k), 0, k.length)) === Seg.cold);
  assert.ok(cold.length > 4096 + 100, `enough COLD items (${cold.length})`);
  for (const k of cold) {
    get(cache, k);
    get(cache, k);
  }
  assert.equal(engine.stats.lruBumpsDropped, cold.length - 4096);
  const last = engine.find(Buffer.from(cold[cold.length - 1]), 0, cold[cold.length - 1].length);
  assert.equal(engine.bits(last) & ItemBits.active, 0, "a dropped bump leaves the item inactive");
});

test("a queued bump whose page went to another class meanwhile is passed over", () => {
  const { cache, engine, clock } = setup({ limitBytes: 8 * 1024 * 1024 });
  for (let i = 0; i < 30_000; i++) set(cache, `k${i}`, 10);
  for (let t = 0; t < 300; t++) engine.maintain(clock.now());
  const small = engine.slabClass(engine.find(Buffer.from("k0"), 0, 2));
  const page = engine.classPages[small][0];
  // Hits on COLD items of the page the class gives up first: their moves wait in the queue.
  let queued = 0;
  for (let i = 0; i < 30_000; i++) {
    const k = Buffer.from(`k${i}`);
    const h = engine.find(k, 0, k.length);
    if (Arena.pageOf(h) !== page || engine.segment(h) !== Seg.cold) continue;
    get(cache, `k${i}`);
    get(cache, `k${i}`);
    queued++;
  }
  assert.ok(queued > 100, `bumps queued (${queued})`);
  assert.ok(engine.releasePage(small), "the page is emptied at once");
  // Large values whose bytes read as "linked, COLD, active" wherever a stale handle lands.
  const fake = 4 | Seg.cold | ItemBits.active;
  for (let i = 0; engine.arena.pageClass[page] === 0 && i < 2000; i++) storeValue(cache, `big${i}`, Buffer.alloc(1000, fake));
  assert.notEqual(engine.arena.pageClass[page], 0, "the page now belongs to the large values' class");
  assert.notEqual(engine.arena.pageClass[page], small);
  engine.maintain(clock.now());
  assert.deepEqual(checkIntegrity(engine), []);
  assert.deepEqual(valueOf(cache, get(cache, "big0")), Buffer.alloc(1000, fake));
});

test("a page move drops dead items without counting them, as memcached's mover", () => {
  const { cache, engine, clock } = setup({ limitBytes: 8 * 1024 * 1024 });
  for (let i = 0; i < 3000; i++) set(cache, `k${i}`, 500, i % 2 === 0 ? 10 : 0);
  clock.advance(20);
  const cls = engine.slabClass(engine.find(Buffer.from("k1"), 0, 2));
  const page = engine.classPages[cls][0];
  let live = 0;
  let dead = 0;
  for (let i = 0; i < 3000; i++) {
    const h = engine.find(Buffer.from(`k${i}`), 0, `k${i}`.length);
    if (Arena.pageOf(h) !== page) continue;
    if (i % 2 === 0) dead++;
    else live++;
  }
  assert.ok(dead > 0 && live > 0);
  assert.ok(engine.releasePage(cls));
  assert.equal(engine.stats.slabReassignRescues + engine.stats.slabReassignEvictionsNomem, live, "only live items are rescued or dropped for room");
  assert.equal(engine.stats.evictions + engine.stats.reclaimed, 0);
  assert.deepEqual(checkIntegrity(engine), []);
});
