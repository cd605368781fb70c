import { type Arena, H, type PageFiller } from "./arena.ts";

/** memcached's starting hash power: 64k buckets. */
const INITIAL_POWER = 16;
/** Buckets moved to the larger table per insert while it grows, as memcached's assoc does in the background. */
const MIGRATE_PER_INSERT = 4;

/**
 * The key -> item index: chained buckets in a shared Int32Array, chains threaded through the
 * items' own `hnext` fields (no memory per entry beyond the item). It doubles when items reach
 * 1.5x the buckets, moving buckets a few at a time (per insert and per maintenance tick) so a
 * resize never pauses the event loop.
 */
export class HashIndex {
  private readonly arena: Arena;
  private table: Int32Array;
  private mask: number;
  /** While growing: the new table, and how many old buckets were already moved into it. */
  private next: Int32Array | null = null;
  private nextMask = 0;
  private migrated = 0;
  private items = 0;
  /** Faults a new table in off the event loop before any bucket moves into it (null: none). */
  private filler: PageFiller | null = null;
  /** The new table is being faulted in: nothing moves into it, and nothing reads it, yet. */
  private filling = false;

  private readonly expand: boolean;

  /**
   * `power`: log2 of the starting bucket count (memcached's -o hashpower; 0 = its default, 16).
   * `expand` false (-o no_hashexpand) keeps that size: chains just grow longer.
   */
  constructor(arena: Arena, power = 0, expand = true) {
    this.arena = arena;
    this.expand = expand;
    const p = power === 0 ? INITIAL_POWER : power;
    this.table = newTable(2 ** p);
    this.mask = 2 ** p - 1;
  }

  get power(): number {
    return Math.log2((this.next ?? this.table).length);
  }

  get bytes(): number {
    return this.table.byteLength + (this.next?.byteLength ?? 0);
  }

  get expanding(): boolean {
    return this.next !== null;
  }

  /** The table and slot holding the chain for `hash`. */
  private locate(hash: number): { table: Int32Array; slot: number } {
    const b = hash & this.mask;
    if (this.next !== null && b < this.migrated) {
      this.loc.table = this.next;
      this.loc.slot = hash & this.nextMask;
    } else {
      this.loc.table = this.table;
      this.loc.slot = b;
    }
    return this.loc;
  }
  private readonly loc: { table: Int32Array; slot: number } = { table: new Int32Array(0), slot: 0 };

  /** The first item of the chain `hash` falls in (0: none). */
  head(hash: number): number {
    const { table, slot } = this.locate(hash);
    return table[slot];
  }

  find(key: Uint8Array, start: number, end: number, hash: number): number {
    const { table, slot } = this.locate(hash);
    const a = this.arena;
    const i32 = a.i32;
    const u8 = a.u8;
    const len = end - start;
    for (let h = table[slot]; h !== 0; h = i32[h * 2 + H.hnext]) {
      if (i32[h * 2 + H.hash] !== hash || u8[h * 8 + H.keyLength] !== len) continue;
      const at = h * 8 + H.key;
      let i = 0;
      while (i < len && u8[at + i] === key[start + i]) i++;
      if (i === len) return h;
    }
    return 0;
  }

  insert(h: number): void {
    const hash = this.arena.i32[h * 2 + H.hash];
    const { table, slot } = this.locate(hash);
    this.arena.i32[h * 2 + H.hnext] = table[slot];
    table[slot] = h;
    this.items++;
    if (this.next !== null) this.migrate(MIGRATE_PER_INSERT);
    else if (this.expand && this.items > this.table.length * 1.5 && this.table.length < 1 << 30) this.startGrowing();
  }

  remove(h: number): void {
    const i32 = this.arena.i32;
    const { table, slot } = this.locate(this.arena.i32[h * 2 + H.hash]);
    let cur = table[slot];
    if (cur === h) {
      table[slot] = i32[h * 2 + H.hnext];
    } else {
      while (cur !== 0) {
        const nx = i32[cur * 2 + H.hnext];
        if (nx === h) {
          i32[cur * 2 + H.hnext] = i32[h * 2 + H.hnext];
          break;
        }
        cur = nx;
      }
    }
    i32[h * 2 + H.hnext] = 0;
    this.items--;
  }

  /** Puts `to`, which has `from`'s key, in `from`'s place: a set replacing an item walks the chain once. */
  swap(from: number, to: number): void {
    const i32 = this.arena.i32;
    i32[to * 2 + H.hnext] = i32[from * 2 + H.hnext];
    this.replace(from, to);
    i32[from * 2 + H.hnext] = 0;
  }

  /** Puts `to` where `from` was in its chain; `to` holds a copy of `from`'s header. */
  replace(from: number, to: number): void {
    const i32 = this.arena.i32;
    const { table, slot } = this.locate(this.arena.i32[from * 2 + H.hash]);
    if (table[slot] === from) {
      table[slot] = to;
      return;
    }
    for (let cur = table[slot]; cur !== 0; cur = i32[cur * 2 + H.hnext]) {
      if (i32[cur * 2 + H.hnext] === from) {
        i32[cur * 2 + H.hnext] = to;
        return;
      }
    }
  }

  /**
   * Sizes an empty index for about `items` items at once, so a bulk load (recovery) neither
   * grows it step by step nor pays the moves; a no-op once anything is in it.
   */
  presize(items: number): void {
    if (this.items !== 0 || this.next !== null) return;
    let size = this.table.length;
    while (size * 1.5 < items && size < 1 << 30) size *= 2;
    if (size === this.table.length) return;
    this.table = newTable(size);
    this.mask = size - 1;
  }

  /**
   * From now on a new table is faulted in by `filler` before the index grows into it. Its first
   * touches would otherwise fault on the event loop as buckets move in: ~0.65 ms per MiB in
   * 4 KiB pages, and where the kernel backs it with huge pages, 2 MiB zeroed (or compacted for)
   * at once: measured as 12-14 ms ticks when the table grew to 2^21 buckets on calloc'ed huge
   * pages. Until the fill is done the old table alone serves, its chains a little longer meanwhile.
   */
  faultAheadWith(filler: PageFiller): void {
    this.filler = filler;
  }

  private startGrowing(): void {
    const size = this.table.length * 2;
    const next = newTable(size);
    this.next = next;
    this.nextMask = size - 1;
    this.migrated = 0;
    const filler = this.filler;
    if (filler === null) return;
    this.filling = true;
    filler(new Uint8Array(next.buffer), 0, next.byteLength, () => {
      this.filling = false;
    });
  }

  /** Moves up to `buckets` old buckets into the new table; a no-op unless growing. */
  migrate(buckets: number): void {
    const next = this.next;
    if (next === null || this.filling) return;
    const a = this.arena;
    const i32 = a.i32;
    const old = this.table;
    const stop = Math.min(old.length, this.migrated + buckets);
    for (let b = this.migrated; b < stop; b++) {
      let h = old[b];
      while (h !== 0) {
        const nx = i32[h * 2 + H.hnext];
        const slot = a.i32[h * 2 + H.hash] & this.nextMask;
        i32[h * 2 + H.hnext] = next[slot];
        next[slot] = h;
        h = nx;
      }
      old[b] = 0;
    }
    this.migrated = stop;
    if (stop === old.length) {
      this.table = next;
      this.mask = this.nextMask;
      this.next = null;
    }
  }
}

/**
 * glibc's ceiling for its mmap threshold (mallopt(3): DEFAULT_MMAP_THRESHOLD_MAX on 64-bit);
 * it raises the threshold up to this as large blocks are freed.
 */
const ALWAYS_MAPPED_BYTES = 32 * 1024 * 1024;

/**
 * A zeroed table of `size` buckets in shared memory, its buffer at least ALWAYS_MAPPED_BYTES so
 * that glibc maps it fresh: pages the kernel zeroes on first touch (here by the filler), on huge
 * pages (see huge-pages.ts). A smaller one may be carved from memory glibc must clear itself,
 * on the event loop: measured 4.5, 6.3 and 9.5 ms for tables of 1, 2 and 4 MiB under
 * bench:churn. Only the table's own pages are ever touched, so the rest costs address space,
 * not memory. (A growable SharedArrayBuffer also comes zeroed, but on 4 KiB pages: +0.3-0.5 µs
 * of CPU per get with 2M keys, from TLB misses.)
 */
function newTable(size: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(4 * size, ALWAYS_MAPPED_BYTES)), 0, size);
}
