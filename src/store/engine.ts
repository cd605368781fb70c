/**
 * The storage engine: where item bytes live, how keys are found, and which item goes when
 * memory runs out. It knows nothing of protocol semantics (CAS rules, expiry, flush); those
 * live once in `Cache`. Items are addressed by integer handles so that an implementation can
 * keep everything in typed arrays and shared memory with no JS object per item.
 *
 * A handle stays valid until its item is unlinked or discarded.
 */
export interface Engine {
  /** Handle of the linked item with this key, or -1. Does not check expiry. */
  find(key: Uint8Array, start: number, end: number): number;
  /**
   * Starts, all at once, the memory reads that `find` will make for each key
   * `key[starts[i]..ends[i])`, i in [from, to): a lookup is mostly waiting for memory, and
   * lookups made one after another wait one after another. Changes nothing.
   */
  prefetch(key: Uint8Array, starts: Int32Array, ends: Int32Array, from: number, to: number): void;
  /** Handle of the linked item with the key of allocated item `h` (found without hashing it again), or -1. */
  findKeyOf(h: number): number;
  /**
   * An unlinked item holding a copy of the key and room for `valueLength` bytes, or
   * `ALLOC_TOO_LARGE` / `ALLOC_NO_MEMORY` / `ALLOC_NO_MEMORY_DATA`. May evict (calling `isDead` first to prefer
   * reclaiming expired items) unless eviction is disabled.
   */
  alloc(key: Uint8Array, start: number, end: number, flags: number, valueLength: number): number;
  /**
   * Inserts an allocated item, replacing (and freeing) a linked item with the same key; sets
   * its access time to `now`. A caller that just looked the key up passes what it found as
   * `old` (-1: none linked), which spares a second lookup.
   */
  link(h: number, now: number, old?: number): void;
  /**
   * Keeps a linked item from being evicted or moved by the allocations that follow, until
   * `unpin()`: append, prepend and incr read the old item while allocating the new one (what
   * memcached's reference count guarantees). One item at a time.
   */
  pin(h: number): void;
  unpin(): void;
  isLinked(h: number): boolean;
  /**
   * `part`, a view of item memory lent to a reply, is being read by a write in flight: the
   * chunk holding it is not reused, rewritten in place or moved until as many `unhold`s.
   * False (and nothing held) when `part` is not item memory.
   */
  hold(part: Uint8Array): boolean;
  unhold(part: Uint8Array): void;
  /** Whether a write in flight reads item `h` (see `hold`): its value must not change in place. */
  isHeld(h: number): boolean;
  /**
   * Called before a value is rewritten in place (incr): a running snapshot saves the old
   * state first, and replies lent the value copy it. Unlink and the attribute setters do
   * this themselves.
   */
  preserve(h: number): void;
  /** Removes a linked item from the index and LRU and frees its memory. */
  unlink(h: number): void;
  /** Frees an allocated item that was never linked. */
  discard(h: number): void;
  /**
   * A fetch hit (memcached's `do_item_bump`): the first sets `fetched`, later ones set `active`
   * and refresh the access time, so one-hit items never look hot. `getHit`: a plain get's hit,
   * which memcached counts per LRU segment (hits_to_hot/warm/cold/temp).
   */
  bump(h: number, now: number, getHit: boolean): void;
  /** Counts a get hit per LRU segment without bumping (meta's `mg ... u`). */
  countHit(h: number): void;
  /** A write-like access (memcached's `do_item_update`): refreshes the access time. */
  update(h: number, now: number): void;

  /**
   * Where an unchunked item's value lies: `valueBuffer(h)[valueStart(h)..+valueLength(h))`.
   * Items larger than a slab chunk are chunked (`chunked(h)`); use readValue/writeValue,
   * which work for every item.
   */
  valueBuffer(h: number): Uint8Array;
  valueStart(h: number): number;
  valueLength(h: number): number;
  chunked(h: number): boolean;
  /** Copies src[start..end) into the value at `offset`. */
  writeValue(h: number, offset: number, src: Uint8Array, start: number, end: number): void;
  /** Hands the value to `sink` in one or more contiguous pieces, in order. */
  readValue(h: number, sink: ByteSink): void;
  /** Copies the whole value of `from` into the value of `to` at `offset`. */
  copyValue(from: number, to: number, offset: number): void;
  keyBuffer(h: number): Uint8Array;
  keyStart(h: number): number;
  keyLength(h: number): number;

  flags(h: number): number;
  /** Absolute unix seconds; 0 = never. */
  exptime(h: number): number;
  setExptime(h: number, exptime: number): void;
  /** Last access, absolute unix seconds. */
  time(h: number): number;
  setTime(h: number, time: number): void;
  cas(h: number): number;
  setCas(h: number, cas: number): void;
  /** Item state bits, see `ItemBits`. */
  bits(h: number): number;
  setBits(h: number, bits: number): void;
  /** Slab class id of the item (memcached's `cls`). */
  slabClass(h: number): number;
  /** Bytes the item is charged for, as memcached's `bytes` stat counts them. */
  totalSize(h: number): number;

  /** Background upkeep (LRU maintenance, index growth, expiry); bounded work per call. */
  maintain(now: number): void;
  /** Calls `fn` for every linked item; `fn` must not link or unlink. */
  forEach(fn: (h: number) => void): void;
  /** Number of linked items. */
  count(): number;
  /** Bytes charged for linked items. */
  bytes(): number;
  readonly limitBytes: number;
  setLimitBytes(bytes: number): void;
  /** Counters the engine owns (evictions, reclaimed, ...), for `stats`. */
  readonly stats: EngineStats;
}

export interface EngineStats {
  evictions: number;
  reclaimed: number;
  expiredUnfetched: number;
  evictedUnfetched: number;
  evictedActive: number;
  totalItems: number;
  movesToCold: number;
  movesToWarm: number;
  /** Active items rescued to the head of their own segment (memcached's moves_within_lru). */
  movesWithinLru: number;
  /** Allocation attempts that had to make room first (memcached's direct_reclaims). */
  directReclaims: number;
  /** Pages moved from one class to another or to the free pool (memcached's slabs_moved). */
  slabsMoved: number;
  /** Items and data chunks page moves copied elsewhere, and items they dropped for want of room (memcached's slab_reassign_*). */
  slabReassignRescues: number;
  slabReassignChunkRescues: number;
  slabReassignEvictionsNomem: number;
  /** Maintenance passes that juggled the LRUs (memcached's lru_maintainer_juggles). */
  lruMaintainerJuggles: number;
  /** Hits on COLD items that found the bump queue full (memcached's lru_bumps_dropped). */
  lruBumpsDropped: number;
}

/** Receives bytes; OutBuffer is one. */
export interface ByteSink {
  bytes(src: Uint8Array, start: number, end: number): void;
}

export const ALLOC_TOO_LARGE = -2;
export const ALLOC_NO_MEMORY = -3;
/**
 * A chunked item got its header but not all its data chunks. memcached takes those while the
 * value is read, so there the failure is "Out of memory during read": the value is swallowed,
 * the old one kept and nothing counted as a failed store.
 */
export const ALLOC_NO_MEMORY_DATA = -4;

/** Item state bits, as memcached's it_flags. */
export const ItemBits = {
  fetched: 1,
  stale: 2,
  tokenSent: 4,
  active: 8,
  /** Bookkeeping of the running snapshot (see SlabEngine.beginSnapshot), not item state. */
  snapshot: 32,
} as const;

/** Decides whether an item is already dead (expired or flushed); the engine reclaims such items first. */
export type DeadCheck = (h: number) => boolean;
