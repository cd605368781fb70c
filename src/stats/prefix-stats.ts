import { murmur3 } from "../store/hash.ts";

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
    // memcached's default hash_algorithm: MurmurHash3_x86_32 with seed 0.
    const bucket = murmur3(key, start, stop, 0) & (BUCKETS - 1);
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
