import { Arena, H, STATE_LINKED } from "./arena.ts";
import type { Cache } from "./cache.ts";
import { C } from "./class-stats.ts";
import { ItemBits } from "./engine.ts";
import type { SlabEngine } from "./slab-engine.ts";

const MAX_CLASSES = 64;
const SEGMENTS = 4;
/** memcached's autocrawl: a class is crawled again no sooner than this after a start... */
const MIN_RETRY = 5;
/** ...and no later than this after its last crawl. */
const MAX_WAIT = 3600;
/** Minutes of the remaining-TTL histogram the autocrawl schedule looks at. */
const HISTO_MINUTES = 60;

export interface CrawlerOptions {
  /** Linked items checked per tick at most. */
  itemsPerTick?: number;
  /** Chunks (free or not) and empty pages stepped over per tick at most. */
  chunksPerTick?: number;
}

/**
 * memcached's LRU crawler: reclaims expired and flushed items nobody asks for, so their
 * memory is free before the LRU has to evict live items. memcached walks each LRU with a
 * placeholder item linked into it; here a cursor walks the arena page by page and chunk by
 * chunk instead, which stays valid however the LRU churns (unlinking only frees the chunk
 * under the cursor) and needs nothing in the item lists. Each maintenance tick checks a
 * bounded number of items and chunks, so a crawl never pauses the event loop.
 *
 * Crawls start by hand (`lru_crawler crawl`) or on memcached's autocrawl schedule: a class
 * is crawled again sooner when its last crawl saw many items due to expire within the hour,
 * later (up to an hour) when it saw none.
 */
export class Crawler {
  /** `lru_crawler enable|disable`; memcached's settings.lru_crawler. */
  enabled = true;
  /** `lru_crawler sleep`: kept for `stats settings`; the per-tick budget does the pacing here. */
  sleep = 100;
  /** `lru_crawler tocrawl`: items checked per class per crawl at most, 0 = all. */
  tocrawl = 0;
  /** memcached's lru_crawler_starts. */
  starts = 0;
  running = false;

  private readonly engine: SlabEngine;
  private readonly cache: Cache;
  private readonly itemsPerTick: number;
  private readonly chunksPerTick: number;
  /** Classes the running crawl still covers, and items it checked in each. */
  private readonly pass = new Uint8Array(MAX_CLASSES);
  private readonly passChecked = new Float64Array(MAX_CLASSES);
  private auto = false;
  /** Classes the running autocrawl was started for. */
  private readonly autoClasses = new Uint8Array(MAX_CLASSES);
  private page = 0;
  private chunk = 0;
  /** Autocrawl schedule and what the running autocrawl saw (memcached's crawlerstats). */
  private readonly nextCrawl = new Float64Array(MAX_CLASSES);
  private readonly nextWait = new Float64Array(MAX_CLASSES);
  private readonly seen = new Float64Array(MAX_CLASSES);
  private readonly noexp = new Float64Array(MAX_CLASSES);
  private readonly histo = new Float64Array(MAX_CLASSES * HISTO_MINUTES);
  private lastAutoCheck = -1;

  constructor(engine: SlabEngine, cache: Cache, options: CrawlerOptions = {}) {
    this.engine = engine;
    this.cache = cache;
    this.itemsPerTick = options.itemsPerTick ?? 1000;
    this.chunksPerTick = options.chunksPerTick ?? 65536;
  }

  /** `lru_crawler enable`: false when it already was (memcached then fails to start a second thread). */
  enable(): boolean {
    if (this.enabled) return false;
    this.enabled = true;
    return true;
  }

  /** `lru_crawler disable`: abandons a running crawl. */
  disable(): void {
    this.enabled = false;
    this.finish(false);
  }

  /**
   * Starts a crawl of the classes whose entry in `classes` (indexed by class id) is not 0,
   * and does its first slice at once, so a small cache is crawled before the reply. The
   * crawl still counts as running until the next tick, as memcached's crawler thread is busy
   * for a moment: a second crawl in the same batch of commands gets BUSY there too. False
   * when a crawl is already running.
   */
  start(classes: Uint8Array, now: number): boolean {
    if (this.running) return false;
    for (let cls = 1; cls < MAX_CLASSES; cls++) this.pass[cls] = classes[cls];
    this.begin(false);
    this.step(now);
    return true;
  }

  /** One maintenance tick: maybe starts an autocrawl, then does one bounded slice. */
  tick(now: number): void {
    if (!this.enabled) return;
    // memcached's maintainer looks at the schedule once a second.
    if (!this.running && now !== this.lastAutoCheck) {
      this.lastAutoCheck = now;
      this.scheduleAuto(now);
    }
    if (this.running && this.step(now)) this.finish(true);
  }

  private scheduleAuto(now: number): void {
    let due = false;
    for (let cls = 1; cls <= this.engine.classes.largest; cls++) {
      this.pass[cls] = 0;
      this.autoClasses[cls] = 0;
      if (now > this.nextCrawl[cls]) {
        this.pass[cls] = 1;
        this.autoClasses[cls] = 1;
        this.nextCrawl[cls] = now + MIN_RETRY;
        due = true;
      }
    }
    if (due) this.begin(true);
  }

  private begin(auto: boolean): void {
    this.auto = auto;
    this.running = true;
    this.starts++;
    this.page = 1;
    this.chunk = 0;
    this.passChecked.fill(0);
    if (auto) {
      this.seen.fill(0);
      this.noexp.fill(0);
      this.histo.fill(0);
    }
  }

  /** Advances the cursor by at most one tick's budget; true once it reached the arena's end. */
  private step(now: number): boolean {
    const e = this.engine;
    const a = e.arena;
    const u8 = a.u8;
    const largest = e.classes.largest;
    let items = this.itemsPerTick;
    let chunks = this.chunksPerTick;
    while (items > 0 && chunks > 0) {
      if (this.page >= a.pageCount) return true;
      const pageClass = a.pageClass[this.page];
      // Large items keep their header in a small class's page but live on the largest class's LRU.
      if (pageClass === 0 || (this.pass[pageClass] === 0 && this.pass[largest] === 0)) {
        this.page++;
        this.chunk = 0;
        chunks--;
        continue;
      }
      const size8 = e.classes.size[pageClass] / 8;
      const perPage = e.classes.perSlab[pageClass];
      const first = Arena.firstHandle(this.page);
      while (this.chunk < perPage && items > 0 && chunks > 0) {
        const h = first + this.chunk * size8;
        this.chunk++;
        chunks--;
        if ((u8[h * 8 + H.state] & STATE_LINKED) === 0) continue;
        const cls = u8[h * 8 + H.lruClass];
        if (this.pass[cls] === 0) continue;
        items--;
        this.check(h, cls, now);
      }
      if (this.chunk >= perPage) {
        this.page++;
        this.chunk = 0;
      }
    }
    return false;
  }

  /** memcached's crawler_expired_eval: reclaims a dead item, or notes when a live one expires. */
  private check(h: number, cls: number, now: number): void {
    const e = this.engine;
    const cache = this.cache;
    const st = e.classStats;
    st.add(cls, C.crawler_items_checked);
    if (this.tocrawl !== 0 && ++this.passChecked[cls] >= this.tocrawl) this.pass[cls] = 0;
    if (cache.isReclaimable(h, now)) {
      st.add(cls, C.crawler_reclaimed);
      if ((e.bits(h) & ItemBits.fetched) === 0 && !cache.isFlushed(h, now)) {
        st.add(cls, C.expired_unfetched);
        e.stats.expiredUnfetched++;
      }
      e.unlink(h);
      return;
    }
    if (!this.auto) return;
    this.seen[cls]++;
    const exp = e.exptime(h);
    if (exp === 0) this.noexp[cls]++;
    else if (exp - now < HISTO_MINUTES * 60) this.histo[cls * HISTO_MINUTES + Math.floor((exp - now) / 60)]++;
  }

  /**
   * Ends the crawl. A completed autocrawl schedules each class it covered as memcached's
   * lru_maintainer_crawler_check does: sooner if at least 1% of its items with a TTL expire
   * within the minutes already waited, an hour at most if none expire within the hour.
   */
  private finish(completed: boolean): void {
    if (!this.running) return;
    this.running = false;
    if (!completed || !this.auto) return;
    const now = this.cache.now();
    for (let cls = 1; cls <= this.engine.classes.largest; cls++) {
      if (this.autoClasses[cls] === 0) continue;
      const lowWatermark = Math.floor((this.seen[cls] - this.noexp[cls]) / 100) + 1;
      let available = 0;
      let wait = this.nextWait[cls];
      for (let x = 0; x < HISTO_MINUTES; x++) {
        available += this.histo[cls * HISTO_MINUTES + x];
        if (available > lowWatermark) {
          if (wait < x * 60) wait += 60;
          else if (wait >= 60) wait -= 60;
          break;
        }
      }
      if (available === 0) wait += 60;
      this.nextWait[cls] = Math.min(wait, MAX_WAIT);
      this.nextCrawl[cls] = now + this.nextWait[cls] + MIN_RETRY;
    }
  }

  /**
   * The items of the given classes in the order memcached's metadump prints them: its
   * crawler takes one item per LRU in turn (HOT of every class, then WARM, COLD, TEMP), each
   * from its tail (oldest) towards its head. Taken in one go (4 bytes per item, a pointer
   * walk), so the dump is a consistent order; the items may go before they are printed, which
   * `isLive` tells. Every item counts towards crawler_items_checked, as in memcached.
   */
  dump(classes: Uint8Array): Int32Array {
    const e = this.engine;
    const i32 = e.arena.i32;
    const cursors = new Int32Array(MAX_CLASSES * SEGMENTS);
    let total = 0;
    let left = 0;
    for (let seg = 0; seg < SEGMENTS; seg++) {
      for (let cls = 1; cls < MAX_CLASSES && cls <= e.classes.largest; cls++) {
        if (classes[cls] === 0) continue;
        const h = e.tail(cls, seg);
        cursors[seg * MAX_CLASSES + cls] = h;
        total += e.lruCount[cls * SEGMENTS + seg];
        if (h !== 0) left++;
      }
    }
    const order = new Int32Array(total);
    let n = 0;
    while (left > 0) {
      for (let l = 0; l < cursors.length; l++) {
        const h = cursors[l];
        if (h === 0) continue;
        const prev = i32[h * 2 + H.prev];
        cursors[l] = prev;
        if (prev === 0) left--;
        e.classStats.add(l % MAX_CLASSES, C.crawler_items_checked);
        order[n++] = h;
      }
    }
    return order;
  }

  /**
   * Whether a handle from `dump` still holds a live item: a chunk start in its page's current
   * class (automove may have given the page to another one), linked, neither expired nor flushed.
   */
  isLive(h: number, now: number): boolean {
    const e = this.engine;
    if (!e.isChunkStart(h)) return false;
    if ((e.arena.u8[h * 8 + H.state] & STATE_LINKED) === 0) return false;
    return !this.cache.isReclaimable(h, now);
  }
}
