import { PAGE_SIZE } from "./slab-classes.ts";

/**
 * Item header layout inside a chunk. Handles are chunk byte offsets divided by 8 (every
 * chunk size is a multiple of 8), so a handle indexes the Float64 view directly, doubles to
 * the Int32 view, and fits in an Int32 for arenas up to 16 GiB. Handle 0 is never an item
 * (page 0 is never handed out), so 0 means "none" in every link field and an all-zero hash
 * bucket array is an empty one.
 */
export const H = {
  /** LRU (or free list) links, as handles. */
  prev: 0,
  next: 1,
  /** Next item in the same hash bucket. */
  hnext: 2,
  hash: 3,
  exptime: 4,
  time: 5,
  flags: 6,
  valueLength: 7,
  /** Float64 slot (in 8-byte units from the chunk start). */
  cas: 4,
  /** Byte offsets of the small fields. */
  keyLength: 40,
  bits: 41,
  /** Slab class whose LRU the item is on. */
  lruClass: 42,
  /** Low 2 bits: LRU segment; then `STATE_*` bits. */
  state: 43,
  /** Key bytes start here; the value follows the key. */
  key: 44,
} as const;
export const HEADER_BYTES = H.key;

export const Seg = { hot: 0, warm: 1, cold: 2, temp: 3 } as const;
export const SEG_MASK = 3;
/** The item is in the hash index and an LRU list. */
export const STATE_LINKED = 4;
/**
 * The value is chunked (items larger than slab_chunk_max): after the key, 4-aligned, comes a
 * table of the handles of data chunks from the largest class, each holding up to
 * chunk size - HEADER_BYTES bytes of the value at offset HEADER_BYTES.
 */
export const STATE_CHUNKED = 8;
/** The chunk is on its class's free list. */
export const STATE_FREE = 16;
/** The chunk holds part of a chunked value; its `prev` field names the owning item. */
export const STATE_DATA = 32;
/** The chunk is in a page being emptied for another class and will not be handed out again. */
export const STATE_DRAINED = 64;

/** Largest arena a 31-bit handle of 8-byte units can address. */
export const MAX_ARENA_BYTES = 2 ** 34;

/** Pages kept faulted in ahead of the next never-used one: one huge page. */
const FAULT_AHEAD_PAGES = 2;

/**
 * Writes zeros into `memory[offset..offset+length)` off the event loop, then calls `done` on it
 * (see Arena.faultAheadWith).
 */
export type PageFiller = (memory: Uint8Array, offset: number, length: number, done: () => void) => void;

/**
 * One SharedArrayBuffer holding every item's header, key and small value, carved into 1 MiB
 * pages that are handed to size classes. Shared memory so worker threads can later read the
 * same store; reserved once at start-up, committed by the OS only as pages are touched.
 */
export class Arena {
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  /** Pages in the arena, including the reserved page 0. */
  readonly pageCount: number;
  /** Class owning each page (0 = unassigned). */
  readonly pageClass: Uint8Array;
  /** Pages released by their class (automove), ready for another one. */
  private readonly freePages: number[] = [];
  /** Next never-used page. */
  private fresh = 1;
  /**
   * Pages [aheadStart, aheadEnd) are being faulted in by `filler` on another thread; none is
   * handed out until that is done. Pages below `faulted` were faulted ahead already.
   */
  private aheadStart = 0;
  private aheadEnd = 0;
  private faulted = 0;
  private filler: PageFiller | null = null;
  /** Pages the filler faulted in before anyone used them. */
  pagesFaultedAhead = 0;

  constructor(pages: number) {
    this.pageCount = pages + 1;
    const bytes = this.pageCount * PAGE_SIZE;
    if (bytes > MAX_ARENA_BYTES) throw new RangeError(`item memory above ${MAX_ARENA_BYTES / PAGE_SIZE - 1} MB is not supported`);
    this.buffer = new SharedArrayBuffer(bytes);
    this.u8 = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.pageClass = new Uint8Array(this.pageCount);
  }

  /** A page for class `cls`, or 0 if the arena has none left. */
  takePage(cls: number): number {
    let p = this.freePages.pop();
    if (p === undefined) {
      // Pages still being filled are skipped; they join the free pages once filled.
      if (this.fresh >= this.aheadStart && this.fresh < this.aheadEnd) this.fresh = this.aheadEnd;
      if (this.fresh >= this.pageCount) return 0;
      p = this.fresh++;
      this.faultAhead();
    }
    this.pageClass[p] = cls;
    return p;
  }

  /**
   * From now on the next FAULT_AHEAD_PAGES never-used pages are faulted in by `filler` (zeros
   * written by another thread) before they are handed out. A page's first touch costs a page
   * fault that zeroes it, and on huge pages one fault zeroes 2 MiB: measured 6 ms on a VM, an
   * event-loop stall each time the cache grows into new memory. The filler writes only zeros
   * into pages nobody was given, and takePage never gives out a page it is still filling.
   */
  faultAheadWith(filler: PageFiller): void {
    this.filler = filler;
    this.faultAhead();
  }

  private faultAhead(): void {
    const filler = this.filler;
    if (filler === null || this.aheadEnd > this.aheadStart) return;
    const start = Math.max(this.fresh, this.faulted);
    const end = Math.min(this.pageCount, this.fresh + FAULT_AHEAD_PAGES);
    if (start >= end) return;
    this.aheadStart = start;
    this.aheadEnd = end;
    filler(this.u8, start * PAGE_SIZE, (end - start) * PAGE_SIZE, () => {
      this.aheadStart = this.aheadEnd = 0;
      this.faulted = end;
      this.pagesFaultedAhead += end - start;
      // The cursor jumped over them meanwhile: they are fresh pages, free for any class.
      if (this.fresh > start) for (let p = end - 1; p >= start; p--) this.freePages.push(p);
      this.faultAhead();
    });
  }

  releasePage(page: number): void {
    this.pageClass[page] = 0;
    this.freePages.push(page);
  }

  static pageOf(h: number): number {
    return Math.floor((h * 8) / PAGE_SIZE);
  }

  static firstHandle(page: number): number {
    return (page * PAGE_SIZE) / 8;
  }
}
