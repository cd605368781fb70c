import { ArithResult, DeleteResult, StoreMode, StoreResult } from "../../store/cache.ts";
import { ALLOC_NO_MEMORY_DATA, ALLOC_TOO_LARGE, type Engine } from "../../store/engine.ts";
import type { OutBuffer } from "../out-buffer.ts";
import { type ParsedNumber, parseI32, parseU32, parseU64, writeDecimal } from "../numbers.ts";
import { copyBytes } from "../../bytes.ts";
import { OUT_HIGH_WATER } from "../session.ts";
import { R } from "./replies.ts";
import { KEY_MAX_LENGTH, type TextSession, type ValueSink } from "./session.ts";

const VALUE = R.value;
const GetState = { done: 0, suspended: 1, failed: 2 } as const;
type GetState = (typeof GetState)[keyof typeof GetState];
/** A `rest` buffer grown past this (a huge get line) is let go once its keys are answered. */
const REST_KEEP = 64 * 1024;

function isKey(s: TextSession, i: number): boolean {
  return s.tokens.length(i) <= KEY_MAX_LENGTH;
}

/**
 * memcached's classic text commands (process_get_command, process_update_command, ...) over
 * the tokens of the session's current line, each a call into the Cache. One instance per
 * connection: it keeps the pending store command while its data block is read.
 */
export class ClassicCommands implements ValueSink {
  private readonly num: ParsedNumber = { ok: false, value: 0 };
  private mode: StoreMode = StoreMode.set;
  private casIn = 0;

  /** get, gets, gat, gats, bget: true, since memcached writes their replies at once. */
  get(s: TextSession, buf: Uint8Array, lineEnd: number, withCas: boolean, touch: boolean): boolean {
    const t = s.tokens;
    let first = 1;
    let exptime = 0;
    if (touch) {
      if (!parseI32(buf, t.start[1], t.end[1], this.num).ok) {
        s.send(R.invalidExptime);
        return false;
      }
      const refused = s.writeRefusal();
      if (refused !== null) {
        s.send(refused);
        return false;
      }
      exptime = s.cache.absoluteExptime(this.num.value);
      first = 2;
    }
    const g = this.getting;
    g.session = s;
    g.withCas = withCas;
    g.touch = touch;
    g.exptime = exptime;
    return this.answerKeys(buf, first, lineEnd) !== GetState.failed;
  }

  /**
   * The usual get, one key and nothing unusual about the line: answered without the
   * tokenizer and the command dispatch. False when the line needs the general path.
   */
  getOne(s: TextSession, buf: Uint8Array, keyStart: number, lineEnd: number): boolean {
    const klen = lineEnd - keyStart;
    if (klen === 0 || klen > KEY_MAX_LENGTH || s.ctx.prefixStats.enabled) return false;
    for (let i = keyStart; i < lineEnd; i++) if (buf[i] === 0x20) return false;
    const h = s.cache.get(buf, keyStart, lineEnd, false, 0);
    const out = s.out;
    if (h >= 0) writeHit(out, s.cache.engine, h, buf, keyStart, lineEnd, false);
    out.bytes(R.end);
    return true;
  }

  /** The get whose keys `answerKeys` works through, kept while it waits for the client to read. */
  private readonly getting: { session: TextSession | null; withCas: boolean; touch: boolean; exptime: number } = { session: null, withCas: false, touch: false, exptime: 0 };
  /** The keys of that get not answered yet: `rest[0..restLength)`. */
  private rest: Buffer = Buffer.alloc(0);
  private restLength = 0;

  /**
   * Answers the keys of the tokenized line from token `first` on. Once the replies gathered
   * pass OUT_HIGH_WATER, the keys left are copied aside and the session's producer answers
   * them after the client has read the rest: a line naming a 1 MB value 500 times never
   * holds more than a few MB (memcached sends values by reference instead).
   */
  private answerKeys(buf: Uint8Array, first: number, lineEnd: number): GetState {
    const g = this.getting;
    const s = g.session as TextSession;
    const t = s.tokens;
    const out = s.out;
    const cache = s.cache;
    const e = cache.engine;
    for (;;) {
      const last = t.count - 1;
      if (last - first > 1) e.prefetch(buf, t.start, t.end, first, last);
      for (let i = first; i < last; i++) {
        // Each key has its own response object in memcached, sent even when the key misses.
        s.writes.framer?.start(true);
        if (!isKey(s, i)) {
          // memcached culls every response not yet sent before reporting the bad key.
          s.writes.dropUnwritten();
          s.send(R.badFormat);
          return GetState.failed;
        }
        const h = cache.get(buf, t.start[i], t.end[i], g.touch, g.exptime);
        if (s.ctx.prefixStats.enabled) s.ctx.prefixStats.recordGet(buf, t.start[i], t.end[i], h >= 0);
        if (h < 0) continue;
        writeHit(out, e, h, buf, t.start[i], t.end[i], g.withCas);
        if (out.size > OUT_HIGH_WATER && (i + 1 < last || t.rest >= 0)) {
          this.keepRest(buf, i + 1 < last ? t.start[i + 1] : t.rest, lineEnd);
          s.producer = this.resumeGet;
          return GetState.suspended;
        }
      }
      if (t.rest < 0) break;
      // More keys than one tokenization holds: continue with the rest of the line.
      t.tokenize(buf, t.rest, lineEnd);
      first = 0;
    }
    out.bytes(R.end);
    g.session = null;
    return GetState.done;
  }

  private keepRest(buf: Uint8Array, from: number, end: number): void {
    const n = end - from;
    if (buf === this.rest) this.rest.copyWithin(0, from, end);
    else {
      if (this.rest.length < n) this.rest = Buffer.allocUnsafe(n);
      copyBytes(buf, from, end, this.rest, 0);
    }
    this.restLength = n;
  }

  /** The producer of a suspended get: true once its END is written. */
  private readonly resumeGet = (): boolean => {
    const g = this.getting;
    (g.session as TextSession).tokens.tokenize(this.rest, 0, this.restLength);
    const state = this.answerKeys(this.rest, 0, this.restLength);
    if (state === GetState.suspended) return false;
    if (this.rest.length > REST_KEEP) this.rest = Buffer.alloc(0);
    return true;
  };

  update(s: TextSession, buf: Uint8Array, mode: StoreMode, arity: boolean): void {
    if (!arity) return s.send(R.error);
    const t = s.tokens;
    const cache = s.cache;
    s.noreplyMaybe(buf);
    if (!isKey(s, 1)) return s.send(R.badFormat);
    const num = this.num;
    if (!parseU32(buf, t.start[2], t.end[2], num).ok) return s.send(R.badFormat);
    const flags = num.value;
    if (!parseI32(buf, t.start[3], t.end[3], num).ok) return s.send(R.badFormat);
    const exptime = cache.absoluteExptime(num.value);
    if (!parseI32(buf, t.start[4], t.end[4], num).ok) return s.send(R.badFormat);
    const vlen = num.value;
    let casIn = 0;
    if (mode === StoreMode.cas) {
      const v = parseU64(buf, t.start[5], t.end[5]);
      if (v < 0n) return s.send(R.badFormat);
      casIn = Number(v);
    }
    if (vlen < 0 || vlen > 0x7fff_fffd) return s.send(R.badFormat);
    const refused = s.writeRefusal();
    if (refused !== null) {
      s.send(refused);
      return s.swallow(vlen + 2);
    }
    if (s.ctx.prefixStats.enabled) s.ctx.prefixStats.recordSet(buf, t.start[1], t.end[1]);
    const h = cache.beginStore(mode, buf, t.start[1], t.end[1], flags, exptime, vlen);
    if (h < 0) {
      s.send(h === ALLOC_TOO_LARGE ? R.tooLarge : h === ALLOC_NO_MEMORY_DATA ? R.outOfMemoryReading : R.outOfMemoryStoring);
      return s.swallow(vlen + 2);
    }
    this.mode = mode;
    this.casIn = casIn;
    s.readInto(h, vlen, this);
  }

  delete(s: TextSession, buf: Uint8Array): void {
    const t = s.tokens;
    const n = t.count;
    if (n > 3) {
      const holdIsZero = t.is(buf, 2, "0");
      const setsNoreply = s.noreplyMaybe(buf);
      const valid = (n === 4 && (holdIsZero || setsNoreply)) || (n === 5 && holdIsZero && setsNoreply);
      if (!valid) return s.send(R.deleteUsage);
    }
    if (!isKey(s, 1)) return s.send(R.badFormat);
    if (s.ctx.prefixStats.enabled) s.ctx.prefixStats.recordDelete(buf, t.start[1], t.end[1]);
    const refused = s.writeRefusal();
    if (refused !== null) return s.send(refused);
    s.send(s.cache.delete(buf, t.start[1], t.end[1]) === DeleteResult.deleted ? R.deleted : R.notFound);
  }

  arith(s: TextSession, buf: Uint8Array, incr: boolean): void {
    const t = s.tokens;
    s.noreplyMaybe(buf);
    if (!isKey(s, 1)) return s.send(R.badFormat);
    const delta = parseU64(buf, t.start[2], t.end[2]);
    if (delta < 0n) return s.send(R.invalidDelta);
    const refused = s.writeRefusal();
    if (refused !== null) return s.send(refused);
    const r = s.cache.arith(buf, t.start[1], t.end[1], incr, delta, 0, null, s.writes.heldItems());
    switch (r.code) {
      case ArithResult.ok:
        if (s.noreply) {
          s.noreply = false;
          return;
        }
        s.out.ascii(r.value.toString());
        s.out.crlf();
        return;
      case ArithResult.notFound:
        return s.send(R.notFound);
      case ArithResult.nonNumeric:
        return s.send(R.nonNumeric);
      default:
        return s.send(R.outOfMemory);
    }
  }

  touch(s: TextSession, buf: Uint8Array): void {
    const t = s.tokens;
    s.noreplyMaybe(buf);
    if (!isKey(s, 1)) return s.send(R.badFormat);
    if (!parseI32(buf, t.start[2], t.end[2], this.num).ok) return s.send(R.invalidExptime);
    const exptime = s.cache.absoluteExptime(this.num.value);
    const refused = s.writeRefusal();
    if (refused !== null) return s.send(refused);
    s.send(s.cache.touch(buf, t.start[1], t.end[1], exptime) ? R.touched : R.notFound);
  }

  flushAll(s: TextSession, buf: Uint8Array): void {
    const t = s.tokens;
    s.noreplyMaybe(buf);
    if (s.ctx.settings.disableFlush) {
      s.ctx.counters.cmdFlush++;
      return s.send(R.flushNotAllowed);
    }
    let delay = 0;
    if (t.count !== (s.noreply ? 3 : 2)) {
      if (!parseI32(buf, t.start[1], t.end[1], this.num).ok) {
        s.ctx.counters.cmdFlush++;
        return s.send(R.invalidExptime);
      }
      delay = this.num.value;
    }
    const refused = s.writeRefusal();
    if (refused !== null) return s.send(refused);
    s.cache.flushAll(delay);
    s.send(R.ok);
  }

  verbosity(s: TextSession, buf: Uint8Array): void {
    const t = s.tokens;
    s.noreplyMaybe(buf);
    if (!parseU32(buf, t.start[1], t.end[1], this.num).ok) return s.send(R.badFormat);
    s.ctx.verbosity = Math.min(this.num.value, 3);
    s.send(R.ok);
  }

  memlimit(s: TextSession, buf: Uint8Array): void {
    const t = s.tokens;
    s.noreplyMaybe(buf);
    if (!parseU32(buf, t.start[1], t.end[1], this.num).ok) return s.send(R.error);
    const mb = this.num.value;
    if (mb < 8) return s.send(R.memlimitTooSmall);
    if (mb > 1_000_000_000) return s.send(R.memlimitMegabytes);
    s.cache.engine.setLimitBytes(mb * 1024 * 1024);
    s.send(R.ok);
  }

  shutdown(s: TextSession, buf: Uint8Array): void {
    const t = s.tokens;
    if (!s.ctx.settings.enableShutdown) return s.send(R.shutdownDisabled);
    if (t.count === 2) {
      s.closing = true;
      s.ctx.shutdown(false);
    } else if (t.count === 3 && t.is(buf, 1, "graceful")) {
      s.closing = true;
      s.ctx.shutdown(true);
    } else s.send(R.shutdownBadMode);
  }

  /** Completion of set/add/replace/append/prepend/cas, once the data block is read. */
  complete(s: TextSession, h: number, valid: boolean): void {
    const cache = s.cache;
    if (!valid) {
      cache.rejectStore(h);
      return s.send(R.badDataChunk);
    }
    const result = cache.commitStore(h, this.mode, this.casIn, false);
    if (result >= 0) return s.send(R.stored);
    switch (result) {
      case StoreResult.exists:
        return s.send(R.exists);
      case StoreResult.notFound:
        return s.send(R.notFound);
      default:
        return s.send(R.notStored);
    }
  }
}

/** A hit's reply: the VALUE line written in place (one room check for the whole reply), the value, CRLF. */
function writeHit(out: OutBuffer, e: Engine, h: number, buf: Uint8Array, keyStart: number, keyEnd: number, withCas: boolean): void {
  const vlen = e.valueLength(h);
  out.ensure(6 + KEY_MAX_LENGTH + 48 + vlen);
  const o = out.buf;
  let p = out.len;
  for (let j = 0; j < 6; j++) o[p + j] = VALUE[j];
  p += 6;
  for (let j = keyStart; j < keyEnd; j++) o[p++] = buf[j];
  o[p++] = 0x20;
  p = writeDecimal(o, p, e.flags(h));
  o[p++] = 0x20;
  p = writeDecimal(o, p, vlen);
  if (withCas) {
    o[p++] = 0x20;
    p = writeDecimal(o, p, e.cas(h));
  }
  o[p++] = 0x0d;
  o[p++] = 0x0a;
  out.len = p;
  e.readValue(h, out.items);
  out.crlf();
}
