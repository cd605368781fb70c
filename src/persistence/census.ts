/**
 * What a set of persistence files adds up to, for the offline checker: records replayed in
 * load order into a Map of keys. A JS object per key is fine here (the checker is a one-off
 * tool); the server replays into its slab store instead.
 */
import {
  AttrField,
  BaseBeginField,
  DeleteField,
  FlushField,
  ItemField,
  RecordType,
  readU32,
  readU64,
} from "./format.ts";

interface KeyState {
  exptime: number;
  /** Last access, unix seconds: what a flush compares with `oldestLive`. */
  time: number;
  cas: number;
}

export interface CensusSummary {
  stored: number;
  expired: number;
  flushed: number;
  live: number;
  highestCas: number;
}

export class Census {
  private readonly keys = new Map<string, KeyState>();
  private highestCas = 0;
  private oldestLive = 0;
  private oldestCas = 0;

  /** Applies one valid record (as the scanner delivers it) to the key set. */
  apply(p: Buffer): void {
    switch (p[0]) {
      case RecordType.item: {
        const cas = readU64(p, ItemField.cas);
        const key = p.toString("latin1", ItemField.key, ItemField.key + p[ItemField.keyLength]);
        this.keys.set(key, { exptime: readU32(p, ItemField.exptime), time: readU32(p, ItemField.time), cas });
        this.sawCas(cas);
        break;
      }
      case RecordType.delete:
        this.keys.delete(p.toString("latin1", DeleteField.key, DeleteField.key + p[DeleteField.keyLength]));
        break;
      case RecordType.attr: {
        const cas = readU64(p, AttrField.cas);
        const state = this.keys.get(p.toString("latin1", AttrField.key, AttrField.key + p[AttrField.keyLength]));
        if (state !== undefined) {
          state.exptime = readU32(p, AttrField.exptime);
          state.cas = cas;
        }
        this.sawCas(cas);
        break;
      }
      case RecordType.flush:
        this.oldestLive = readU32(p, FlushField.oldestLive);
        this.oldestCas = readU64(p, FlushField.oldestCas);
        break;
      case RecordType.baseBegin:
        // A base is the whole state at its moment: nothing before it survives.
        this.keys.clear();
        this.oldestLive = readU32(p, BaseBeginField.oldestLive);
        this.oldestCas = readU64(p, BaseBeginField.oldestCas);
        this.sawCas(readU64(p, BaseBeginField.casCounter));
        break;
    }
  }

  /** Counts keys as memcached would see them at `now` (unix seconds): not expired, not flushed. */
  summary(now: number): CensusSummary {
    let expired = 0;
    let flushed = 0;
    for (const s of this.keys.values()) {
      if (s.exptime !== 0 && s.exptime <= now) expired++;
      else if (this.isFlushed(s, now)) flushed++;
    }
    const stored = this.keys.size;
    return { stored, expired, flushed, live: stored - expired - flushed, highestCas: this.highestCas };
  }

  /** memcached's item_is_flushed(). */
  private isFlushed(s: KeyState, now: number): boolean {
    if (this.oldestLive === 0 || this.oldestLive > now) return false;
    return s.time <= this.oldestLive || (this.oldestCas !== 0 && s.cas !== 0 && s.cas < this.oldestCas);
  }

  private sawCas(cas: number): void {
    if (cas > this.highestCas) this.highestCas = cas;
  }
}
