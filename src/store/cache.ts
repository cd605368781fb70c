import type { Counters } from "../stats/counters.ts";
import type { Clock } from "./clock.ts";
import { ALLOC_TOO_LARGE, type Engine, ItemBits } from "./engine.ts";

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

export const StoreResult = {
  stored: 0,
  exists: 1,
  notFound: 2,
  notStored: 3,
  tooLarge: 4,
  noMemory: 5,
} as const;
export type StoreResult = (typeof StoreResult)[keyof typeof StoreResult];

export const ArithResult = {
  ok: 0,
  notFound: 1,
  nonNumeric: 2,
  noMemory: 3,
  casMismatch: 4,
} as const;
export type ArithResult = (typeof ArithResult)[keyof typeof ArithResult];

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
  /** Result of the last arith call: the new value. */
  arithValue = 0n;
  /** CAS of the item the last successful store or arith produced. */
  lastCas = 0;

  constructor(engine: Engine, clock: Clock, counters: Counters) {
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
  }

  nextCas(): number {
    return ++this.casId;
  }

  /** memcached's realtime(): a protocol exptime as an absolute unix time (0 = never). */
  absoluteExptime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return EXPIRED;
    if (exptime > REALTIME_MAXDELTA) return exptime <= this.now() ? EXPIRED : exptime;
    return this.now() + exptime;
  }

  isFlushed(h: number, now: number): boolean {
    const oldest = this.oldestLive;
    if (oldest === 0 || oldest > now) return false;
    const e = this.engine;
    if (e.time(h) <= oldest) return true;
    const cas = e.cas(h);
    return this.oldestCas !== 0 && cas !== 0 && cas < this.oldestCas;
  }

  isExpired(h: number, now: number): boolean {
    const exp = this.engine.exptime(h);
    return exp !== 0 && exp <= now;
  }

  /** True if the item is expired or flushed; used by engines to reclaim before evicting. */
  readonly isDead = (h: number): boolean => {
    const now = this.now();
    return this.isExpired(h, now) || this.isFlushed(h, now);
  };

  /**
   * memcached's do_item_get: the live item for a key or -1. Dead items found on the way are
   * unlinked and counted. `bump` records a fetch for the LRU.
   */
  lookup(key: Uint8Array, start: number, end: number, bump: boolean): number {
    const e = this.engine;
    const h = e.find(key, start, end);
    if (h < 0) return -1;
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
    if (bump) e.bump(h, now);
    return h;
  }

  /** A classic get/gat: counts the stats memcached counts and applies the touch. */
  get(key: Uint8Array, start: number, end: number, touch: boolean, exptime: number): number {
    const c = this.counters;
    const h = this.lookup(key, start, end, true);
    // memcached 1.6 counts gat/gats in cmd_touch only, never in cmd_get.
    if (touch) {
      c.cmdTouch++;
      if (h < 0) c.touchMisses++;
      else {
        c.touchHits++;
        this.engine.setExptime(h, exptime);
      }
    } else {
      c.cmdGet++;
      if (h < 0) c.getMisses++;
      else c.getHits++;
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
    this.engine.setExptime(h, exptime);
    return true;
  }

  /**
   * Allocates the item a store command's data is read into, before the data arrives (as
   * memcached does, so values are never buffered twice). Returns a handle, or
   * `ALLOC_TOO_LARGE` / `ALLOC_NO_MEMORY`, in which case a `set` drops the old value as
   * memcached does, so a failed set never leaves stale data readable.
   */
  beginStore(
    mode: StoreMode,
    key: Uint8Array,
    start: number,
    end: number,
    flags: number,
    exptime: number,
    valueLength: number,
  ): number {
    const e = this.engine;
    const h = e.alloc(key, start, end, flags, valueLength);
    if (h < 0) {
      if (h === ALLOC_TOO_LARGE) this.counters.storeTooLarge++;
      else this.counters.storeNoMemory++;
      if (mode === StoreMode.set) {
        const old = this.lookup(key, start, end, false);
        if (old >= 0) e.unlink(old);
      }
      return h;
    }
    e.setExptime(h, exptime);
    return h;
  }

  /** Drops an item from `beginStore` whose data turned out to be malformed. */
  abortStore(h: number): void {
    this.engine.discard(h);
  }

  /**
   * memcached's do_store_item: links the item from `beginStore` according to `mode`.
   * `casIn` 0 means no CAS given. With `invalidate` (meta's I flag) a CAS older than the
   * item's stores the value but marks it stale. On success `lastCas` holds the new CAS.
   */
  commitStore(h: number, mode: StoreMode, casIn: number, invalidate: boolean): StoreResult {
    const e = this.engine;
    const c = this.counters;
    c.cmdSet++;
    const old = this.lookup(e.keyBuffer(h), e.keyStart(h), e.keyStart(h) + e.keyLength(h), false);
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
      return this.linkNew(h, now);
    }
    const oldCas = e.cas(old);
    const casMatch = casIn === 0 ? 0 : casIn === oldCas ? 1 : invalidate && casIn < oldCas ? 2 : 3;
    switch (mode) {
      case StoreMode.add:
        e.update(old, now);
        e.discard(h);
        return StoreResult.notStored;
      case StoreMode.cas:
        if (casMatch === 1) {
          c.casHits++;
        } else if (casMatch === 2) {
          c.casHits++;
          e.setExptime(h, e.exptime(old));
          e.setBits(h, e.bits(h) | ItemBits.stale | (e.bits(old) & ItemBits.tokenSent));
        } else {
          c.casBadval++;
          e.discard(h);
          return StoreResult.exists;
        }
        return this.linkNew(h, now);
      case StoreMode.append:
      case StoreMode.prepend: {
        if (casMatch !== 0 && casMatch !== 1) {
          e.discard(h);
          return StoreResult.exists;
        }
        const joined = this.join(old, h, mode === StoreMode.append);
        e.discard(h);
        if (joined < 0) return StoreResult.notStored;
        return this.linkNew(joined, now);
      }
      default:
        return this.linkNew(h, now);
    }
  }

  private linkNew(h: number, now: number): StoreResult {
    const e = this.engine;
    e.setCas(h, this.nextCas());
    e.link(h, now);
    this.lastCas = e.cas(h);
    return StoreResult.stored;
  }

  /** A new item holding old+new (append) or new+old (prepend), with the old flags and exptime. */
  private join(old: number, add: number, append: boolean): number {
    const e = this.engine;
    const oldLen = e.valueLength(old);
    const addLen = e.valueLength(add);
    const h = e.alloc(e.keyBuffer(old), e.keyStart(old), e.keyStart(old) + e.keyLength(old), e.flags(old), oldLen + addLen);
    if (h < 0) return -1;
    const dst = e.valueBuffer(h);
    const at = e.valueStart(h);
    const first = append ? old : add;
    const second = append ? add : old;
    dst.set(e.valueBuffer(first).subarray(e.valueStart(first), e.valueStart(first) + e.valueLength(first)), at);
    dst.set(
      e.valueBuffer(second).subarray(e.valueStart(second), e.valueStart(second) + e.valueLength(second)),
      at + e.valueLength(first),
    );
    e.setExptime(h, e.exptime(old));
    return h;
  }

  /** delete: unlinks a live item. */
  delete(key: Uint8Array, start: number, end: number): boolean {
    const h = this.lookup(key, start, end, false);
    if (h < 0) {
      this.counters.deleteMisses++;
      return false;
    }
    this.counters.deleteHits++;
    this.engine.unlink(h);
    return true;
  }

  /**
   * memcached's do_add_delta: incr wraps at 2^64, decr floors at 0. A result no longer than
   * the old value is written in place, padded with spaces, exactly as memcached does.
   * The new value is left in `arithValue`, the new CAS in `lastCas`.
   */
  arith(key: Uint8Array, start: number, end: number, incr: boolean, delta: bigint, casIn: number): ArithResult {
    const e = this.engine;
    const c = this.counters;
    const h = this.lookup(key, start, end, false);
    if (h < 0) {
      if (incr) c.incrMisses++;
      else c.decrMisses++;
      return ArithResult.notFound;
    }
    const len = e.valueLength(h);
    if (len === 0) return ArithResult.nonNumeric;
    if (casIn !== 0 && e.cas(h) !== casIn) return ArithResult.casMismatch;
    const current = parseStoredNumber(e.valueBuffer(h), e.valueStart(h), e.valueStart(h) + len);
    if (current < 0n) return ArithResult.nonNumeric;
    const value = incr ? (current + delta) & U64_MASK : delta > current ? 0n : current - delta;
    if (incr) c.incrHits++;
    else c.decrHits++;
    const digits = value.toString();
    const now = this.now();
    this.arithValue = value;
    if (digits.length <= len) {
      const buf = e.valueBuffer(h);
      const at = e.valueStart(h);
      buf.fill(0x20, at, at + len);
      for (let i = 0; i < digits.length; i++) buf[at + i] = digits.charCodeAt(i);
      e.setCas(h, this.nextCas());
      e.update(h, now);
      this.lastCas = e.cas(h);
      return ArithResult.ok;
    }
    const n = e.alloc(e.keyBuffer(h), e.keyStart(h), e.keyStart(h) + e.keyLength(h), e.flags(h), digits.length);
    if (n < 0) return ArithResult.noMemory;
    const buf = e.valueBuffer(n);
    const at = e.valueStart(n);
    for (let i = 0; i < digits.length; i++) buf[at + i] = digits.charCodeAt(i);
    e.setExptime(n, e.exptime(h));
    this.linkNew(n, now);
    return ArithResult.ok;
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
    this.oldestLive = newOldest - 1;
    if (this.oldestLive <= now) this.oldestCas = this.nextCas();
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
