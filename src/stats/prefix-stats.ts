/** memcached's PREFIX_HASH_SIZE: the dump lists prefixes in the order of this table. */
const BUCKETS = 256;
/** memcached's default prefix delimiter (-D). */
const DELIMITER = 0x3a;

interface Prefix {
  readonly prefix: Buffer;
  gets: number;
  hits: number;
  sets: number;
  deletes: number;
  next: Prefix | null;
}

/**
 * `stats detail`: per key-prefix counters (the prefix is what precedes the first ':'), kept
 * only while enabled. The table copies memcached's stats_prefix.c, hash and insertion at the
 * bucket head included, so `stats detail dump` lists prefixes in memcached's order.
 */
export class PrefixStats {
  enabled = false;
  private table: (Prefix | null)[] = new Array<Prefix | null>(BUCKETS).fill(null);

  recordGet(key: Uint8Array, start: number, end: number, hit: boolean): void {
    const p = this.find(key, start, end);
    if (p === null) return;
    p.gets++;
    if (hit) p.hits++;
  }

  recordSet(key: Uint8Array, start: number, end: number): void {
    const p = this.find(key, start, end);
    if (p !== null) p.sets++;
  }

  recordDelete(key: Uint8Array, start: number, end: number): void {
    const p = this.find(key, start, end);
    if (p !== null) p.deletes++;
  }

  /** `stats reset` forgets every prefix. */
  clear(): void {
    this.table.fill(null);
  }

  /** The `stats detail dump` reply, END included. */
  dump(): string {
    let out = "";
    for (const head of this.table) {
      for (let p = head; p !== null; p = p.next) {
        out += `PREFIX ${p.prefix.toString("latin1")} get ${p.gets} hit ${p.hits} set ${p.sets} del ${p.deletes}\r\n`;
      }
    }
    return out + "END\r\n";
  }

  private find(key: Uint8Array, start: number, end: number): Prefix | null {
    let stop = start;
    while (stop < end && key[stop] !== DELIMITER) stop++;
    if (stop === end) return null;
    const length = stop - start;
    const bucket = murmur3(key, start, stop) % BUCKETS;
    for (let p = this.table[bucket]; p !== null; p = p.next) {
      // memcached compares with strncmp(stored, key, length): a longer stored prefix that
      // starts with this one matches too.
      if (p.prefix.length >= length && p.prefix.compare(key, start, stop, 0, length) === 0) return p;
    }
    const p: Prefix = { prefix: Buffer.from(key.subarray(start, stop)), gets: 0, hits: 0, sets: 0, deletes: 0, next: this.table[bucket] };
    this.table[bucket] = p;
    return p;
  }
}

/** MurmurHash3_x86_32 with seed 0: memcached's default `hash_algorithm`. */
export function murmur3(data: Uint8Array, start: number, end: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  const len = end - start;
  const blocksEnd = start + (len & ~3);
  for (let i = start; i < blocksEnd; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = len & 3;
  if (tail !== 0) {
    let k = data[blocksEnd];
    if (tail > 1) k ^= data[blocksEnd + 1] << 8;
    if (tail > 2) k ^= data[blocksEnd + 2] << 16;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
