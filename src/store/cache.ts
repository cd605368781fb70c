import type { Counters } from "../stats/counters.ts";
import type { Clock } from "./clock.ts";
import { ALLOC_NO_MEMORY_DATA, ALLOC_TOO_LARGE, type Engine, ItemBits } from "./engine.ts";
import { SlabEngine } from "./slab-engine.ts";

/** How a store treats an existing item (memcached's NREAD_* commands; meta's ms modes). */
export const StoreMode = {
  set: 0,
  add: 1,
  replace: 2,
  append: 3,
  prepend: 4,
  cas: 5,
} as const;
export type StoreMode = (typeof StoreMode)[keyof typeof StoreMode];

/** Why `commitStore` did not store: negative, so any result from zero up is the new CAS (0 under -C). */
export const StoreResult = {
  exists: -1,
  notFound: -2,
  notStored: -3,
} as const;
export type StoreResult = (typeof StoreResult)[keyof typeof StoreResult];
/** `commitStore`'s result: the stored item's new CAS (>= 0; 0 under -C), or why it was not stored (< 0). */
export type StoreOutcome = number;

export const ArithResult = {
  ok: 0,
  notFound: 1,
  nonNumeric: 2,
  noMemory: 3,
  casMismatch: 4,
  /** A miss that created the item from the caller's `ArithSeed`. */
  created: 5,
  /** A miss with a seed, and no memory for the item to create. */
  noMemoryToCreate: 6,
} as const;
export type ArithResult = (typeof ArithResult)[keyof typeof ArithResult];

/** What `arith` creates on a miss (binary incr's initial value, meta's N flag). */
export interface ArithSeed {
  readonly initial: bigint;
  /** Absolute exptime of the created item (0 = never). */
  readonly exptime: number;
}

/**
 * What `arith` did. On `ok` and `created`: the new value, the item's CAS and its handle (valid
 * until the caller's next call into the cache). `inPlace` is false when the value moved to a
 * new, longer item: memcached then hands meta's ma the old, unlinked item, so a `T` in the
 * same command changes nothing.
 */
export interface ArithOutcome {
  readonly code: ArithResult;
  readonly value: bigint;
  readonly cas: number;
  readonly handle: number;
  readonly inPlace: boolean;
}

function failed(code: ArithResult): ArithOutcome {
  return Object.freeze({ code, value: 0n, cas: 0, handle: -1, inPlace: false });
}
const ARITH_NOT_FOUND = failed(ArithResult.notFound);
const ARITH_NON_NUMERIC = failed(ArithResult.nonNumeric);
const ARITH_NO_MEMORY = failed(ArithResult.noMemory);
const ARITH_CAS_MISMATCH = failed(ArithResult.casMismatch);
const ARITH_NO_MEMORY_TO_CREATE = failed(ArithResult.noMemoryToCreate);

export const DeleteResult = {
  deleted: 0,
  notFound: 1,
  exists: 2,
} as const;
export type DeleteResult = (typeof DeleteResult)[keyof typeof DeleteResult];

/**
 * Item bit (beyond the engine's `ItemBits`) for a key that was stored through meta's `b`
 * flag, as memcached's ITEM_KEY_BINARY: meta replies then show the key base64-encoded.
 */
export const KEY_BINARY_BIT = 16;

/** The item bits replies show (stale, win token sent, base64 key): persistence keeps them. */
export const PERSISTED_BITS = ItemBits.stale | ItemBits.tokenSent | KEY_BINARY_BIT;

/**
 * Receives every change a client can observe, in the order they happen: the persistence log
 * is one. Evictions and background expiry are not changes a client made, and are not sent.
 */
export interface MutationLog {
  /** Item `h` was linked or its value changed in place: its whole state is news. */
  stored(h: number): void;
  /** Linked item `h` has a new exptime, CAS or bits; its value is unchanged. */
  touched(h: number): void;
  /** Linked item `h` is about to be removed by a client. */
  deleted(h: number): void;
  /** flush_all set memcached's flush state. */
  flushed(oldestLive: number, oldestCas: number): void;
}

/** The flags meta's mg appends after its requested ones: Z, X and W (see `Cache.winTokens`). */
export const WinToken = {
  alreadySent: 1,
  stale: 2,
  won: 4,
} as const;
/** Per-class command counters memcached prints in `stats slabs`, in its order. */
export const SLAB_COUNTERS = ["get_hits", "cmd_set", "delete_hits", "incr_hits", "decr_hits", "cas_hits", "cas_badval", "touch_hits"] as const;
const S = { getHits: 0, cmdSet: 1, deleteHits: 2, incrHits: 3, decrHits: 4, casHits: 5, casBadval: 6, touchHits: 7 } as const;
const MAX_CLASSES = 64;

/** Exptimes up to this many seconds are relative to now; larger ones are unix times. */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;
/** An absolute time already in the past: what memcached stores for negative exptimes. */
const EXPIRED = 1;

const U64_MASK = 0xffff_ffff_ffff_ffffn;

/**
 * memcached's semantics, once, for every protocol: CAS, expiry, flush, append/prepend,
 * incr/decr and touch, over an `Engine` that only stores bytes. Handles returned here are
 * valid until the caller's next call into the cache.
 */
export class Cache {
  readonly engine: Engine;
  readonly clock: Clock;
  readonly counters: Counters;
  private casId = 0;
  /** flush_all state, as memcached's settings.oldest_live / oldest_cas. */
  private oldestLive = 0;
  private oldestCas = 0;
  /** `stats sizes` counts items with at least this CAS; -1 while sizes tracking is off. */
  sizesCasMin = -1;
  /** Where every client-visible change is sent (persistence), or null. */
  journal: MutationLog | null = null;
  /** `SLAB_COUNTERS` per slab class: row `cls`, column `S.*`. */
  readonly slabCounters = new Float64Array(MAX_CLASSES * SLAB_COUNTERS.length);

  /** memcached's use_cas (-C turns it off): items then carry CAS 0 and no id is handed out. */
  readonly useCas: boolean;

  constructor(engine: Engine, clock: Clock, counters: Counters, useCas = true) {
    this.useCas = useCas;
    this.engine = engine;
    this.clock = clock;
    this.counters = counters;
  }

  now(): number {
    return this.clock.now();
  }

  /** `stats reset`: zeroes the global counters and every counter the engine keeps. */
  resetStats(): void {
    this.counters.reset();
    const es = this.engine.stats;
    for (const k of Object.keys(es) as (keyof typeof es)[]) es[k] = 0;
    this.slabCounters.fill(0);
    if (this.engine instanceof SlabEngine) this.engine.classStats.reset();
  }

  /**
   * `stats sizes_enable|disable`. Enabling takes a CAS id, as memcached's does, so items
   * stored from now on (and only those) are counted.
   */
  trackSizes(on: boolean): void {
    if (!on) this.sizesCasMin = -1;
    else if (this.sizesCasMin < 0) this.sizesCasMin = this.nextCas();
  }

  /** Counts a command on the class of item `h`, as memcached's per-thread slab_stats. */
  private countClass(h: number, counter: number): void {
    this.slabCounters[this.engine.slabClass(h) * SLAB_COUNTERS.length + counter]++;
  }

  nextCas(): number {
    return ++this.casId;
  }

  /** The CAS a changed item gets: a new id, or 0 under -C (memcached's ITEM_set_cas on an item without ITEM_CAS). */
  private itemCas(): number {
    return this.useCas ? this.nextCas() : 0;
  }

  /** memcached's realtime(): a protocol exptime as an absolute unix time (0 = never). */
  absoluteExptime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return EXPIRED;
    if (exptime > REALTIME_MAXDELTA) return exptime <= this.now() ? EXPIRED : exptime;
    return this.now() + exptime;
  }

  isFlushed(h: number, now: number): boolean {
    return this.flushes(this.engine.time(h), this.engine.cas(h), now);
  }

  /** Whether flush_all invalidates an item last accessed at `time` with this CAS. */
  private flushes(time: number, cas: number, now: number): boolean {
    const oldest = this.oldestLive;
    if (oldest === 0 || oldest > now) return false;
    if (time <= oldest) return true;
    return this.oldestCas !== 0 && cas !== 0 && cas < this.oldestCas;
  }

  isExpired(h: number, now: number): boolean {
    const exp = this.engine.exptime(h);
    return exp !== 0 && exp <= now;
  }

  /**
   * memcached's test for reclaiming an item nobody asked for (LRU tail, crawler, metadump):
   * flushed, or expired strictly before now. A fetch already misses when exptime == now; the
   * background waits one second more, as memcached's does, so `stats` right after a `touch k 1`
   * still counts the item in both servers.
   */
  isReclaimable(h: number, now: number): boolean {
    const exp = this.engine.exptime(h);
    return (exp !== 0 && exp < now) || this.isFlushed(h, now);
  }

  /** `isReclaimable` now; engines call it to reclaim before evicting. */
  readonly isDead = (h: number): boolean => this.isReclaimable(h, this.now());

  /**
   * memcached's do_item_get: the live item for a key or -1. Dead items found on the way are
   * unlinked and counted. `bump` records a fetch for the LRU; `getHit` marks it a plain get.
   */
  lookup(key: Uint8Array, start: number, end: number, bump: boolean, getHit = false): number {
    return this.live(this.engine.find(key, start, end), bump, getHit);
  }

  /** `lookup`'s checks on what the index found for a key (-1: nothing). */
  private live(h: number, bump: boolean, getHit: boolean): number {
    if (h < 0) return -1;
    const e = this.engine;
    const now = this.now();
    if (this.isFlushed(h, now)) {
      e.unlink(h);
      this.counters.getFlushed++;
      return -1;
    }
    if (this.isExpired(h, now)) {
      e.unlink(h);
      this.counters.getExpired++;
      return -1;
    }
    if (bump) e.bump(h, now, getHit);
    return h;
  }

  /** A classic get/gat: counts the stats memcached counts and applies the touch. */
  get(key: Uint8Array, start: number, end: number, touch: boolean, exptime: number): number {
    const c = this.counters;
    const h = this.lookup(key, start, end, true, !touch);
    // memcached 1.6 counts gat/gats in cmd_touch only, never in cmd_get.
    if (touch) {
      c.cmdTouch++;
      if (h < 0) c.touchMisses++;
      else {
        c.touchHits++;
        this.countClass(h, S.touchHits);
        this.engine.setExptime(h, exptime);
        this.journal?.touched(h);
      }
    } else {
      c.cmdGet++;
      if (h < 0) c.getMisses++;
      else {
        c.getHits++;
        this.countClass(h, S.getHits);
      }
    }
    return h;
  }

  /** touch: sets a new absolute exptime on a live item. */
  touch(key: Uint8Array, start: number, end: number, exptime: number): boolean {
    const h = this.lookup(key, start, end, true);
    const c = this.counters;
    c.cmdTouch++;
    if (h < 0) {
      c.touchMisses++;
      return false;
    }
    c.touchHits++;
    this.countClass(h, S.touchHits);
    this.engine.setExptime(h, exptime);
    this.journal?.touched(h);
    return true;
  }

  /**
   * Allocates the item a store command's data is read into, before the data arrives (as
   * memcached does, so values are never buffered twice). Returns a handle, or
   * `ALLOC_TOO_LARGE` / `ALLOC_NO_MEMORY`, in which case a `set` drops the old value as
   * memcached does, so a failed set never leaves stale data readable. Meta's ms drops the
   * old value whatever its mode (`dropOld`), as memcached's mset does. `ALLOC_NO_MEMORY_DATA`
   * keeps it and counts nothing: memcached fails that way only after the command was accepted.
   */
  beginStore(
    mode: StoreMode,
    key: Uint8Array,
    start: number,
    end: number,
    flags: number,
    exptime: number,
    valueLength: number,
    dropOld: boolean = mode === StoreMode.set,
  ): number {
    const e = this.engine;
    const h = e.alloc(key, start, end, flags, valueLength);
    if (h === ALLOC_NO_MEMORY_DATA) return h;
    if (h < 0) {
      if (h === ALLOC_TOO_LARGE) this.counters.storeTooLarge++;
      else this.counters.storeNoMemory++;
      if (dropOld) {
        const old = this.lookup(key, start, end, false);
        if (old >= 0) this.remove(old);
      }
      return h;
    }
    e.setExptime(h, exptime);
    return h;
  }

  /** Marks an item from `beginStore` as stored under a base64-given key (meta's `b`). */
  markKeyBinary(h: number): void {
    this.engine.setBits(h, this.engine.bits(h) | KEY_BINARY_BIT);
  }

  /** Drops an item from `beginStore` whose data turned out to be malformed. */
  abortStore(h: number): void {
    this.engine.discard(h);
  }

  /** A store whose data block was malformed: memcached still counts it as a set, on its class. */
  rejectStore(h: number): void {
    this.counters.cmdSet++;
    this.countClass(h, S.cmdSet);
    this.engine.discard(h);
  }

  /**
   * memcached's do_store_item: links the item from `beginStore` according to `mode`.
   * `casIn` 0 means no CAS given. With `invalidate` (meta's I flag) a CAS older than the
   * item's stores the value but marks it stale. Returns the new CAS, or why nothing was stored.
   */
  commitStore(h: number, mode: StoreMode, casIn: number, invalidate: boolean): StoreOutcome {
    const e = this.engine;
    const c = this.counters;
    c.cmdSet++;
    this.countClass(h, S.cmdSet);
    const old = this.live(e.findKeyOf(h), false, false);
    const now = this.now();
    if (old < 0) {
      if (mode === StoreMode.cas) {
        c.casMisses++;
        e.discard(h);
        return StoreResult.notFound;
      }
      if (mode === StoreMode.replace || mode === StoreMode.append || mode === StoreMode.prepend) {
        e.discard(h);
        return StoreResult.notStored;
      }
      return this.linkNew(h, now, -1);
    }
    const oldCas = e.cas(old);
    // Under -C the new item has no CAS field to hold casIn, so memcached compares nothing
    // (CAS_NONE): `cas` answers EXISTS for any value, other modes store.
    if (!this.useCas) casIn = 0;
    const casMatch = casIn === 0 ? 0 : casIn === oldCas ? 1 : invalidate && casIn < oldCas ? 2 : 3;
    switch (mode) {
      case StoreMode.add:
        e.update(old, now);
        e.discard(h);
        return StoreResult.notStored;
      case StoreMode.cas:
        if (casMatch === 1) {
          c.casHits++;
          this.countClass(old, S.casHits);
        } else if (casMatch === 2) {
          c.casHits++;
          this.countClass(old, S.casHits);
          e.setExptime(h, e.exptime(old));
          e.setBits(h, e.bits(h) | ItemBits.stale | (e.bits(old) & ItemBits.tokenSent));
        } else {
          c.casBadval++;
          this.countClass(old, S.casBadval);
          e.discard(h);
          return StoreResult.exists;
        }
        return this.linkNew(h, now, old);
      case StoreMode.append:
      case StoreMode.prepend: {
        if (casMatch !== 0 && casMatch !== 1) {
          e.discard(h);
          return StoreResult.exists;
        }
        const joined = this.join(old, h, mode === StoreMode.append);
        e.discard(h);
        if (joined < 0) return StoreResult.notStored;
        return this.linkNew(joined, now, old);
      }
      default:
        return this.linkNew(h, now, old);
    }
  }

  /**
   * Links `h` with a new CAS, which it returns; `old` is the live item it replaces, -1 if none,
   * undefined if not known (see Engine.link).
   */
  private linkNew(h: number, now: number, old?: number): number {
    const e = this.engine;
    e.setCas(h, this.itemCas());
    e.link(h, now, old);
    this.journal?.stored(h);
    return e.cas(h);
  }

  /** Unlinks a live item on a client's behalf. */
  private remove(h: number): void {
    this.journal?.deleted(h);
    this.engine.unlink(h);
  }

  /** A new item holding old+new (append) or new+old (prepend), with the old flags and exptime. */
  private join(old: number, add: number, append: boolean): number {
    const e = this.engine;
    const oldLen = e.valueLength(old);
    const addLen = e.valueLength(add);
    e.pin(old);
    const h = e.alloc(e.keyBuffer(old), e.keyStart(old), e.keyStart(old) + e.keyLength(old), e.flags(old), oldLen + addLen);
    if (h >= 0) {
      e.copyValue(append ? old : add, h, 0);
      e.copyValue(append ? add : old, h, append ? oldLen : addLen);
      e.setExptime(h, e.exptime(old));
    }
    e.unpin();
    return h < 0 ? -1 : h;
  }

  /**
   * delete: unlinks a live item; with `casIn` (binary DELETE's CAS, 0 = none) only the item
   * with that CAS. A CAS mismatch counts neither a hit nor a miss, as in memcached.
   */
  delete(key: Uint8Array, start: number, end: number, casIn = 0): DeleteResult {
    const h = this.lookup(key, start, end, false);
    if (h < 0) {
      this.counters.deleteMisses++;
      return DeleteResult.notFound;
    }
    if (casIn !== 0 && this.engine.cas(h) !== casIn) return DeleteResult.exists;
    this.counters.deleteHits++;
    this.countClass(h, S.deleteHits);
    this.remove(h);
    return DeleteResult.deleted;
  }

  /**
   * memcached's do_add_delta: incr wraps at 2^64, decr floors at 0. A result no longer than
   * the old value is written in place, padded with spaces, exactly as memcached does. On a
   * miss with a `seed` the item is created with the seed's value (flags 0) and the miss is
   * not counted, as memcached's binary incr and meta's ma do. memcached writes in place only
   * when no pending reply holds the item (its refcount); `held` says whether one does, and
   * the engine whether a write in flight still reads it.
   */
  arith(
    key: Uint8Array,
    start: number,
    end: number,
    incr: boolean,
    delta: bigint,
    casIn: number,
    seed: ArithSeed | null = null,
    held: ((h: number) => boolean) | null = null,
  ): ArithOutcome {
    const e = this.engine;
    const c = this.counters;
    const h = this.lookup(key, start, end, false);
    if (h < 0) {
      if (seed !== null) return this.createNumber(key, start, end, seed);
      if (incr) c.incrMisses++;
      else c.decrMisses++;
      return ARITH_NOT_FOUND;
    }
    const len = e.valueLength(h);
    // As memcached: empty and chunked values are never numbers.
    if (len === 0 || e.chunked(h)) return ARITH_NON_NUMERIC;
    if (casIn !== 0 && e.cas(h) !== casIn) return ARITH_CAS_MISMATCH;
    const current = parseStoredNumber(e.valueBuffer(h), e.valueStart(h), e.valueStart(h) + len);
    if (current < 0n) return ARITH_NON_NUMERIC;
    const value = incr ? (current + delta) & U64_MASK : delta > current ? 0n : current - delta;
    if (incr) c.incrHits++;
    else c.decrHits++;
    this.countClass(h, incr ? S.incrHits : S.decrHits);
    const digits = value.toString();
    const now = this.now();
    if (digits.length <= len && (held === null || !held(h)) && !e.isHeld(h)) {
      e.preserve(h);
      const buf = e.valueBuffer(h);
      const at = e.valueStart(h);
      buf.fill(0x20, at, at + len);
      for (let i = 0; i < digits.length; i++) buf[at + i] = digits.charCodeAt(i);
      e.setCas(h, this.itemCas());
      e.update(h, now);
      this.journal?.stored(h);
      return { code: ArithResult.ok, value, cas: e.cas(h), handle: h, inPlace: true };
    }
    e.pin(h);
    const n = e.alloc(e.keyBuffer(h), e.keyStart(h), e.keyStart(h) + e.keyLength(h), e.flags(h), digits.length);
    e.unpin();
    if (n < 0) return ARITH_NO_MEMORY;
    const buf = e.valueBuffer(n);
    const at = e.valueStart(n);
    for (let i = 0; i < digits.length; i++) buf[at + i] = digits.charCodeAt(i);
    e.setExptime(n, e.exptime(h));
    const cas = this.linkNew(n, now, h);
    return { code: ArithResult.ok, value, cas, handle: n, inPlace: false };
  }

  /** Sets an item's absolute exptime (meta's T and N flags). */
  touchItem(h: number, exptime: number): void {
    this.engine.setExptime(h, exptime);
    // ma's T on an item its incr replaced (memcached's quirk) changes nothing visible.
    if (this.engine.isLinked(h)) this.journal?.touched(h);
  }

  /**
   * Records a fetch of an item found with `lookup(..., false)`; `getHit` counts it per LRU
   * segment as memcached does for fetches that do not touch (see `Engine.bump`).
   */
  bump(h: number, getHit: boolean): void {
    this.engine.bump(h, this.now(), getHit);
  }

  /** A get hit that does not bump the LRU (mg's `u`), still counted per segment as memcached does. */
  countHit(h: number): void {
    this.engine.countHit(h);
  }

  /** The get/touch counters of one mg that found item `h` (-1: a miss), as memcached counts them. */
  countMetaGet(h: number, touched: boolean): void {
    const c = this.counters;
    if (h < 0) {
      c.cmdGet++;
      c.getMisses++;
    } else if (touched) {
      c.cmdTouch++;
      c.touchHits++;
      this.countClass(h, S.touchHits);
    } else {
      c.cmdGet++;
      c.getHits++;
      this.countClass(h, S.getHits);
    }
  }

  /**
   * mg's N flag on a miss: links an empty item with a fresh CAS and no exptime (the caller
   * sets it), or returns -1 when there is no memory for it.
   */
  vivify(key: Uint8Array, start: number, end: number): number {
    const h = this.engine.alloc(key, start, end, 0, 0);
    if (h < 0) return -1;
    this.engine.setExptime(h, 0);
    this.linkNew(h, this.now());
    return h;
  }

  /** mg's R flag: the item expires before `recacheTime` and no client has been told to recache it. */
  recacheWins(h: number, recacheTime: number): boolean {
    const e = this.engine;
    const exp = e.exptime(h);
    return (e.bits(h) & ItemBits.tokenSent) === 0 && exp !== 0 && exp < recacheTime;
  }

  /**
   * The recache tokens of an mg reply, as `WinToken` bits: Z when a client already won, X when
   * the item is stale, W when this client wins (`won` from N or R, or the first fetch of a
   * stale item). A win is remembered so every later fetch sees Z.
   */
  winTokens(h: number, won: boolean): number {
    const e = this.engine;
    const bits = e.bits(h);
    let tokens = 0;
    if ((bits & ItemBits.tokenSent) !== 0) tokens |= WinToken.alreadySent;
    if ((bits & ItemBits.stale) !== 0) {
      tokens |= WinToken.stale;
      if ((bits & ItemBits.tokenSent) === 0) won = true;
    }
    if (won) {
      tokens |= WinToken.won;
      e.setBits(h, bits | ItemBits.tokenSent);
      this.journal?.touched(h);
    }
    return tokens;
  }

  /**
   * Meta's md: deletes a live item, or with `stale` marks it stale under a new CAS (and the
   * new exptime when `newTtl`) so the next fetch wins the recache. With `hasCas` only an item
   * whose CAS equals `casIn` is touched.
   */
  metaDelete(
    key: Uint8Array,
    start: number,
    end: number,
    hasCas: boolean,
    casIn: number,
    stale: boolean,
    newTtl: boolean,
    exptime: number,
  ): DeleteResult {
    const e = this.engine;
    const c = this.counters;
    const h = this.lookup(key, start, end, false);
    if (h < 0) {
      c.deleteMisses++;
      return DeleteResult.notFound;
    }
    if (hasCas && e.cas(h) !== casIn) {
      c.deleteMisses++;
      return DeleteResult.exists;
    }
    if (stale) {
      if (newTtl) e.setExptime(h, exptime);
      e.setBits(h, (e.bits(h) | ItemBits.stale) & ~ItemBits.tokenSent);
      e.setCas(h, this.itemCas());
      this.journal?.touched(h);
      return DeleteResult.deleted;
    }
    c.deleteHits++;
    this.countClass(h, S.deleteHits);
    this.remove(h);
    return DeleteResult.deleted;
  }

  /** arith's miss with a seed: adds the item holding the seed's value, with no flags. */
  private createNumber(key: Uint8Array, start: number, end: number, seed: ArithSeed): ArithOutcome {
    const e = this.engine;
    const digits = seed.initial.toString();
    const h = e.alloc(key, start, end, 0, digits.length);
    if (h < 0) return ARITH_NO_MEMORY_TO_CREATE;
    const buf = e.valueBuffer(h);
    const at = e.valueStart(h);
    for (let i = 0; i < digits.length; i++) buf[at + i] = digits.charCodeAt(i);
    e.setExptime(h, seed.exptime);
    const cas = this.linkNew(h, this.now());
    return { code: ArithResult.created, value: seed.initial, cas, handle: h, inPlace: true };
  }

  /**
   * flush_all [delay]: items last accessed at or before the moment the delay ends become
   * invalid once it ends (memcached's oldest_live), and an immediate flush also catches every
   * item with an older CAS.
   */
  flushAll(delay: number): void {
    this.counters.cmdFlush++;
    const now = this.now();
    const newOldest = delay > 0 ? this.absoluteExptime(delay) : now;
    // Without CAS ids memcached cannot tell items stored this second before the flush from
    // those after it, so it flushes them all (oldest_live = now, not now - 1).
    this.oldestLive = this.useCas ? newOldest - 1 : newOldest;
    if (this.useCas && this.oldestLive <= now) this.oldestCas = this.nextCas();
    this.journal?.flushed(this.oldestLive, this.oldestCas);
  }

  // ---- recovery: states read back from disk, neither counted as traffic nor journaled ----

  /** The CAS counter and flush state, as a snapshot records them. */
  get casCounter(): number {
    return this.casId;
  }
  get flushState(): { oldestLive: number; oldestCas: number } {
    return { oldestLive: this.oldestLive, oldestCas: this.oldestCas };
  }

  /** No CAS id at or below `cas` is handed out again. */
  restoreCasCounter(cas: number): void {
    if (cas > this.casId) this.casId = cas;
  }

  /**
   * Puts back an item a record describes, replacing any item with its key. An item already
   * expired, or one that cannot be stored, leaves the key absent (the record superseded the
   * old value). Returns false when there was no room for it.
   */
  restoreItem(
    key: Uint8Array,
    start: number,
    end: number,
    flags: number,
    exptime: number,
    time: number,
    cas: number,
    bits: number,
    value: Uint8Array,
    valueStart: number,
    valueEnd: number,
  ): boolean {
    const e = this.engine;
    this.restoreCasCounter(cas);
    const now = this.now();
    // The record supersedes the old value, which goes before the new one is allocated:
    // replay never needs room for both, so an overwrite cannot make it evict another item.
    this.restoreDelete(key, start, end);
    if ((exptime !== 0 && exptime <= now) || this.flushes(time, cas, now)) return true;
    const h = e.alloc(key, start, end, flags, valueEnd - valueStart);
    if (h < 0) return false;
    e.writeValue(h, 0, value, valueStart, valueEnd);
    e.setExptime(h, exptime);
    // A log written without -C, loaded with it: items carry no CAS, as every other item then.
    e.setCas(h, this.useCas ? cas : 0);
    e.setBits(h, bits & PERSISTED_BITS);
    e.link(h, now, -1);
    e.setTime(h, Math.min(time, now));
    return true;
  }

  restoreDelete(key: Uint8Array, start: number, end: number): void {
    const h = this.engine.find(key, start, end);
    if (h >= 0) this.engine.unlink(h);
  }

  /** New exptime, CAS and bits for the item with this key, if there is one. */
  restoreAttrs(key: Uint8Array, start: number, end: number, exptime: number, cas: number, bits: number): void {
    const e = this.engine;
    this.restoreCasCounter(cas);
    const h = e.find(key, start, end);
    if (h < 0) return;
    if (exptime !== 0 && exptime <= this.now()) {
      e.unlink(h);
      return;
    }
    e.setExptime(h, exptime);
    e.setCas(h, this.useCas ? cas : 0);
    e.setBits(h, (e.bits(h) & ~PERSISTED_BITS) | (bits & PERSISTED_BITS));
  }

  /**
   * The flush state a flush_all left. Once it is in force every item it invalidates is
   * unlinked at once, so dead items never make replay evict live ones.
   */
  restoreFlush(oldestLive: number, oldestCas: number): void {
    this.restoreCasCounter(oldestCas);
    this.oldestLive = oldestLive;
    this.oldestCas = oldestCas;
    const now = this.now();
    if (oldestLive === 0 || oldestLive > now) return;
    const e = this.engine;
    const dead: number[] = [];
    e.forEach((h) => {
      if (this.isFlushed(h, now)) dead.push(h);
    });
    for (const h of dead) e.unlink(h);
  }
}

/**
 * The stored value as memcached's safe_strtoull reads it from item data that is followed by
 * "\r\n": leading whitespace, optional sign, digits, then whitespace, NUL or the end. -1n if
 * it is not a number.
 */
function parseStoredNumber(buf: Uint8Array, start: number, end: number): bigint {
  let i = start;
  while (i < end && (buf[i] === 0x20 || (buf[i] >= 0x09 && buf[i] <= 0x0d))) i++;
  let negative = false;
  if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    negative = buf[i] === 0x2d;
    i++;
  }
  const digitsStart = i;
  let v = 0n;
  while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) {
    v = v * 10n + BigInt(buf[i] - 0x30);
    if (v > U64_MASK) return -1n;
    i++;
  }
  if (i === digitsStart) return -1n;
  if (i < end) {
    const c = buf[i];
    if (!(c === 0 || c === 0x20 || (c >= 0x09 && c <= 0x0d))) return -1n;
  }
  if (!negative) return v;
  const wrapped = (U64_MASK + 1n - v) & U64_MASK;
  return wrapped > 0x7fff_ffff_ffff_ffffn ? -1n : wrapped;
}
