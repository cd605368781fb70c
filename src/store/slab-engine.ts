import { copyBytes } from "../bytes.ts";
import { Arena, H, HEADER_BYTES, SEG_MASK, Seg, STATE_CHUNKED, STATE_DATA, STATE_DRAINED, STATE_FREE, STATE_LINKED } from "./arena.ts";
import { C, ClassStats } from "./class-stats.ts";
import { ALLOC_NO_MEMORY, ALLOC_NO_MEMORY_DATA, ALLOC_TOO_LARGE, type ByteSink, type DeadCheck, type Engine, type EngineStats, ItemBits } from "./engine.ts";
import { murmur3, randomSeed } from "./hash.ts";
import { HashIndex } from "./hash-index.ts";
import { itemTotalSize } from "./item-size.ts";
import { classFor, PAGE_SIZE, type SlabClasses, slabClasses } from "./slab-classes.ts";

/** memcached's LRU and page-move settings, which `lru` and `slabs automove` change at run time. */
export interface LruTuning {
  /** false: memcached's flat mode (`lru mode flat`), one LRU per class in COLD. */
  segmented: boolean;
  hotLruPct: number;
  warmLruPct: number;
  hotMaxFactor: number;
  warmMaxFactor: number;
  /** TEMP LRU for items whose TTL is at most temporaryTtl. */
  tempLru: boolean;
  temporaryTtl: number;
  /** memcached's slab_automove: 0 off, 1 or 2 on. */
  automove: number;
  /** memcached's slab_automove_ratio: move when the evicting class's oldest item is this much younger. */
  automoveRatio: number;
}

export interface SlabEngineOptions {
  limitBytes: number;
  maxItemSize: number;
  /** memcached's -M: refuse stores instead of evicting. */
  noEvict: boolean;
  growthFactor: number;
  minChunkSize: number;
  slabChunkMax: number;
  hotLruPct: number;
  warmLruPct: number;
  hotMaxFactor: number;
  warmMaxFactor: number;
  /** TTL up to which items go to the TEMP LRU, when it is on. */
  temporaryTtl: number;
  /** memcached's temp_lru (on when temporary_ttl is given); default: temporaryTtl > 0. */
  tempLru?: boolean;
  /** memcached's slab_automove (default 1): 0 keeps pages where they are. */
  automove?: number;
  /** Pages the arena reserves beyond the limit, so `cache_memlimit` can raise it later. */
  reservePages?: number;
  isDead: DeadCheck;
  hashSeed?: number;
  /** memcached's -o hashpower: log2 of the starting bucket count (0: 16). */
  hashPower?: number;
  /** memcached's lru_maintainer (default on): off means the flat LRU and no background juggling. */
  maintainer?: boolean;
  /** memcached's slab_reassign (default on): off means a page stays with the class that took it. */
  reassign?: boolean;
  /** memcached's use_cas (-C turns it off): items are charged 8 bytes less. */
  useCas?: boolean;
  /** memcached's slab_automove_ratio (default 0.8). */
  automoveRatio?: number;
  /** memcached's hash expansion (default on; -o no_hashexpand). */
  hashExpand?: boolean;
  /**
   * Called before item memory may be reused or rewritten (an allocation, a value changed in
   * place, items moved into free chunks by a page move): replies that were lent item values
   * (LentItems) copy them first.
   */
  beforeOverwrite?: () => void;
}

export const SEGMENTS = 4;
/** Items lru_pull_tail looks at per call, as memcached. */
const PULL_TRIES = 5;
/** Attempts to find memory for one allocation, as memcached's do_item_alloc_pull. */
const ALLOC_TRIES = 10;
const PULL_EVICT = 1;
/** memcached's ITEM_UPDATE_INTERVAL: in flat mode an item is moved up at most this often. */
const ITEM_UPDATE_INTERVAL = 60;
/** Hash buckets moved per maintenance tick while the index grows: ~1.5 ms of random memory access. */
const MIGRATE_PER_TICK = 2048;
/** Chunks a page move handles per maintenance tick: about a millisecond of relocations. */
const DRAIN_PER_TICK = 1024;
/**
 * Rounds of one juggle, as memcached's lru_maintainer_juggle. Its maintainer runs one every
 * millisecond while there is work; at 50 rounds per 10 ms ours fell behind a 90% get load
 * and WARM grew to ~70% of a class (memcached holds it at warm_lru_pct, 40%). A bound, not
 * a quota: a juggle stops at the first round that moves nothing.
 */
const JUGGLE_ROUNDS = 500;
/**
 * Room in the bump queue (see `bump`). memcached's per-thread buffer holds 512 and is emptied
 * about every millisecond; ours is emptied every 2 ms tick, and holds room for 10 ms of a
 * busy server's hits should the event loop be slow to get there.
 */
const BUMP_QUEUE = 4096;
/** Chain items `prefetch` steps past at most; `find` walks longer chains (rare) alone. */
const PREFETCH_CHAIN_STEPS = 4;
/** Maintenance ticks between automove decisions (memcached decides about once a second). */
const AUTOMOVE_EVERY_TICKS = 10;
/** A class with more free chunks than this many pages' worth gives a page away first. */
const AUTOMOVE_FREE_PAGES = 2.5;
/** Pages a class must hold to lose one for being old (memcached's MIN_PAGES_FOR_SOURCE is "more than 2"). */
const AUTOMOVE_SOURCE_PAGES = 3;

/**
 * The off-heap store: items (header, key, value) in slab chunks of one shared arena, found
 * through a chained hash index and ordered by memcached's segmented LRU (HOT, WARM, COLD and
 * optionally TEMP, per slab class). No JS object exists per item, so millions of items cost
 * the garbage collector nothing.
 *
 * Memory is counted as memcached counts it: whole 1 MiB pages handed to classes against `-m`,
 * where a class with no page yet may always take its first one. Values larger than
 * slab_chunk_max are chunked as in memcached: data chunks of the largest class, listed in a
 * table in the item's header chunk.
 */
export class SlabEngine implements Engine {
  readonly arena: Arena;
  readonly classes: SlabClasses;
  readonly index: HashIndex;
  readonly classStats = new ClassStats();
  readonly stats: EngineStats = {
    evictions: 0,
    reclaimed: 0,
    expiredUnfetched: 0,
    evictedUnfetched: 0,
    evictedActive: 0,
    totalItems: 0,
    movesToCold: 0,
    movesToWarm: 0,
    movesWithinLru: 0,
    directReclaims: 0,
    slabsMoved: 0,
    slabReassignRescues: 0,
    slabReassignChunkRescues: 0,
    slabReassignEvictionsNomem: 0,
    lruMaintainerJuggles: 0,
    lruBumpsDropped: 0,
  };
  limitBytes: number;
  readonly tuning: LruTuning;
  private limitPages: number;
  /** Pages charged against the limit. */
  private pagesUsed = 0;
  /** Pages each class owns, oldest first (automove takes the oldest, as memcached does). */
  readonly classPages: number[][];
  readonly freeHead: Int32Array;
  readonly freeCount: Float64Array;
  /** LRU lists per (class, segment): heads, tails, item counts and charged bytes. */
  readonly heads = new Int32Array(64 * SEGMENTS);
  readonly tails = new Int32Array(64 * SEGMENTS);
  readonly lruCount = new Float64Array(64 * SEGMENTS);
  readonly lruBytes = new Float64Array(64 * SEGMENTS);
  /** Bytes requested by items of each class (memcached's mem_requested). */
  readonly requested = new Float64Array(64);
  private linkedCount = 0;
  private linkedBytes = 0;
  private readonly seed: number;
  /** memcached's use_cas: items are charged 8 bytes less without it. */
  private readonly useCas: boolean;
  private readonly opts: SlabEngineOptions;
  private readonly maxChunk: number;
  /** Value bytes one data chunk of a chunked item holds. */
  private readonly dataPerChunk: number;
  /** The engine's idea of now, from the last link or maintenance tick (for LRU ages). */
  private now = 0;

  constructor(opts: SlabEngineOptions) {
    this.opts = opts;
    this.tuning = {
      segmented: opts.maintainer ?? true,
      hotLruPct: opts.hotLruPct,
      warmLruPct: opts.warmLruPct,
      hotMaxFactor: opts.hotMaxFactor,
      warmMaxFactor: opts.warmMaxFactor,
      tempLru: opts.tempLru ?? opts.temporaryTtl > 0,
      temporaryTtl: opts.temporaryTtl,
      automove: opts.automove ?? 1,
      automoveRatio: opts.automoveRatio ?? 0.8,
    };
    this.classes = slabClasses(opts.minChunkSize, opts.growthFactor, opts.slabChunkMax);
    this.maxChunk = this.classes.size[this.classes.largest];
    this.dataPerChunk = this.maxChunk - HEADER_BYTES;
    this.limitBytes = opts.limitBytes;
    this.limitPages = Math.floor(opts.limitBytes / PAGE_SIZE);
    // Every class may take a first page beyond the limit, so the arena has room for those too.
    this.arena = new Arena(this.limitPages + this.classes.largest + (opts.reservePages ?? 0));
    this.index = new HashIndex(this.arena, opts.hashPower, opts.hashExpand);
    this.classPages = Array.from({ length: this.classes.largest + 1 }, () => []);
    this.freeHead = new Int32Array(this.classes.largest + 1);
    this.freeCount = new Float64Array(this.classes.largest + 1);
    this.seed = opts.hashSeed ?? randomSeed();
    this.useCas = opts.useCas ?? true;
  }

  // ---- lookup and allocation ------------------------------------------------------------

  find(key: Uint8Array, start: number, end: number): number {
    const h = this.index.find(key, start, end, murmur3(key, start, end, this.seed));
    return h === 0 ? -1 : h;
  }

  /**
   * Passes over all the keys together instead of one walk per key: every key's bucket, then
   * a step along every chain at once until each stops at the item with the key's hash, then
   * that item's key and the end of its value (what the reply copies last), which may lie on
   * other cache lines than its header. The loads within a pass do not depend on each other,
   * so the CPU has them in flight together instead of waiting for each in turn. Measured in
   * process, 22 random keys of 100k items: `find` alone ~310 ns a key; this ~145, and `find`
   * after it ~80 (what hashing and comparing cost with everything in cache). JS has no
   * prefetch instruction; reading the bytes is one, and their sum is kept so that the reads
   * are not optimized away.
   */
  prefetch(key: Uint8Array, starts: Int32Array, ends: Int32Array, from: number, to: number): void {
    const items = this.prefetchItems;
    const hashes = this.prefetchHashes;
    const a = this.arena;
    let touched = 0;
    for (let at = from; at < to; at += items.length) {
      const n = Math.min(items.length, to - at);
      for (let k = 0; k < n; k++) {
        hashes[k] = murmur3(key, starts[at + k], ends[at + k], this.seed);
        items[k] = this.index.head(hashes[k]);
      }
      // Branch-free: a branch on a byte still on its way from memory would, when mispredicted,
      // hold up every load after it, and the misses would come one at a time again.
      for (let step = 0, moved = -1; moved !== 0 && step < PREFETCH_CHAIN_STEPS; step++) {
        moved = 0;
        for (let k = 0; k < n; k++) {
          const h = items[k];
          const differs = a.i32[h * 2 + H.hash] ^ hashes[k];
          // -1 when the hashes differ (go on along the chain), 0 when they are equal.
          const on = (differs | -differs) >> 31;
          items[k] = h ^ ((h ^ a.i32[h * 2 + H.hnext]) & on);
          moved |= h & on;
        }
      }
      for (let k = 0; k < n; k++) {
        const h = items[k];
        const keyStart = h * 8 + H.key;
        const keyEnd = keyStart + a.u8[h * 8 + H.keyLength];
        // A chunked value lies elsewhere: its length then counts as 0.
        const unchunked = ((a.u8[h * 8 + H.state] & STATE_CHUNKED) - 1) >> 31;
        touched += a.u8[keyStart] + a.u8[keyEnd + (a.u32[h * 2 + H.valueLength] & unchunked) - 1];
      }
    }
    this.prefetchTouched = touched;
  }
  private readonly prefetchItems = new Int32Array(32);
  private readonly prefetchHashes = new Int32Array(32);
  /** What `prefetch` read: kept (and public) only so that the reads are not optimized away. */
  prefetchTouched = 0;

  findKeyOf(h: number): number {
    const a = this.arena;
    const k = h * 8 + H.key;
    const found = this.index.find(a.u8, k, k + a.u8[h * 8 + H.keyLength], a.i32[h * 2 + H.hash]);
    return found === 0 ? -1 : found;
  }

  alloc(key: Uint8Array, start: number, end: number, flags: number, valueLength: number): number {
    this.opts.beforeOverwrite?.();
    const klen = end - start;
    if (itemTotalSize(klen, flags, valueLength, this.useCas) > this.opts.maxItemSize) return ALLOC_TOO_LARGE;
    const chunked = HEADER_BYTES + klen + valueLength > this.maxChunk;
    const dataChunks = chunked ? Math.ceil(valueLength / this.dataPerChunk) : 0;
    const cls = classFor(this.classes, chunked ? tableOffset(klen) + 4 * dataChunks : HEADER_BYTES + klen + valueLength);
    if (cls === 0) return ALLOC_TOO_LARGE;
    const lruClass = chunked ? this.classes.largest : cls;
    const h = this.allocChunk(cls);
    if (h === 0) {
      this.classStats.add(lruClass, C.outofmemory);
      return ALLOC_NO_MEMORY;
    }
    const a = this.arena;
    const i = h * 2;
    const b = h * 8;
    // Marked busy (state 0, not free) before data chunks are taken, so no page move touches it.
    a.u8[b + H.state] = 0;
    for (let c = 0; c < dataChunks; c++) {
      const d = this.allocData(valueLength - c * this.dataPerChunk);
      if (d === 0) {
        for (let j = 0; j < c; j++) this.freeChunk(a.i32[(b + tableOffset(klen)) / 4 + j]);
        this.freeChunk(h);
        return ALLOC_NO_MEMORY_DATA;
      }
      a.i32[d * 2 + H.prev] = h;
      a.u8[d * 8 + H.state] = STATE_DATA;
      a.i32[(b + tableOffset(klen)) / 4 + c] = d;
    }
    a.i32[i + H.prev] = 0;
    a.i32[i + H.next] = 0;
    a.i32[i + H.hnext] = 0;
    a.i32[i + H.hash] = murmur3(key, start, end, this.seed);
    a.u32[i + H.exptime] = 0;
    a.u32[i + H.time] = 0;
    a.u32[i + H.flags] = flags;
    a.u32[i + H.valueLength] = valueLength;
    a.f64[h + H.cas] = 0;
    a.u8[b + H.keyLength] = klen;
    a.u8[b + H.bits] = this.snapEpoch;
    a.u8[b + H.lruClass] = lruClass;
    a.u8[b + H.state] = chunked ? STATE_CHUNKED : 0;
    copyBytes(key, start, end, a.u8, b + H.key);
    return h;
  }

  /**
   * A data chunk for the `remain` bytes of a value still to place: a full chunk, except for
   * the last piece, which takes the smallest class that holds it (a full chunk when that class
   * has no room), as memcached's do_item_alloc_chunk. A 600 KB value then costs 600 KB, not
   * two 512 KB chunks.
   */
  private allocData(remain: number): number {
    const largest = this.classes.largest;
    if (remain < this.dataPerChunk) {
      const cls = classFor(this.classes, HEADER_BYTES + remain);
      const d = this.allocChunk(cls);
      if (d !== 0 || cls === largest) return d;
    }
    return this.allocChunk(largest);
  }

  /**
   * memcached's do_item_alloc_pull: a free chunk, a new page, or room made by the LRU. When
   * the class has nothing to evict (a first large value, say), a page is taken back from the
   * class with the oldest items rather than failing.
   */
  private allocChunk(cls: number): number {
    let h = 0;
    let i = 0;
    for (; i < ALLOC_TRIES; i++) {
      h = this.freeHead[cls];
      if (h === 0 && this.newPage(cls)) h = this.freeHead[cls];
      if (h !== 0) break;
      if (this.pullTail(cls, Seg.cold, PULL_EVICT, 0) > 0 || this.pullTail(cls, Seg.hot, 0, 0) > 0) continue;
      if (this.opts.noEvict || this.pullTail(cls, Seg.warm, 0, 0) > 0) continue;
      const src = this.opts.reassign === false ? 0 : this.oldestClass(cls, 2);
      if (src === 0 || !this.releasePage(src, Infinity, true)) {
        i++;
        break;
      }
    }
    // memcached counts every allocation attempt that had to make room, successful or not.
    if (i > 0) {
      this.classStats.add(cls, C.direct_reclaims, i);
      this.stats.directReclaims += i;
    }
    if (h !== 0) this.popFree(cls, h);
    return h;
  }

  /**
   * Gives `cls` a page if the limit allows (or if it has none yet, as memcached allows; or
   * when `force`d: a page another class just gave up, which the limit already counted).
   */
  private newPage(cls: number, force = false): boolean {
    const pages = this.classPages[cls];
    if (!force && this.pagesUsed >= this.limitPages && pages.length > 0) return false;
    const p = this.arena.takePage(cls);
    if (p === 0) return false;
    pages.push(p);
    this.pagesUsed++;
    const size8 = this.classes.size[cls] / 8;
    const first = Arena.firstHandle(p);
    // Pushed first to last, as memcached's split_slab_page_into_freelist does, so chunks are
    // handed out from the page's end: a page move then rescues and drops the same items there.
    for (let c = 0; c < this.classes.perSlab[cls]; c++) this.pushFree(cls, first + c * size8);
    return true;
  }

  private pushFree(cls: number, h: number): void {
    const a = this.arena;
    const head = this.freeHead[cls];
    a.i32[h * 2 + H.prev] = 0;
    a.i32[h * 2 + H.next] = head;
    if (head !== 0) a.i32[head * 2 + H.prev] = h;
    this.freeHead[cls] = h;
    a.u8[h * 8 + H.state] = STATE_FREE;
    this.freeCount[cls]++;
  }

  private popFree(cls: number, h: number): void {
    const a = this.arena;
    const p = a.i32[h * 2 + H.prev];
    const n = a.i32[h * 2 + H.next];
    if (p !== 0) a.i32[p * 2 + H.next] = n;
    else this.freeHead[cls] = n;
    if (n !== 0) a.i32[n * 2 + H.prev] = p;
    a.u8[h * 8 + H.state] = 0;
    this.freeCount[cls]--;
  }

  /** Returns an unlinked item's chunks to their classes. */
  private free(h: number): void {
    const a = this.arena;
    if ((a.u8[h * 8 + H.state] & STATE_CHUNKED) !== 0) {
      const table = this.tableIndex(h);
      for (let c = 0, n = this.dataChunks(h); c < n; c++) this.freeChunk(a.i32[table + c]);
    }
    this.freeChunk(h);
  }

  /** A chunk back to its class's free list, unless its page is being emptied or a write holds it. */
  private freeChunk(h: number): void {
    if (this.isHeld(h)) {
      // Busy (state 0) as an item being written is, so no page move takes it; see `hold`.
      this.arena.u8[h * 8 + H.state] = 0;
      this.heldFreed.add(h);
      return;
    }
    const page = Arena.pageOf(h);
    if (page === this.drainPage) this.arena.u8[h * 8 + H.state] = STATE_DRAINED;
    else this.pushFree(this.arena.pageClass[page], h);
  }

  /** Int32 index of a chunked item's data chunk table. */
  private tableIndex(h: number): number {
    return (h * 8 + tableOffset(this.arena.u8[h * 8 + H.keyLength])) / 4;
  }

  private dataChunks(h: number): number {
    return Math.ceil(this.arena.u32[h * 2 + H.valueLength] / this.dataPerChunk);
  }

  // ---- linking ----------------------------------------------------------------------

  link(h: number, now: number, old?: number): void {
    const a = this.arena;
    const b = h * 8;
    const prior = old ?? this.findKeyOf(h);
    this.now = now;
    a.u32[h * 2 + H.time] = now;
    const exp = a.u32[h * 2 + H.exptime];
    const tn = this.tuning;
    const seg = tn.tempLru && exp !== 0 && exp - now <= tn.temporaryTtl ? Seg.temp : tn.segmented ? Seg.hot : Seg.cold;
    a.u8[b + H.state] = (a.u8[b + H.state] & STATE_CHUNKED) | STATE_LINKED | seg;
    a.u8[b + H.bits] = (a.u8[b + H.bits] & ~ItemBits.snapshot) | this.snapEpoch;
    if (prior > 0 && (a.u8[prior * 8 + H.state] & STATE_LINKED) !== 0) {
      this.index.swap(prior, h);
      this.release(prior);
    } else this.index.insert(h);
    const size = this.totalSize(h);
    this.lruPush(h, a.u8[b + H.lruClass], seg, size);
    this.linkedCount++;
    this.linkedBytes += size;
    this.requested[a.u8[b + H.lruClass]] += size;
    this.stats.totalItems++;
    // HOT is kept within its share at every link; the rest of the juggling waits for the tick.
    const cls = a.u8[b + H.lruClass];
    this.pullTail(cls, Seg.hot, 0, this.hotAge(cls), h);
  }

  unlink(h: number): void {
    if ((this.arena.u8[h * 8 + H.state] & STATE_LINKED) === 0) return;
    this.index.remove(h);
    this.release(h);
  }

  /** The rest of `unlink` once `h` is out of the index: off its LRU, uncounted, freed. */
  private release(h: number): void {
    const a = this.arena;
    const b = h * 8;
    const state = a.u8[b + H.state];
    if (this.saver !== null) this.preserve(h);
    const size = this.totalSize(h);
    this.lruRemove(h, size);
    this.linkedCount--;
    this.linkedBytes -= size;
    this.requested[a.u8[b + H.lruClass]] -= size;
    a.u8[b + H.state] = state & ~(STATE_LINKED | SEG_MASK);
    this.free(h);
  }

  discard(h: number): void {
    if ((this.arena.u8[h * 8 + H.state] & (STATE_LINKED | STATE_FREE)) !== 0) return;
    this.free(h);
  }

  /** The item `pin` protects from eviction and page moves (0: none). */
  private pinned = 0;

  pin(h: number): void {
    this.pinned = h;
  }

  unpin(): void {
    this.pinned = 0;
  }

  /**
   * Writes in flight per chunk they read (a value lent to a reply the kernel did not take at
   * once). memcached keeps such items alive with a reference count; here the chunk is kept:
   * not handed out again, rewritten in place or moved by a page move until the last `unhold`.
   */
  private readonly held = new Map<number, number>();
  /** Held chunks freed meanwhile, or free when they were held: given back on the last `unhold`. */
  private readonly heldFreed = new Set<number>();

  hold(part: Uint8Array): boolean {
    if (part.buffer !== this.arena.buffer) return false;
    const c = this.chunkAt(part.byteOffset);
    this.held.set(c, (this.held.get(c) ?? 0) + 1);
    const a = this.arena;
    const state = a.u8[c * 8 + H.state];
    // Freed after the reply was made: taken off the free list (or out of a page being
    // emptied) until the write is done.
    if (state === STATE_FREE) this.popFree(a.pageClass[Arena.pageOf(c)], c);
    if (state === STATE_FREE || state === STATE_DRAINED) {
      a.u8[c * 8 + H.state] = 0;
      this.heldFreed.add(c);
    }
    return true;
  }

  unhold(part: Uint8Array): void {
    if (part.buffer !== this.arena.buffer) return;
    const c = this.chunkAt(part.byteOffset);
    const n = (this.held.get(c) ?? 0) - 1;
    if (n > 0) {
      this.held.set(c, n);
      return;
    }
    this.held.delete(c);
    if (this.heldFreed.delete(c)) this.freeChunk(c);
  }

  isHeld(h: number): boolean {
    return this.held.size > 0 && this.held.has(h);
  }

  /** Chunks held by writes in flight (see `hold`). */
  get heldChunks(): number {
    return this.held.size;
  }

  /** The chunk that arena byte `at` lies in. */
  private chunkAt(at: number): number {
    const h = Math.floor(at / 8);
    const page = Arena.pageOf(h);
    const first = Arena.firstHandle(page);
    const size8 = this.classes.size[this.arena.pageClass[page]] / 8;
    return first + Math.floor((h - first) / size8) * size8;
  }

  // ---- LRU --------------------------------------------------------------------------

  /** Puts `h` (charged `size` bytes) at the head of a segment. */
  private lruPush(h: number, cls: number, seg: number, size: number): void {
    const a = this.arena;
    const l = cls * SEGMENTS + seg;
    const head = this.heads[l];
    a.i32[h * 2 + H.prev] = 0;
    a.i32[h * 2 + H.next] = head;
    if (head !== 0) a.i32[head * 2 + H.prev] = h;
    else this.tails[l] = h;
    this.heads[l] = h;
    a.u8[h * 8 + H.state] = (a.u8[h * 8 + H.state] & ~SEG_MASK) | seg;
    this.lruCount[l]++;
    this.lruBytes[l] += size;
  }

  private lruRemove(h: number, size: number): void {
    const a = this.arena;
    const l = a.u8[h * 8 + H.lruClass] * SEGMENTS + (a.u8[h * 8 + H.state] & SEG_MASK);
    const p = a.i32[h * 2 + H.prev];
    const n = a.i32[h * 2 + H.next];
    if (p !== 0) a.i32[p * 2 + H.next] = n;
    else this.heads[l] = n;
    if (n !== 0) a.i32[n * 2 + H.prev] = p;
    else this.tails[l] = p;
    a.i32[h * 2 + H.prev] = 0;
    a.i32[h * 2 + H.next] = 0;
    this.lruCount[l]--;
    this.lruBytes[l] -= size;
  }

  private moveTo(h: number, seg: number): void {
    const size = this.totalSize(h);
    this.lruRemove(h, size);
    this.lruPush(h, this.arena.u8[h * 8 + H.lruClass], seg, size);
  }

  /** Oldest item of a segment, 0 if empty. */
  tail(cls: number, seg: number): number {
    return this.tails[cls * SEGMENTS + seg];
  }

  /**
   * memcached's lru_pull_tail: looks at up to 5 items from a segment's tail, reclaiming dead
   * ones, moving HOT/WARM items on (active ones to WARM, the rest to COLD once the segment is
   * over its share or too old) and, with PULL_EVICT, evicting the COLD tail. Returns how many
   * items it removed or moved.
   */
  pullTail(cls: number, seg: number, flags: number, maxAge: number, fresh = 0): number {
    const a = this.arena;
    const st = this.classStats;
    const l = cls * SEGMENTS + seg;
    let removed = 0;
    let h = this.tails[l];
    for (let tries = PULL_TRIES; tries > 0 && h !== 0; tries--) {
      const prev = a.i32[h * 2 + H.prev];
      if (h === this.pinned) {
        // In use by the operation that is allocating: memcached skips such items the same way.
        st.add(cls, C.lrutail_reflocked);
        h = prev;
        continue;
      }
      const bits = a.u8[h * 8 + H.bits];
      // The item just linked is left for later: memcached links without reclaiming, so a
      // value stored already expired is found (and counted as get_expired) by the next get.
      if (h !== fresh && this.opts.isDead(h)) {
        st.add(cls, C.reclaimed);
        this.stats.reclaimed++;
        if ((bits & ItemBits.fetched) === 0) {
          st.add(cls, C.expired_unfetched);
          this.stats.expiredUnfetched++;
        }
        this.unlink(h);
        removed++;
        h = prev;
        continue;
      }
      if (seg === Seg.hot || seg === Seg.warm) {
        const total = this.lruBytes[cls * SEGMENTS + Seg.hot] + this.lruBytes[cls * SEGMENTS + Seg.warm] + this.lruBytes[cls * SEGMENTS + Seg.cold];
        const limit = (total * (seg === Seg.hot ? this.tuning.hotLruPct : this.tuning.warmLruPct)) / 100;
        if ((bits & ItemBits.active) !== 0) {
          // Active items are rescued to WARM's head; in WARM the scan goes on past them.
          a.u8[h * 8 + H.bits] = bits & ~ItemBits.active;
          removed++;
          if (seg === Seg.warm) {
            st.add(cls, C.moves_within_lru);
            this.stats.movesWithinLru++;
          } else this.countMove(cls, C.moves_to_warm);
          this.moveTo(h, Seg.warm);
          if (seg === Seg.warm) {
            h = prev;
            continue;
          }
        } else if (this.lruBytes[l] > limit || this.now - a.u32[h * 2 + H.time] > maxAge) {
          this.countMove(cls, C.moves_to_cold);
          this.moveTo(h, Seg.cold);
          removed++;
        }
        break;
      }
      if (seg === Seg.cold) {
        if ((flags & PULL_EVICT) !== 0) {
          if (this.opts.noEvict) break;
          st.add(cls, C.evicted);
          st.set(cls, C.evicted_time, this.now - a.u32[h * 2 + H.time]);
          if (a.u32[h * 2 + H.exptime] !== 0) st.add(cls, C.evicted_nonzero);
          this.stats.evictions++;
          if ((bits & ItemBits.fetched) === 0) {
            st.add(cls, C.evicted_unfetched);
            this.stats.evictedUnfetched++;
          }
          if ((bits & ItemBits.active) !== 0) {
            st.add(cls, C.evicted_active);
            this.stats.evictedActive++;
          }
          this.unlink(h);
          removed++;
        } else if ((bits & ItemBits.active) !== 0 && this.tuning.segmented) {
          this.countMove(cls, C.moves_to_warm);
          a.u8[h * 8 + H.bits] = bits & ~ItemBits.active;
          this.moveTo(h, Seg.warm);
          removed++;
        }
      }
      break;
    }
    return removed;
  }

  private countMove(cls: number, counter: number): void {
    this.classStats.add(cls, counter);
    if (counter === C.moves_to_cold) this.stats.movesToCold++;
    else this.stats.movesToWarm++;
  }

  /**
   * memcached's lru_maintainer_juggle for one class, up to `rounds` passes: HOT and WARM
   * drain into COLD by share and by age relative to COLD's oldest item, active COLD items
   * return to WARM, dead tails are reclaimed.
   */
  juggle(cls: number, rounds: number): number {
    const coldAge = this.coldTailAge(cls);
    // Flat mode drains HOT and WARM into COLD (memcached: max age 0).
    const hotAge = this.tuning.segmented ? coldAge * this.tuning.hotMaxFactor : 0;
    const warmAge = this.tuning.segmented ? coldAge * this.tuning.warmMaxFactor : 0;
    let moves = 0;
    for (let i = 0; i < rounds; i++) {
      let more = this.pullTail(cls, Seg.hot, 0, hotAge) + this.pullTail(cls, Seg.warm, 0, warmAge);
      more += this.pullTail(cls, Seg.cold, 0, 0);
      if (this.tuning.tempLru) more += this.pullTail(cls, Seg.temp, 0, 0);
      if (more === 0) break;
      moves += more;
    }
    return moves;
  }

  /** Seconds since COLD's oldest item was used; HOT and WARM items older than a factor of it move on. */
  private coldTailAge(cls: number): number {
    const t = this.tails[cls * SEGMENTS + Seg.cold];
    return t === 0 ? 0 : this.now - this.arena.u32[t * 2 + H.time];
  }

  private hotAge(cls: number): number {
    return this.tuning.segmented ? this.coldTailAge(cls) * this.tuning.hotMaxFactor : 0;
  }

  countHit(h: number): void {
    const a = this.arena;
    this.classStats.add(a.u8[h * 8 + H.lruClass], C.hits_to_hot + (a.u8[h * 8 + H.state] & SEG_MASK));
  }

  bump(h: number, now: number, getHit: boolean): void {
    const a = this.arena;
    const b = h * 8;
    const seg = a.u8[b + H.state] & SEG_MASK;
    // memcached counts hits per segment for plain gets only, before the hit moves the item.
    if (getHit) this.countHit(h);
    const bits = a.u8[b + H.bits];
    if (!this.tuning.segmented) {
      // Flat mode (memcached's do_item_update): a hit moves the item to the head, at most once a minute.
      a.u8[b + H.bits] = bits | ItemBits.fetched;
      if (a.u32[h * 2 + H.time] < now - ITEM_UPDATE_INTERVAL) {
        a.u32[h * 2 + H.time] = now;
        this.moveTo(h, seg);
      }
      return;
    }
    if ((bits & ItemBits.active) !== 0) return;
    if ((bits & ItemBits.fetched) === 0) {
      a.u8[b + H.bits] = bits | ItemBits.fetched;
      return;
    }
    if (seg !== Seg.cold) {
      a.u8[b + H.bits] = bits | ItemBits.active;
      a.u32[h * 2 + H.time] = now;
      return;
    }
    // memcached queues the move to WARM for its maintainer (lru_bump_async) and, with the
    // queue full, forgets the hit. Done later and together, the moves cost the request path
    // nothing: measured 0.4 µs of CPU per request at 90% gets when each hit moved its item.
    if (this.bumpCount === BUMP_QUEUE) {
      this.stats.lruBumpsDropped++;
      return;
    }
    a.u8[b + H.bits] = bits | ItemBits.active;
    this.bumps[this.bumpCount++] = h;
  }

  /** COLD items a hit made active, waiting to move to WARM: `bumps[0..bumpCount)`. */
  private readonly bumps = new Int32Array(BUMP_QUEUE);
  private bumpCount = 0;

  /**
   * memcached's lru_maintainer_bumps and do_item_update: each queued item still linked, in
   * COLD and active moves to WARM's head, inactive, with the time of the move. One that left
   * COLD meanwhile (rescued at the tail, unlinked, its chunk reused or moved) is passed over.
   * memcached holds a reference on each queued item; here a handle can outlive its chunk: a
   * page given to another class since then is cut into other chunk sizes, and the handle may
   * point into another item's value, whose bytes could look like any state.
   */
  private applyBumps(now: number): void {
    // `lru mode flat` since the hits: flat mode has no WARM, so the moves are forgotten and
    // the items stay where they are, active.
    if (!this.tuning.segmented) {
      this.bumpCount = 0;
      return;
    }
    const a = this.arena;
    for (let i = 0; i < this.bumpCount; i++) {
      const h = this.bumps[i];
      if (!this.isChunkStart(h)) continue;
      const b = h * 8;
      const state = a.u8[b + H.state];
      const bits = a.u8[b + H.bits];
      if ((state & STATE_LINKED) === 0 || (state & SEG_MASK) !== Seg.cold || (bits & ItemBits.active) === 0) continue;
      a.u8[b + H.bits] = bits & ~ItemBits.active;
      a.u32[h * 2 + H.time] = now;
      this.countMove(a.u8[b + H.lruClass], C.moves_to_warm);
      this.moveTo(h, Seg.warm);
    }
    this.bumpCount = 0;
  }

  /**
   * Whether a handle kept from earlier still names a chunk: the start of one in its page's
   * current class. A page given to another class since is cut into other sizes, and a handle
   * may then point into the middle of a chunk, or past the last one.
   */
  isChunkStart(h: number): boolean {
    const page = Arena.pageOf(h);
    const cls = this.arena.pageClass[page];
    if (cls === 0) return false;
    const offset = h - Arena.firstHandle(page);
    const size8 = this.classes.size[cls] / 8;
    return offset % size8 === 0 && offset / size8 < this.classes.perSlab[cls];
  }

  update(h: number, now: number): void {
    this.arena.u32[h * 2 + H.time] = now;
  }

  /**
   * Background work, bounded per call: hash table growth, LRU upkeep, page moves. True when
   * it found something to do, so the server keeps its fast pace (see Heartbeat).
   */
  maintain(now: number): boolean {
    let busy = this.index.expanding;
    this.index.migrate(MIGRATE_PER_TICK);
    if (this.maintainLru(now)) busy = true;
    if (this.drainPage !== 0) {
      this.drain(DRAIN_PER_TICK);
      busy = true;
    } else if (this.tuning.automove !== 0 && this.opts.reassign !== false && ++this.ticks % AUTOMOVE_EVERY_TICKS === 0) this.automove();
    return busy;
  }
  private ticks = 0;

  /**
   * The LRU's part of `maintain`: the queued bumps applied, every class juggled. The server
   * runs it alone between full ticks, so that its work comes in slices too small to hold
   * requests up (see server.ts). True when it moved anything.
   */
  maintainLru(now: number): boolean {
    this.now = now;
    const busy = this.bumpCount > 0;
    if (busy) this.applyBumps(now);
    // Without memcached's maintainer thread, items move between segments only as they are linked.
    if (this.opts.maintainer === false) return busy;
    this.stats.lruMaintainerJuggles++;
    let moved = false;
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      if (this.classPages[cls].length > 0 && this.juggle(cls, JUGGLE_ROUNDS) > 0) moved = true;
    }
    return busy || moved;
  }

  // ---- page reassignment ------------------------------------------------------------

  /** Evictions per class at the last automove check. */
  private readonly lastEvicted = new Float64Array(64);

  /**
   * memcached's slab automove: when a class evicts while another holds much older items (or
   * lots of free chunks), one page moves from the latter to the former, so a change in value
   * sizes over time does not strand memory in classes nobody uses any more.
   */
  automove(): void {
    let dst = 0;
    let most = 0;
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      const ev = this.classStats.get(cls, C.evicted) + this.classStats.get(cls, C.outofmemory);
      const delta = ev - this.lastEvicted[cls];
      this.lastEvicted[cls] = ev;
      if (delta > most) {
        most = delta;
        dst = cls;
      }
    }
    if (dst === 0) return;
    let src = 0;
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      if (cls !== dst && this.classPages[cls].length > 1 && this.freeCount[cls] > this.classes.perSlab[cls] * AUTOMOVE_FREE_PAGES) src = cls;
    }
    if (src === 0) {
      const oldest = this.oldestClass(dst, AUTOMOVE_SOURCE_PAGES);
      if (oldest !== 0 && this.coldAge(dst) < this.coldAge(oldest) * this.tuning.automoveRatio) src = oldest;
    }
    if (src !== 0) this.releasePage(src, DRAIN_PER_TICK);
  }

  /** Age of a class's oldest item (COLD tail, else WARM, else HOT). */
  private coldAge(cls: number): number {
    const t = this.tails[cls * SEGMENTS + Seg.cold] || this.tails[cls * SEGMENTS + Seg.warm] || this.tails[cls * SEGMENTS + Seg.hot];
    return t === 0 ? 0 : this.now - this.arena.u32[t * 2 + H.time];
  }

  /**
   * The class other than `except`, holding at least `minPages` pages, whose oldest item is
   * oldest; 0 if none. A class never gives up its last page (memcached's slabs_reassign
   * answers NOSPARE): emptying it would leave the class unable to store anything until the
   * move ends, and take back a page it would ask for again at once.
   */
  private oldestClass(except: number, minPages: number): number {
    let best = 0;
    let bestAge = -1;
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      if (cls === except || this.classPages[cls].length < minPages) continue;
      const age = this.coldAge(cls);
      if (age > bestAge) {
        bestAge = age;
        best = cls;
      }
    }
    return best;
  }

  /** What the page move under way did so far: items and data chunks copied, items dropped. */
  private readonly moved = { rescues: 0, chunkRescues: 0, nomem: 0 };

  /** The page being emptied for another class (0: none), its class, and how far the emptying got. */
  private drainPage = 0;
  private drainClass = 0;
  private drainCursor = 0;

  get drainingPage(): number {
    return this.drainPage;
  }

  /**
   * Takes a class's oldest page back: its live items and data chunks move to free chunks
   * elsewhere in the class when there are some, otherwise their items are evicted (never
   * with -M). Work is done in slices of `budget` chunks (the maintenance tick continues it);
   * returns true once the page is free. Chunks of items still being written are skipped and
   * revisited, so only a full release with nothing in flight completes in one call.
   *
   * `atOnce` is for an allocation that waits on the page: a page holding a chunk in flight
   * (often that allocation's own header) could not be freed in time, and starting on it would
   * evict its items for nothing and leave the class unable to allocate until the move ends.
   */
  releasePage(cls: number, budget = Infinity, atOnce = false): boolean {
    if (this.drainPage !== 0 && this.drainClass !== cls) this.drain(Infinity);
    if (this.drainPage === 0 && !this.startDrain(cls, atOnce)) return false;
    return this.drain(budget);
  }

  private startDrain(cls: number, onlyIfIdle = false): boolean {
    const pages = this.classPages[cls];
    if (pages.length === 0) return false;
    const page = pages[0];
    const u8 = this.arena.u8;
    const size8 = this.classes.size[cls] / 8;
    const first = Arena.firstHandle(page);
    const n = this.classes.perSlab[cls];
    let free = 0;
    for (let c = 0; c < n; c++) {
      const h = first + c * size8;
      if ((u8[h * 8 + H.state] & STATE_FREE) !== 0) free++;
      else if (onlyIfIdle && this.inFlight(h)) return false;
    }
    if (this.opts.noEvict && n - free > this.freeCount[cls] - free) return false;
    for (let c = 0; c < n; c++) {
      const h = first + c * size8;
      if ((u8[h * 8 + H.state] & STATE_FREE) !== 0) {
        this.popFree(cls, h);
        u8[h * 8 + H.state] = STATE_DRAINED;
      }
    }
    this.drainPage = page;
    this.drainClass = cls;
    this.drainCursor = 0;
    this.moved.rescues = this.moved.chunkRescues = this.moved.nomem = 0;
    return true;
  }

  /** A used chunk whose item is being written (not linked yet) or read (pinned, or by a write: held): a page move must wait for it. */
  private inFlight(h: number): boolean {
    const a = this.arena;
    const owner = (a.u8[h * 8 + H.state] & STATE_DATA) !== 0 ? a.i32[h * 2 + H.prev] : h;
    return (a.u8[owner * 8 + H.state] & STATE_LINKED) === 0 || owner === this.pinned || this.isHeld(h);
  }

  /** Continues emptying the draining page for up to `budget` chunks; true when it was released. */
  private drain(budget: number): boolean {
    // Items move into free chunks without an allocation: lent values there are copied first.
    this.opts.beforeOverwrite?.();
    const cls = this.drainClass;
    const page = this.drainPage;
    const a = this.arena;
    const u8 = a.u8;
    const size = this.classes.size[cls];
    const first = Arena.firstHandle(page);
    const n = this.classes.perSlab[cls];
    let pending = 0;
    for (; this.drainCursor < n && budget > 0; this.drainCursor++, budget--) {
      const h = first + (this.drainCursor * size) / 8;
      const state = u8[h * 8 + H.state];
      if (state === STATE_DRAINED) continue;
      if (this.inFlight(h)) {
        pending++; // being written or read: revisited on the next pass
        continue;
      }
      const owner = (state & STATE_DATA) !== 0 ? a.i32[h * 2 + H.prev] : h;
      // memcached's page mover drops expired and flushed items without counting them.
      if (this.opts.isDead(owner)) {
        this.unlink(owner);
        continue;
      }
      const to = this.freeHead[cls];
      if (to !== 0) {
        this.popFree(cls, to);
        if ((state & STATE_DATA) !== 0) {
          this.relocateData(h, to, size);
          this.moved.chunkRescues++;
        } else {
          this.relocate(h, to, size);
          this.moved.rescues++;
        }
      } else if (this.opts.noEvict) {
        this.abortDrain();
        return false;
      } else {
        // Not an eviction in memcached's counts: slab_reassign_evictions_nomem only.
        this.moved.nomem++;
        this.unlink(owner);
      }
    }
    if (this.drainCursor < n) return false;
    for (let c = 0; c < n; c++) if (u8[(first + (c * size) / 8) * 8 + H.state] !== STATE_DRAINED) pending++;
    if (pending > 0) {
      this.drainCursor = 0;
      return false;
    }
    const pages = this.classPages[cls];
    pages.splice(pages.indexOf(page), 1);
    a.releasePage(page);
    this.pagesUsed--;
    this.drainPage = 0;
    // memcached adds a move's counts when the page is free; its rescue relinks each item,
    // which counts in total_items.
    const st = this.stats;
    st.slabsMoved++;
    st.slabReassignRescues += this.moved.rescues;
    st.slabReassignChunkRescues += this.moved.chunkRescues;
    st.slabReassignEvictionsNomem += this.moved.nomem;
    st.totalItems += this.moved.rescues;
    const dst = this.drainDest;
    this.drainDest = 0;
    if (dst !== 0) this.newPage(dst, true);
    return true;
  }

  /**
   * `slabs reassign src dst`: starts moving src's oldest page to dst (0: to the free pool), as
   * memcached's do_slabs_reassign, with its result codes.
   */
  reassign(src: number, dst: number): "ok" | "busy" | "same" | "badclass" | "nospare" {
    if (this.drainPage !== 0) return "busy";
    if (src === dst) return "same";
    const largest = this.classes.largest;
    if (src < 0 || src > largest || dst < 0 || dst > largest) return "badclass";
    // memcached's global page pool (class 0) never holds the two pages a move needs here.
    if (src === 0 || this.classPages[src].length < 2) return "nospare";
    if (!this.startDrain(src)) return "nospare";
    this.drainDest = dst;
    this.drain(DRAIN_PER_TICK);
    return "ok";
  }

  /** Class that gets the draining page once it is empty (0: nobody, it returns to the pool). */
  private drainDest = 0;

  /** Gives the draining page's emptied chunks back to its class (with -M, when items cannot move). */
  private abortDrain(): void {
    const cls = this.drainClass;
    const page = this.drainPage;
    this.drainPage = 0;
    this.drainDest = 0;
    const size8 = this.classes.size[cls] / 8;
    const first = Arena.firstHandle(page);
    for (let c = 0; c < this.classes.perSlab[cls]; c++) {
      const h = first + c * size8;
      if (this.arena.u8[h * 8 + H.state] === STATE_DRAINED) this.pushFree(cls, h);
    }
  }

  /** Moves a linked item to another chunk of its class, fixing every link that points at it. */
  private relocate(from: number, to: number, size: number): void {
    // It may land on a page the snapshot walk has passed: save it before it moves.
    if (this.saver !== null) this.preserve(from);
    const a = this.arena;
    const i32 = a.i32;
    a.u8.copyWithin(to * 8, from * 8, from * 8 + size);
    const l = a.u8[from * 8 + H.lruClass] * SEGMENTS + (a.u8[from * 8 + H.state] & SEG_MASK);
    const p = i32[from * 2 + H.prev];
    const n = i32[from * 2 + H.next];
    if (p !== 0) i32[p * 2 + H.next] = to;
    else this.heads[l] = to;
    if (n !== 0) i32[n * 2 + H.prev] = to;
    else this.tails[l] = to;
    this.index.replace(from, to);
    if ((a.u8[from * 8 + H.state] & STATE_CHUNKED) !== 0) {
      const table = this.tableIndex(to);
      for (let c = 0, k = this.dataChunks(to); c < k; c++) i32[i32[table + c] * 2 + H.prev] = to;
    }
    a.u8[from * 8 + H.state] = STATE_DRAINED;
  }

  /** Moves a data chunk, updating its owner's table. */
  private relocateData(from: number, to: number, size: number): void {
    const a = this.arena;
    a.u8.copyWithin(to * 8, from * 8, from * 8 + size);
    const owner = a.i32[from * 2 + H.prev];
    const table = this.tableIndex(owner);
    for (let c = 0, k = this.dataChunks(owner); c < k; c++) {
      if (a.i32[table + c] === from) a.i32[table + c] = to;
    }
    a.u8[from * 8 + H.state] = STATE_DRAINED;
  }

  // ---- fields -----------------------------------------------------------------------

  valueBuffer(_h: number): Uint8Array {
    return this.arena.u8;
  }
  valueStart(h: number): number {
    return h * 8 + H.key + this.arena.u8[h * 8 + H.keyLength];
  }
  chunked(h: number): boolean {
    return (this.arena.u8[h * 8 + H.state] & STATE_CHUNKED) !== 0;
  }
  writeValue(h: number, offset: number, src: Uint8Array, start: number, end: number): void {
    const a = this.arena;
    if ((a.u8[h * 8 + H.state] & STATE_CHUNKED) === 0) {
      copyBytes(src, start, end, a.u8, this.valueStart(h) + offset);
      return;
    }
    const table = this.tableIndex(h);
    const per = this.dataPerChunk;
    while (start < end) {
      const within = offset % per;
      const n = Math.min(per - within, end - start);
      copyBytes(src, start, start + n, a.u8, a.i32[table + Math.floor(offset / per)] * 8 + HEADER_BYTES + within);
      start += n;
      offset += n;
    }
  }
  readValue(h: number, sink: ByteSink): void {
    const a = this.arena;
    const len = a.u32[h * 2 + H.valueLength];
    if ((a.u8[h * 8 + H.state] & STATE_CHUNKED) === 0) {
      const at = this.valueStart(h);
      sink.bytes(a.u8, at, at + len);
      return;
    }
    const table = this.tableIndex(h);
    const per = this.dataPerChunk;
    for (let c = 0, off = 0; off < len; c++, off += per) {
      const at = a.i32[table + c] * 8 + HEADER_BYTES;
      sink.bytes(a.u8, at, at + Math.min(per, len - off));
    }
  }
  copyValue(from: number, to: number, offset: number): void {
    this.copier.to = to;
    this.copier.offset = offset;
    this.readValue(from, this.copier);
  }
  private readonly copier = {
    engine: this as SlabEngine,
    to: 0,
    offset: 0,
    bytes(src: Uint8Array, start: number, end: number): void {
      this.engine.writeValue(this.to, this.offset, src, start, end);
      this.offset += end - start;
    },
  };
  valueLength(h: number): number {
    return this.arena.u32[h * 2 + H.valueLength];
  }
  keyBuffer(_h: number): Uint8Array {
    return this.arena.u8;
  }
  keyStart(h: number): number {
    return h * 8 + H.key;
  }
  keyLength(h: number): number {
    return this.arena.u8[h * 8 + H.keyLength];
  }
  flags(h: number): number {
    return this.arena.u32[h * 2 + H.flags];
  }
  exptime(h: number): number {
    return this.arena.u32[h * 2 + H.exptime];
  }
  setExptime(h: number, exptime: number): void {
    if (this.saver !== null) this.preserve(h);
    this.arena.u32[h * 2 + H.exptime] = exptime;
  }
  time(h: number): number {
    return this.arena.u32[h * 2 + H.time];
  }
  setTime(h: number, time: number): void {
    this.arena.u32[h * 2 + H.time] = time;
  }
  cas(h: number): number {
    return this.arena.f64[h + H.cas];
  }
  setCas(h: number, cas: number): void {
    if (this.saver !== null) this.preserve(h);
    this.arena.f64[h + H.cas] = cas;
  }
  bits(h: number): number {
    return this.arena.u8[h * 8 + H.bits];
  }
  setBits(h: number, bits: number): void {
    if (this.saver !== null) this.preserve(h);
    const u8 = this.arena.u8;
    u8[h * 8 + H.bits] = (bits & ~ItemBits.snapshot) | (u8[h * 8 + H.bits] & ItemBits.snapshot);
  }
  slabClass(h: number): number {
    return this.arena.u8[h * 8 + H.lruClass];
  }
  /** LRU segment of a linked item (`Seg`). */
  segment(h: number): number {
    return this.arena.u8[h * 8 + H.state] & SEG_MASK;
  }
  isLinked(h: number): boolean {
    return (this.arena.u8[h * 8 + H.state] & STATE_LINKED) !== 0;
  }
  totalSize(h: number): number {
    const a = this.arena;
    return itemTotalSize(a.u8[h * 8 + H.keyLength], a.u32[h * 2 + H.flags], a.u32[h * 2 + H.valueLength], this.useCas);
  }

  // ---- point-in-time snapshots --------------------------------------------------------
  //
  // A snapshot is the image of every item linked at the moment it starts, written while
  // clients keep changing the store (Dragonfly's approach, without fork). Each item carries
  // ItemBits.snapshot; it equals `snapEpoch` once the item is in the running image or was linked
  // after the snapshot began. Starting a snapshot flips `snapEpoch`, so every linked item
  // becomes "not yet saved" at no cost. The walk then saves items page by page, and any
  // change to an unsaved item (unlink, eviction, new exptime, CAS or bits, a value rewritten
  // in place) saves its old state first. Page moves copy the bit with the item, so a moved
  // item is saved exactly once wherever it lands.

  private snapEpoch = 0;
  private saver: ((h: number) => void) | null = null;
  private snapPage = 0;
  private snapChunk = 0;

  /** Starts a snapshot: `save` receives every item linked now, each once, in its state of now. */
  beginSnapshot(save: (h: number) => void): void {
    if (this.saver !== null) throw new Error("a snapshot is already running");
    this.snapEpoch ^= ItemBits.snapshot;
    this.saver = save;
    this.snapPage = 1;
    this.snapChunk = 0;
  }

  get snapshotRunning(): boolean {
    return this.saver !== null;
  }

  /**
   * Saves the unsaved items of the next `budget` chunks; true once the whole arena is walked
   * and the snapshot is over. Every walk must run to its end (even when its output is
   * thrown away): items it never reached would otherwise look saved to the next one.
   */
  snapshotStep(budget: number): boolean {
    const a = this.arena;
    const u8 = a.u8;
    while (budget > 0 && this.snapPage < a.pageCount) {
      const cls = a.pageClass[this.snapPage];
      const n = cls === 0 ? 0 : this.classes.perSlab[cls];
      const size8 = cls === 0 ? 0 : this.classes.size[cls] / 8;
      const first = Arena.firstHandle(this.snapPage);
      for (; this.snapChunk < n && budget > 0; this.snapChunk++, budget--) {
        const h = first + this.snapChunk * size8;
        if ((u8[h * 8 + H.state] & STATE_LINKED) !== 0) this.preserve(h);
      }
      if (this.snapChunk < n) break;
      this.snapPage++;
      this.snapChunk = 0;
    }
    if (this.snapPage < a.pageCount) return false;
    this.saver = null;
    return true;
  }

  /** Saves a linked item's current state into the running snapshot, unless already saved. */
  preserve(h: number): void {
    this.opts.beforeOverwrite?.();
    const u8 = this.arena.u8;
    const b = h * 8 + H.bits;
    if (this.saver === null || (u8[b] & ItemBits.snapshot) === this.snapEpoch || (u8[h * 8 + H.state] & STATE_LINKED) === 0) return;
    u8[b] ^= ItemBits.snapshot;
    this.saver(h);
  }

  // ---- whole-store views ------------------------------------------------------------

  /** Visits linked items page by page, in address order (stable while the LRU churns). */
  forEach(fn: (h: number) => void): void {
    for (let cls = 1; cls <= this.classes.largest; cls++) {
      for (const p of [...this.classPages[cls]]) this.forEachInPage(p, fn);
    }
  }

  /** Visits one LRU segment of a class newest first, while `fn` returns true (`fn` must not unlink). */
  forEachInLru(cls: number, seg: number, fn: (h: number) => boolean): void {
    const i32 = this.arena.i32;
    for (let h = this.heads[cls * SEGMENTS + seg]; h !== 0 && fn(h); h = i32[h * 2 + H.next]);
  }

  /** Visits the linked items of one page. */
  forEachInPage(page: number, fn: (h: number) => void): void {
    const cls = this.arena.pageClass[page];
    if (cls === 0) return;
    const size8 = this.classes.size[cls] / 8;
    const first = Arena.firstHandle(page);
    const u8 = this.arena.u8;
    for (let c = 0, n = this.classes.perSlab[cls]; c < n; c++) {
      const h = first + c * size8;
      if ((u8[h * 8 + H.state] & STATE_LINKED) !== 0) fn(h);
    }
  }

  count(): number {
    return this.linkedCount;
  }
  bytes(): number {
    return this.linkedBytes;
  }
  /** Pages the limit allows. */
  get pageLimit(): number {
    return this.limitPages;
  }
  /** Pages charged against the limit (memcached's total_malloced / 1 MiB). */
  pagesCharged(): number {
    return this.pagesUsed;
  }
  setLimitBytes(bytes: number): void {
    this.limitBytes = bytes;
    // Pages already given out stay; new ones follow the new limit, within the reserved arena.
    this.limitPages = Math.min(Math.floor(bytes / PAGE_SIZE), this.arena.pageCount - 1 - this.classes.largest);
  }
}

/** Byte offset, from the chunk start, of a chunked item's table: after the key, 4-aligned. */
function tableOffset(keyLength: number): number {
  return (HEADER_BYTES + keyLength + 3) & ~3;
}
