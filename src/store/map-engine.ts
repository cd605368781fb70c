import { ALLOC_NO_MEMORY, ALLOC_TOO_LARGE, type DeadCheck, type Engine, type EngineStats, ItemBits } from "./engine.ts";
import { itemTotalSize } from "./item-size.ts";

export interface MapEngineOptions {
  limitBytes: number;
  maxItemSize: number;
  /** memcached's -M: refuse stores instead of evicting. */
  noEvict: boolean;
  isDead: DeadCheck;
}

/**
 * A simple engine: one Buffer per item, a Map from key to handle and a single LRU list.
 * Correct and bounded, but it keeps a JS object per item; the off-heap slab engine replaces it.
 */
export class MapEngine implements Engine {
  private readonly index = new Map<string, number>();
  private readonly free: number[] = [];
  private keys: Buffer[] = [];
  private values: Buffer[] = [];
  private flagsArr: number[] = [];
  private exptimes: number[] = [];
  private times: number[] = [];
  private cases: number[] = [];
  private bitsArr: number[] = [];
  private linked: boolean[] = [];
  // LRU as a doubly linked list over handles; head is most recent.
  private prev: number[] = [];
  private next: number[] = [];
  private head = -1;
  private tail = -1;
  private linkedCount = 0;
  private linkedBytes = 0;
  limitBytes: number;
  readonly stats: EngineStats = {
    evictions: 0,
    reclaimed: 0,
    expiredUnfetched: 0,
    evictedUnfetched: 0,
    evictedActive: 0,
    totalItems: 0,
  };
  private readonly opts: MapEngineOptions;

  constructor(opts: MapEngineOptions) {
    this.opts = opts;
    this.limitBytes = opts.limitBytes;
  }

  private keyString(key: Uint8Array, start: number, end: number): string {
    return Buffer.from(key.buffer, key.byteOffset + start, end - start).toString("latin1");
  }

  find(key: Uint8Array, start: number, end: number): number {
    return this.index.get(this.keyString(key, start, end)) ?? -1;
  }

  alloc(key: Uint8Array, start: number, end: number, flags: number, valueLength: number): number {
    const size = itemTotalSize(end - start, flags, valueLength);
    if (size > this.opts.maxItemSize) return ALLOC_TOO_LARGE;
    if (!this.makeRoom(size)) return ALLOC_NO_MEMORY;
    const h = this.free.length > 0 ? (this.free.pop() as number) : this.keys.length;
    this.keys[h] = Buffer.from(key.subarray(start, end));
    this.values[h] = Buffer.allocUnsafe(valueLength);
    this.flagsArr[h] = flags;
    this.exptimes[h] = 0;
    this.times[h] = 0;
    this.cases[h] = 0;
    this.bitsArr[h] = 0;
    this.linked[h] = false;
    this.prev[h] = -1;
    this.next[h] = -1;
    return h;
  }

  /** Evicts from the LRU tail until `size` more bytes fit; reclaims dead items first. */
  private makeRoom(size: number): boolean {
    let budget = 50;
    while (this.linkedBytes + size > this.limitBytes && this.tail !== -1) {
      const victim = this.tail;
      if (this.opts.isDead(victim)) {
        this.stats.reclaimed++;
        if ((this.bitsArr[victim] & ItemBits.fetched) === 0) this.stats.expiredUnfetched++;
      } else {
        if (this.opts.noEvict) return false;
        this.stats.evictions++;
        if ((this.bitsArr[victim] & ItemBits.fetched) === 0) this.stats.evictedUnfetched++;
        if ((this.bitsArr[victim] & ItemBits.active) !== 0) this.stats.evictedActive++;
      }
      this.unlink(victim);
      if (--budget === 0) break;
    }
    return this.linkedBytes + size <= this.limitBytes;
  }

  link(h: number, now: number): void {
    const k = this.keys[h].toString("latin1");
    const old = this.index.get(k);
    if (old !== undefined) this.unlink(old);
    this.index.set(k, h);
    this.linked[h] = true;
    this.linkedCount++;
    this.linkedBytes += this.totalSize(h);
    this.stats.totalItems++;
    this.times[h] = now;
    this.pushHead(h);
  }

  unlink(h: number): void {
    if (!this.linked[h]) return;
    this.index.delete(this.keys[h].toString("latin1"));
    this.linked[h] = false;
    this.linkedCount--;
    this.linkedBytes -= this.totalSize(h);
    this.removeFromList(h);
    this.discard(h);
  }

  discard(h: number): void {
    this.keys[h] = EMPTY;
    this.values[h] = EMPTY;
    this.free.push(h);
  }

  bump(h: number, now: number): void {
    // A single LRU list has no segment moves to clear `active`, so every repeat hit refreshes.
    const bits = this.bitsArr[h];
    if ((bits & ItemBits.fetched) === 0) {
      this.bitsArr[h] = bits | ItemBits.fetched;
      return;
    }
    this.bitsArr[h] = bits | ItemBits.active;
    this.update(h, now);
  }

  update(h: number, now: number): void {
    this.times[h] = now;
    if (this.head === h) return;
    this.removeFromList(h);
    this.pushHead(h);
  }

  private pushHead(h: number): void {
    this.prev[h] = -1;
    this.next[h] = this.head;
    if (this.head !== -1) this.prev[this.head] = h;
    this.head = h;
    if (this.tail === -1) this.tail = h;
  }

  private removeFromList(h: number): void {
    const p = this.prev[h];
    const n = this.next[h];
    if (p !== -1) this.next[p] = n;
    else if (this.head === h) this.head = n;
    if (n !== -1) this.prev[n] = p;
    else if (this.tail === h) this.tail = p;
    this.prev[h] = -1;
    this.next[h] = -1;
  }

  valueBuffer(h: number): Uint8Array {
    return this.values[h];
  }
  valueStart(): number {
    return 0;
  }
  valueLength(h: number): number {
    return this.values[h].length;
  }
  keyBuffer(h: number): Uint8Array {
    return this.keys[h];
  }
  keyStart(): number {
    return 0;
  }
  keyLength(h: number): number {
    return this.keys[h].length;
  }
  flags(h: number): number {
    return this.flagsArr[h];
  }
  setFlags(h: number, flags: number): void {
    this.flagsArr[h] = flags;
  }
  exptime(h: number): number {
    return this.exptimes[h];
  }
  setExptime(h: number, exptime: number): void {
    this.exptimes[h] = exptime;
  }
  time(h: number): number {
    return this.times[h];
  }
  setTime(h: number, time: number): void {
    this.times[h] = time;
  }
  cas(h: number): number {
    return this.cases[h];
  }
  setCas(h: number, cas: number): void {
    this.cases[h] = cas;
  }
  bits(h: number): number {
    return this.bitsArr[h];
  }
  setBits(h: number, bits: number): void {
    this.bitsArr[h] = bits;
  }
  slabClass(h: number): number {
    // A stand-in for memcached's classes: chunk sizes growing by 1.25 from 96 bytes.
    let size = 96;
    let cls = 1;
    const total = this.totalSize(h);
    while (size < total) {
      size = Math.ceil((size * 1.25) / 8) * 8;
      cls++;
    }
    return cls;
  }
  totalSize(h: number): number {
    return itemTotalSize(this.keys[h].length, this.flagsArr[h], this.values[h].length);
  }
  forEach(fn: (h: number) => void): void {
    for (const h of this.index.values()) fn(h);
  }
  count(): number {
    return this.linkedCount;
  }
  bytes(): number {
    return this.linkedBytes;
  }
  setLimitBytes(bytes: number): void {
    this.limitBytes = bytes;
    this.makeRoom(0);
  }
}

const EMPTY = Buffer.alloc(0);
