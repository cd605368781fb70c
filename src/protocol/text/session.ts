import type { ServerContext } from "../../server/context.ts";
import { ArithResult, type Cache, DeleteResult, StoreMode, StoreResult } from "../../store/cache.ts";
import { ALLOC_TOO_LARGE } from "../../store/engine.ts";
import { writeStats } from "../../stats/stats-text.ts";
import { type ParsedNumber, parseI32, parseU32, parseU64 } from "../numbers.ts";
import type { OutBuffer } from "../out-buffer.ts";
import type { ProtocolSession } from "../session.ts";
import { lruCrawlerCommand } from "./lru-crawler.ts";
import { lruCommand, slabsCommand } from "./admin.ts";
import { R } from "./replies.ts";
import { Tokens } from "./tokens.ts";
import { MEMCACHED_VERSION } from "../../version.ts";

export const KEY_MAX_LENGTH = 250;
/** memcached's MAX_NUMBER_OF_SLAB_CLASSES: the bound on `stats cachedump`'s class id. */
const MAX_SLAB_CLASSES = 64;
/** memcached closes a connection whose first 2048 bytes hold no newline, unless it is a get. */
const MAX_LINE_WITHOUT_NEWLINE = 2048;
/**
 * memcached lets a multi-key get line grow without bound; we cap it so no client can make a
 * connection hold unbounded memory. 4 MiB is ~16k keys of maximal length.
 */
export const MAX_GET_LINE = 4 * 1024 * 1024;

const State = { line: 0, value: 1, swallow: 2 } as const;
type State = (typeof State)[keyof typeof State];

/** What to do once a store command's data block has been read. */
export interface ValueSink {
  /** Called with `valid` false when the block did not end with "\r\n". */
  complete(session: TextSession, handle: number, valid: boolean): void;
}

/**
 * One connection's text protocol state: parses complete lines from the bytes it is given,
 * reads data blocks straight into item memory, and appends every reply to `out`. The caller
 * keeps bytes this returns as unconsumed and presents them again with the next read.
 */
export class TextSession implements ProtocolSession {
  readonly ctx: ServerContext;
  readonly cache: Cache;
  readonly out: OutBuffer;
  readonly tokens = new Tokens();
  private readonly num: ParsedNumber = { ok: false, value: 0 };
  /** Set when the connection must close once `out` is flushed. */
  closing = false;
  noreply = false;
  private state: State = State.line;
  /** Bytes of the data block (or swallow) still expected, including the trailing CRLF. */
  private remaining = 0;
  private handle = -1;
  private valueLength = 0;
  private readonly crlf = new Uint8Array(2);
  private readonly classicStore = new ClassicStore();
  private sink: ValueSink = this.classicStore;
  /**
   * A reply too long to build at once (metadump): the connection calls it again after each
   * write until it returns true, and no further command is read meanwhile.
   */
  producer: ((out: OutBuffer) => boolean) | null = null;
  /** Meta protocol hook: handles two-letter `m?` commands. */
  meta: ((s: TextSession, buf: Uint8Array, lineStart: number, lineEnd: number) => void) | null = null;

  constructor(ctx: ServerContext, out: OutBuffer) {
    this.ctx = ctx;
    this.cache = ctx.cache;
    this.out = out;
    this.lastCommandAt = ctx.cache.now();
  }

  /** Consumes bytes of buf[start..end); returns how far it got (the rest is an incomplete line). */
  consume(buf: Uint8Array, start: number, end: number): number {
    this.lastCommandAt = this.cache.now();
    this.parsing = true;
    this.fresh = false;
    if (!this.holding) this.delivered = this.out.len;
    this.budget = this.ctx.settings.reqsPerEvent;
    const pos = this.parse(buf, start, end);
    this.endOfRead();
    this.parsing = false;
    return pos;
  }

  /** Unix seconds of the last read with commands, for `stats conns`. */
  lastCommandAt: number;
  /** True while this session runs commands: the connection asking `stats conns` is conn_parse_cmd. */
  private parsing = false;
  private fresh = true;

  /** memcached's name for the state the connection waits in. */
  connState(): string {
    if (this.parsing) return "conn_parse_cmd";
    if (this.state === State.value) return "conn_nread";
    if (this.state === State.swallow) return "conn_swallow";
    return this.fresh ? "conn_new_cmd" : "conn_read";
  }

  private parse(buf: Uint8Array, start: number, end: number): number {
    let pos = start;
    while (pos < end && !this.closing && this.producer === null) {
      if (this.state === State.value) {
        pos = this.readValue(buf, pos, end);
        if ((this.state as State) === State.line) this.done(false);
        continue;
      }
      if (this.state === State.swallow) {
        const n = Math.min(this.remaining, end - pos);
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) {
          this.state = State.line;
          this.done(false);
        }
        continue;
      }
      let nl = (buf as Buffer).indexOf(0x0a, pos);
      if (nl >= end) nl = -1;
      if (nl < 0) {
        this.checkIncompleteLine(buf, pos, end);
        return this.closing ? end : pos;
      }
      let lineEnd = nl;
      if (lineEnd - pos > 1 && buf[lineEnd - 1] === 0x0d) lineEnd--;
      const nul = (buf as Buffer).indexOf(0, pos);
      if (nul >= 0 && nul < lineEnd) lineEnd = nul;
      this.wrote = false;
      this.command(buf, pos, lineEnd);
      if (this.state === State.line) this.done(this.wrote);
      pos = nl + 1;
    }
    return pos;
  }

  // memcached's write points, emulated because they are observable: replies queued after the
  // last write are lost when memcached drops a connection, and every -R commands it yields
  // (counted in conn_yields). memcached decrements a per-event budget (-R) after each command
  // (conn_new_cmd) and after each write it makes on its own; get-family commands write at once;
  // below zero it writes what is queued and yields, and the event that resumes the same read
  // starts by decrementing. A new read always starts with the full budget.
  private budget = 0;
  /** Replies queued since memcached's last write. */
  private pending = false;
  /** Length of `out` at memcached's last write. */
  private delivered = 0;
  /**
   * A data block is half read: memcached (in conn_nread) writes nothing until it completes,
   * so the connection holds the replies queued before it.
   */
  holding = false;

  /**
   * Set by a command that memcached answers with an immediate write: the classic get family
   * (measured on 1.6.18; `mg` and `ms` do not write at once).
   */
  private wrote = false;

  /** How much of `out` may be written now; the rest waits for the half read data block. */
  writable(): number {
    if (!this.holding || this.closing) return this.out.len;
    const n = this.delivered;
    this.delivered = 0;
    return n;
  }

  /** After each completed command; `wrote` when the command itself wrote (the get family). */
  private done(wrote: boolean): void {
    if (wrote) {
      this.pending = false;
      this.delivered = this.out.len;
    } else this.pending = true;
    if (--this.budget >= 0) return;
    this.pending = false;
    this.delivered = this.out.len;
    this.yieldEvent();
  }

  private yieldEvent(): void {
    this.ctx.counters.connYields++;
    this.budget = this.ctx.settings.reqsPerEvent - 1;
  }

  /** No complete command left: memcached writes what is queued, unless a data block is pending. */
  private endOfRead(): void {
    this.holding = this.state !== State.line && !this.closing;
    if (this.holding || this.closing || !this.pending) return;
    this.pending = false;
    this.delivered = this.out.len;
    if (--this.budget < 0) this.yieldEvent();
  }

  /** memcached's conn_closing: the connection goes without the replies not yet written. */
  private drop(): void {
    this.out.len = this.delivered;
    this.closing = true;
  }

  /** memcached's rule for a line with no newline yet: only a (multi-key) get may be long. */
  private checkIncompleteLine(buf: Uint8Array, pos: number, end: number): void {
    const len = end - pos;
    if (len <= MAX_LINE_WITHOUT_NEWLINE) return;
    let p = pos;
    while (p < end && buf[p] === 0x20) p++;
    const isGet =
      p - pos <= 100 &&
      buf[p] === 0x67 &&
      buf[p + 1] === 0x65 &&
      buf[p + 2] === 0x74 &&
      (buf[p + 3] === 0x20 || (buf[p + 3] === 0x73 && buf[p + 4] === 0x20));
    if (!isGet || len > MAX_GET_LINE) this.drop();
  }

  private readValue(buf: Uint8Array, pos: number, end: number): number {
    const e = this.cache.engine;
    const dataLeft = this.remaining - 2;
    if (dataLeft > 0) {
      const n = Math.min(dataLeft, end - pos);
      e.writeValue(this.handle, this.valueLength - dataLeft, buf, pos, pos + n);
      this.remaining -= n;
      return pos + n;
    }
    const n = Math.min(this.remaining, end - pos);
    for (let i = 0; i < n; i++) this.crlf[2 - this.remaining + i] = buf[pos + i];
    this.remaining -= n;
    if (this.remaining === 0) {
      this.state = State.line;
      const h = this.handle;
      this.handle = -1;
      this.sink.complete(this, h, this.crlf[0] === 0x0d && this.crlf[1] === 0x0a);
    }
    return pos + n;
  }

  /** Starts reading a data block of `length` bytes (+ CRLF) into item `h`. */
  readInto(h: number, length: number, sink: ValueSink): void {
    this.handle = h;
    this.valueLength = length;
    this.remaining = length + 2;
    this.sink = sink;
    this.state = State.value;
  }

  /** Discards the next `bytes` bytes (a refused data block). */
  swallow(bytes: number): void {
    this.remaining = bytes;
    this.state = State.swallow;
  }

  /** The connection is closing with a data block half read: give the item back. */
  release(): void {
    if (this.handle >= 0) this.cache.abortStore(this.handle);
    this.handle = -1;
  }

  /** memcached's out_string: a reply line, unless noreply is in force (which it clears). */
  send(line: Uint8Array): void {
    if (this.noreply) {
      this.noreply = false;
      return;
    }
    this.out.bytes(line);
  }

  /** memcached's set_noreply_maybe: the last token being "noreply" suppresses the reply. */
  noreplyMaybe(buf: Uint8Array): boolean {
    const t = this.tokens;
    if (t.is(buf, t.count - 2, "noreply")) this.noreply = true;
    return this.noreply;
  }

  /** End of the line being processed, for re-tokenizing long get lines. */
  private lineEnd = 0;

  private command(buf: Uint8Array, lineStart: number, lineEnd: number): void {
    const t = this.tokens;
    this.noreply = false;
    this.lineEnd = lineEnd;
    t.tokenize(buf, lineStart, lineEnd);
    const n = t.count;
    if (n < 2 || t.length(0) < 2) return this.send(R.error);
    const c0 = buf[t.start[0]];
    const len0 = t.length(0);
    if (c0 === 0x6d && len0 === 2) {
      if (this.meta !== null) return this.meta(this, buf, lineStart, lineEnd);
      return this.send(R.error);
    }
    if (c0 === 0x67) {
      if (n < 3) return this.send(R.error);
      if (t.is(buf, 0, "get")) return this.get(buf, false, false);
      if (t.is(buf, 0, "gets")) return this.get(buf, true, false);
      if (t.is(buf, 0, "gat")) return this.get(buf, false, true);
      if (t.is(buf, 0, "gats")) return this.get(buf, true, true);
      return this.send(R.error);
    }
    if (t.is(buf, 0, "set")) return this.update(buf, StoreMode.set, n === 6 || n === 7);
    if (t.is(buf, 0, "add")) return this.update(buf, StoreMode.add, n === 6 || n === 7);
    if (t.is(buf, 0, "replace")) return this.update(buf, StoreMode.replace, n === 6 || n === 7);
    if (t.is(buf, 0, "append")) return this.update(buf, StoreMode.append, n === 6 || n === 7);
    if (t.is(buf, 0, "prepend")) return this.update(buf, StoreMode.prepend, n === 6 || n === 7);
    if (t.is(buf, 0, "cas")) return this.update(buf, StoreMode.cas, n === 7 || n === 8);
    if (t.is(buf, 0, "delete")) return n >= 3 && n <= 5 ? this.delete(buf) : this.send(R.error);
    if (t.is(buf, 0, "incr")) return n === 4 || n === 5 ? this.arith(buf, true) : this.send(R.error);
    if (t.is(buf, 0, "decr")) return n === 4 || n === 5 ? this.arith(buf, false) : this.send(R.error);
    if (t.is(buf, 0, "touch")) return n === 4 || n === 5 ? this.touch(buf) : this.send(R.error);
    if (t.is(buf, 0, "stats")) return this.stats(buf);
    if (t.is(buf, 0, "shutdown")) return this.shutdown(buf);
    if (t.is(buf, 0, "cache_memlimit")) return n === 3 || n === 4 ? this.memlimit(buf) : this.send(R.error);
    if (t.is(buf, 0, "bget")) return n >= 3 ? this.get(buf, false, false) : this.send(R.error);
    if (t.is(buf, 0, "flush_all")) return n >= 2 && n <= 4 ? this.flushAll(buf) : this.send(R.error);
    if (t.is(buf, 0, "version")) return this.out.ascii(`VERSION ${MEMCACHED_VERSION}\r\n`);
    if (t.is(buf, 0, "quit")) {
      this.closing = true;
      return;
    }
    if (t.is(buf, 0, "verbosity")) return n === 3 || n === 4 ? this.verbosity(buf) : this.send(R.error);
    if (t.is(buf, 0, "lru_crawler")) return lruCrawlerCommand(this, buf);
    if (t.is(buf, 0, "slabs")) return slabsCommand(this, buf);
    if (t.is(buf, 0, "lru")) return lruCommand(this, buf);
    // memcached drops HTTP clients without a word.
    const last = n - 2;
    if (startsWith(buf, t.start[last], t.end[last], "HTTP/")) return this.drop();
    this.send(R.error);
  }

  private key(i: number): boolean {
    return this.tokens.length(i) <= KEY_MAX_LENGTH;
  }

  private get(buf: Uint8Array, withCas: boolean, touch: boolean): void {
    const t = this.tokens;
    const out = this.out;
    const cache = this.cache;
    const e = cache.engine;
    let first = 1;
    let exptime = 0;
    if (touch) {
      if (!parseI32(buf, t.start[1], t.end[1], this.num).ok) return this.send(R.invalidExptime);
      exptime = cache.absoluteExptime(this.num.value);
      first = 2;
    }
    for (;;) {
      const last = t.count - 1;
      for (let i = first; i < last; i++) {
        if (!this.key(i)) {
          // memcached culls every response not yet sent before reporting the bad key.
          out.len = this.delivered;
          return this.send(R.badFormat);
        }
        const h = cache.get(buf, t.start[i], t.end[i], touch, exptime);
        if (this.ctx.prefixStats.enabled) this.ctx.prefixStats.recordGet(buf, t.start[i], t.end[i], h >= 0);
        if (h < 0) continue;
        const vlen = e.valueLength(h);
        out.ensure(6 + KEY_MAX_LENGTH + 48 + vlen);
        out.bytes(R.value);
        out.bytes(buf, t.start[i], t.end[i]);
        out.byte(0x20);
        out.decimal(e.flags(h));
        out.byte(0x20);
        out.decimal(vlen);
        if (withCas) {
          out.byte(0x20);
          out.decimal(e.cas(h));
        }
        out.crlf();
        e.readValue(h, out);
        out.crlf();
      }
      if (t.rest < 0) break;
      // More keys than one tokenization holds: continue with the rest of the line.
      t.tokenize(buf, t.rest, this.lineEnd);
      first = 0;
    }
    out.bytes(R.end);
    this.wrote = true;
  }


  private update(buf: Uint8Array, mode: StoreMode, arity: boolean): void {
    if (!arity) return this.send(R.error);
    const t = this.tokens;
    const cache = this.cache;
    this.noreplyMaybe(buf);
    if (!this.key(1)) return this.send(R.badFormat);
    const num = this.num;
    if (!parseU32(buf, t.start[2], t.end[2], num).ok) return this.send(R.badFormat);
    const flags = num.value;
    if (!parseI32(buf, t.start[3], t.end[3], num).ok) return this.send(R.badFormat);
    const exptime = cache.absoluteExptime(num.value);
    if (!parseI32(buf, t.start[4], t.end[4], num).ok) return this.send(R.badFormat);
    const vlen = num.value;
    let casIn = 0;
    if (mode === StoreMode.cas) {
      const v = parseU64(buf, t.start[5], t.end[5]);
      if (v < 0n) return this.send(R.badFormat);
      casIn = Number(v);
    }
    if (vlen < 0 || vlen > 0x7fff_fffd) return this.send(R.badFormat);
    if (this.ctx.prefixStats.enabled) this.ctx.prefixStats.recordSet(buf, t.start[1], t.end[1]);
    const h = cache.beginStore(mode, buf, t.start[1], t.end[1], flags, exptime, vlen);
    if (h < 0) {
      this.send(h === ALLOC_TOO_LARGE ? R.tooLarge : R.outOfMemoryStoring);
      return this.swallow(vlen + 2);
    }
    this.classicStore.mode = mode;
    this.classicStore.casIn = casIn;
    this.readInto(h, vlen, this.classicStore);
  }

  private delete(buf: Uint8Array): void {
    const t = this.tokens;
    const n = t.count;
    if (n > 3) {
      const holdIsZero = t.is(buf, 2, "0");
      const setsNoreply = this.noreplyMaybe(buf);
      const valid = (n === 4 && (holdIsZero || setsNoreply)) || (n === 5 && holdIsZero && setsNoreply);
      if (!valid) return this.send(R.deleteUsage);
    }
    if (!this.key(1)) return this.send(R.badFormat);
    if (this.ctx.prefixStats.enabled) this.ctx.prefixStats.recordDelete(buf, t.start[1], t.end[1]);
    this.send(this.cache.delete(buf, t.start[1], t.end[1]) === DeleteResult.deleted ? R.deleted : R.notFound);
  }

  private arith(buf: Uint8Array, incr: boolean): void {
    const t = this.tokens;
    this.noreplyMaybe(buf);
    if (!this.key(1)) return this.send(R.badFormat);
    const delta = parseU64(buf, t.start[2], t.end[2]);
    if (delta < 0n) return this.send(R.invalidDelta);
    const r = this.cache.arith(buf, t.start[1], t.end[1], incr, delta, 0);
    switch (r.code) {
      case ArithResult.ok:
        if (this.noreply) {
          this.noreply = false;
          return;
        }
        this.out.ascii(r.value.toString());
        this.out.crlf();
        return;
      case ArithResult.notFound:
        return this.send(R.notFound);
      case ArithResult.nonNumeric:
        return this.send(R.nonNumeric);
      default:
        return this.send(R.outOfMemory);
    }
  }

  private touch(buf: Uint8Array): void {
    const t = this.tokens;
    this.noreplyMaybe(buf);
    if (!this.key(1)) return this.send(R.badFormat);
    if (!parseI32(buf, t.start[2], t.end[2], this.num).ok) return this.send(R.invalidExptime);
    const exptime = this.cache.absoluteExptime(this.num.value);
    this.send(this.cache.touch(buf, t.start[1], t.end[1], exptime) ? R.touched : R.notFound);
  }

  private flushAll(buf: Uint8Array): void {
    const t = this.tokens;
    this.noreplyMaybe(buf);
    if (this.ctx.settings.disableFlush) {
      this.ctx.counters.cmdFlush++;
      return this.send(R.flushNotAllowed);
    }
    let delay = 0;
    if (t.count !== (this.noreply ? 3 : 2)) {
      if (!parseI32(buf, t.start[1], t.end[1], this.num).ok) {
        this.ctx.counters.cmdFlush++;
        return this.send(R.invalidExptime);
      }
      delay = this.num.value;
    }
    this.cache.flushAll(delay);
    this.send(R.ok);
  }

  private verbosity(buf: Uint8Array): void {
    const t = this.tokens;
    this.noreplyMaybe(buf);
    if (!parseU32(buf, t.start[1], t.end[1], this.num).ok) return this.send(R.badFormat);
    this.ctx.verbosity = Math.min(this.num.value, 3);
    this.send(R.ok);
  }

  private memlimit(buf: Uint8Array): void {
    const t = this.tokens;
    this.noreplyMaybe(buf);
    if (!parseU32(buf, t.start[1], t.end[1], this.num).ok) return this.send(R.error);
    const mb = this.num.value;
    if (mb < 8) return this.send(R.memlimitTooSmall);
    if (mb > 1_000_000_000) return this.send(R.memlimitMegabytes);
    this.cache.engine.setLimitBytes(mb * 1024 * 1024);
    this.send(R.ok);
  }

  private shutdown(buf: Uint8Array): void {
    const t = this.tokens;
    if (!this.ctx.settings.enableShutdown) return this.send(R.shutdownDisabled);
    if (t.count === 2) {
      this.closing = true;
      this.ctx.shutdown(false);
    } else if (t.count === 3 && t.is(buf, 1, "graceful")) {
      this.closing = true;
      this.ctx.shutdown(true);
    } else this.send(R.shutdownBadMode);
  }

  private stats(buf: Uint8Array): void {
    const t = this.tokens;
    if (t.count === 2) {
      writeStats(this.ctx, "", this.out);
      return;
    }
    const sub = this.tokenString(buf, 1);
    if (sub === "reset") {
      this.cache.resetStats();
      this.ctx.loopDelay.reset();
      this.ctx.prefixStats.clear();
      return this.send(R.reset);
    }
    if (sub === "detail") return this.statsDetail(t.count < 4 ? "" : this.tokenString(buf, 2));
    if (sub === "cachedump") return this.cachedump(buf);
    if (!writeStats(this.ctx, sub, this.out)) this.send(R.error);
  }

  private tokenString(buf: Uint8Array, i: number): string {
    return Buffer.from(buf.buffer, buf.byteOffset + this.tokens.start[i], this.tokens.length(i)).toString("latin1");
  }

  private statsDetail(sub: string): void {
    const prefix = this.ctx.prefixStats;
    if (sub === "on" || sub === "off") {
      prefix.enabled = sub === "on";
      return this.send(R.ok);
    }
    if (sub === "dump") return this.out.ascii(prefix.dump());
    this.send(R.detailUsage);
  }

  /** `stats cachedump <class> <limit>`: keys of one slab class (limit 0 = all). */
  private cachedump(buf: Uint8Array): void {
    const t = this.tokens;
    if (t.count < 5) return this.send(R.badCommandLine);
    const num = this.num;
    if (!parseU32(buf, t.start[2], t.end[2], num).ok) return this.send(R.badFormat);
    const id = num.value;
    if (!parseU32(buf, t.start[3], t.end[3], num).ok) return this.send(R.badFormat);
    const limit = num.value;
    if (id >= MAX_SLAB_CLASSES) return this.send(R.illegalSlabId);
    const e = this.cache.engine;
    let shown = 0;
    e.forEach((h) => {
      if (e.slabClass(h) !== id || (limit !== 0 && shown >= limit) || this.cache.isDead(h)) return;
      shown++;
      const key = Buffer.from(e.keyBuffer(h).subarray(e.keyStart(h), e.keyStart(h) + e.keyLength(h))).toString("latin1");
      const exp = e.exptime(h);
      this.out.ascii(`ITEM ${key} [${e.valueLength(h)} b; ${exp} s]\r\n`);
    });
    this.out.bytes(R.end);
  }
}

function startsWith(buf: Uint8Array, start: number, end: number, s: string): boolean {
  if (end - start < s.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Completion of set/add/replace/append/prepend/cas: the pending command, kept while its data block is read. */
class ClassicStore implements ValueSink {
  mode: StoreMode = StoreMode.set;
  casIn = 0;

  complete(s: TextSession, h: number, valid: boolean): void {
    const cache = s.cache;
    if (!valid) {
      cache.rejectStore(h);
      return s.send(R.badDataChunk);
    }
    const result = cache.commitStore(h, this.mode, this.casIn, false);
    if (result > 0) return s.send(R.stored);
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
