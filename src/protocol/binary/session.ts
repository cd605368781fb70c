import type { ServerContext } from "../../server/context.ts";
import { ArithResult, type Cache, DeleteResult, StoreMode, StoreResult } from "../../store/cache.ts";
import { ALLOC_NO_MEMORY_DATA, ALLOC_TOO_LARGE } from "../../store/engine.ts";
import { MEMCACHED_VERSION } from "../../version.ts";
import type { OutBuffer } from "../out-buffer.ts";
import { AFTER_DRAIN, OUT_HIGH_WATER, type ProtocolSession } from "../session.ts";
import { KEY_MAX_LENGTH } from "../text/session.ts";
import { MAX_MECH_LENGTH, MECHANISMS, checkPlain, isPlain } from "./sasl.ts";
import { WritePoints } from "../write-points.ts";
import { binaryStats } from "./stats.ts";
import { HEADER_LENGTH, LOUD_FORM, Opcode, REQUEST_MAGIC, Status, error, header, readCas, readU16, readU32, u32, u64 } from "./wire.ts";

const State = { header: 0, value: 1, swallow: 2, saslData: 3 } as const;
type State = (typeof State)[keyof typeof State];

const VERSION = Buffer.from(MEMCACHED_VERSION);
const AUTHENTICATED = Buffer.from("Authenticated");
/** out_of_memory()'s texts in the binary protocol: the text reply without "SERVER_ERROR ". */
const NO_MEMORY_STORING = Buffer.from("Out of memory allocating item");
const NO_MEMORY_READING = Buffer.from("Out of memory during read");
const NO_MEMORY_INCR = Buffer.from("Out of memory incrementing value");
const NO_MEMORY_CREATE = Buffer.from("Out of memory allocating new item");
/** incr/decr's expiration that means "do not create the item on a miss". */
const NO_CREATE = 0xffff_ffff;
/**
 * A SASL message is read whole before it is checked, as memcached reads it into an item. PLAIN
 * needs two names and a password; longer messages are read past and refused.
 */
const MAX_SASL_MESSAGE = 1024;

/**
 * One connection's binary protocol (memcached's proto_bin.c): reads 24-byte request headers
 * and their extras and key from the bytes it is given, reads values straight into item memory,
 * and appends every response to `out`. Quiet commands answer only failures (and GETQ hits), so
 * their responses batch until a loud command; all of them go out once per read event. A
 * request whose header, extras and key are not all here yet is left unconsumed: the caller
 * presents those bytes again with the next read (at most 24 + 255 + 65535 of them).
 */
export class BinarySession implements ProtocolSession {
  private readonly ctx: ServerContext;
  private readonly cache: Cache;
  private readonly out: OutBuffer;
  closing = false;
  producer: ((out: OutBuffer) => boolean) | null = null;
  lastCommandAt: number;
  private state: State = State.header;
  private parsing = false;
  private fresh = true;

  // The request being served.
  private opcode = 0;
  private opaque = 0;
  private quiet = false;
  /** Bytes still to read into the value (or the SASL message), or to swallow. */
  private remaining = 0;
  private handle = -1;
  private valueLength = 0;
  private mode: StoreMode = StoreMode.set;
  private casIn = 0;

  // SASL (-S).
  private authenticated = false;
  /** memcached's sasl_started: a PLAIN AUTH without data waits for the message in a STEP. */
  private saslStarted = false;
  private saslAwaitsMessage = false;
  private readonly saslMessage = Buffer.alloc(MAX_SASL_MESSAGE);
  private saslLength = 0;
  private saslTooLong = false;
  private saslMechIsPlain = false;

  /** memcached's write points; a transport that frames replies (UDP) sets `writes.framer`. */
  readonly writes: WritePoints;
  /** The current request's reply was written at once (memcached's conn_mwrite). */
  private wroteAtOnce = false;

  constructor(ctx: ServerContext, out: OutBuffer) {
    this.ctx = ctx;
    this.cache = ctx.cache;
    this.out = out;
    this.lastCommandAt = ctx.cache.now();
    this.writes = new WritePoints(out, ctx.counters, ctx.settings.reqsPerEvent);
  }

  consume(buf: Uint8Array, start: number, end: number): number {
    this.lastCommandAt = this.cache.now();
    this.parsing = true;
    this.fresh = false;
    this.writes.startRead();
    const pos = this.parse(buf, start, end);
    this.writes.endRead(this.state !== State.header, this.closing);
    this.parsing = false;
    return pos;
  }

  writable(): number {
    return this.writes.writable(this.closing);
  }

  /** Bytes of the value, SASL message or swallowed body still expected; 0 between requests. */
  blockRemaining(): number {
    return this.state === State.header ? 0 : this.remaining;
  }

  connState(): string {
    if (this.parsing) return "conn_parse_cmd";
    if (this.state === State.value || this.state === State.saslData) return "conn_nread";
    if (this.state === State.swallow) return "conn_swallow";
    return this.fresh ? "conn_new_cmd" : "conn_read";
  }

  release(): void {
    if (this.handle >= 0) this.cache.abortStore(this.handle);
    this.handle = -1;
  }

  private parse(buf: Uint8Array, start: number, end: number): number {
    let pos = start;
    while (pos < end && !this.closing) {
      if (this.state !== State.header) {
        pos = this.readBody(buf, pos, end);
        if ((this.state as State) === State.header) this.done();
        continue;
      }
      if (end - pos < HEADER_LENGTH) return pos;
      if (this.out.len > OUT_HIGH_WATER) {
        this.producer = AFTER_DRAIN;
        return pos;
      }
      if (buf[pos] !== REQUEST_MAGIC) {
        // memcached closes at once (conn_closing), losing what it had not written yet.
        this.writes.dropUnwritten();
        this.closing = true;
        return end;
      }
      const extLength = buf[pos + 4];
      const keyLength = readU16(buf, pos + 2);
      const keyStart = pos + HEADER_LENGTH + extLength;
      if (end - keyStart < keyLength) return pos;
      this.request(buf, pos, extLength, keyStart, keyLength);
      pos = keyStart + keyLength;
      if (this.state === State.header && !this.closing) this.done();
    }
    return pos;
  }

  /** The rest of a request's body: a value, a SASL message or bytes to swallow. */
  private readBody(buf: Uint8Array, pos: number, end: number): number {
    if (this.state === State.value) return this.readValue(buf, pos, end);
    if (this.state === State.saslData) return this.readSaslMessage(buf, pos, end);
    const n = Math.min(this.remaining, end - pos);
    this.remaining -= n;
    if (this.remaining === 0) this.state = State.header;
    return pos + n;
  }

  /** The reply is written at once (memcached's conn_mwrite). */
  private writeNow(): void {
    this.writes.written();
    this.wroteAtOnce = true;
  }

  /** After each request (memcached's conn_new_cmd). */
  private done(): void {
    this.writes.done(this.wroteAtOnce);
    this.wroteAtOnce = false;
  }

  private fail(status: Status, text?: Uint8Array): void {
    error(this.out, this.opcode, status, this.opaque, text);
  }

  /** write_bin_error without a swallow: memcached writes it at once. */
  private failNow(status: Status, text?: Uint8Array): void {
    this.fail(status, text);
    this.writeNow();
  }

  /** An error after which memcached closes the connection (close_after_write). */
  private failAndClose(status: Status): void {
    this.fail(status);
    this.closing = true;
  }

  /**
   * write_bin_error with a swallow: the next `bytes` are read and dropped, and the reply waits
   * for the next write; with nothing to swallow memcached writes it at once.
   */
  private failAndSwallow(status: Status, bytes: number, text?: Uint8Array): void {
    this.fail(status, text);
    if (bytes <= 0) return this.writeNow();
    this.remaining = bytes;
    this.state = State.swallow;
  }

  /** memcached's write_bin_response: quiet commands succeed silently. */
  private succeed(extLength: number, keyLength: number, bodyLength: number, cas: number): boolean {
    if (this.quiet) return false;
    header(this.out, this.opcode, Status.ok, extLength, keyLength, bodyLength, this.opaque, cas);
    return true;
  }

  /** memcached's dispatch_bin_command: checks the lengths each command allows, then runs it. */
  private request(buf: Uint8Array, at: number, extLength: number, keyStart: number, keyLength: number): void {
    // One response object per request; a quiet request's stays empty, and memcached sends it so.
    this.writes.framer?.start(true);
    const opcode = buf[at + 1];
    const bodyLength = readU32(buf, at + 8);
    this.opcode = opcode;
    this.opaque = readU32(buf, at + 12);
    const cas = readCas(buf, at + 16);
    if (keyLength + extLength > bodyLength) return this.failAndClose(Status.unknownCommand);
    const sasl = this.ctx.settings.sasl;
    if (sasl && !this.authenticated && !(opcode === Opcode.version || (opcode >= Opcode.saslListMechs && opcode <= Opcode.saslStep))) {
      return this.failAndClose(Status.authError);
    }
    if (keyLength > KEY_MAX_LENGTH) return this.failAndClose(Status.invalidArguments);
    const loud = LOUD_FORM[opcode];
    this.quiet = loud >= 0;
    const cmd = loud >= 0 ? loud : opcode;
    const ext = at + HEADER_LENGTH;
    const keyEnd = keyStart + keyLength;
    const valueLength = bodyLength - keyLength - extLength;
    let valid = true;
    switch (cmd) {
      case Opcode.version:
        valid = bodyLength === 0;
        if (valid && this.succeed(0, 0, VERSION.length, 0)) this.out.bytes(VERSION);
        break;
      case Opcode.flush:
        valid = keyLength === 0 && valueLength === 0 && (extLength === 0 || extLength === 4);
        if (valid) this.flush(extLength === 4 ? readU32(buf, ext) : 0);
        break;
      case Opcode.noop:
        valid = bodyLength === 0;
        if (valid) {
          this.succeed(0, 0, 0, 0);
          this.writeNow();
        }
        break;
      case Opcode.set:
      case Opcode.add:
      case Opcode.replace:
        valid = extLength === 8 && keyLength !== 0 && bodyLength >= keyLength + 8;
        if (valid) this.update(buf, cmd, keyStart, keyEnd, readU32(buf, ext), readU32(buf, ext + 4), valueLength, cas);
        break;
      case Opcode.append:
      case Opcode.prepend:
        valid = keyLength > 0 && extLength === 0;
        if (valid) this.appendOrPrepend(buf, cmd, keyStart, keyEnd, valueLength, cas);
        break;
      case Opcode.get:
      case Opcode.getk:
        valid = extLength === 0 && valueLength === 0 && keyLength > 0;
        if (valid) this.get(buf, cmd, keyStart, keyEnd, false, 0);
        break;
      case Opcode.touch:
      case Opcode.gat:
      case Opcode.gatk:
        valid = extLength === 4 && keyLength !== 0;
        if (valid) this.get(buf, cmd, keyStart, keyEnd, true, readU32(buf, ext));
        break;
      case Opcode.delete:
        valid = keyLength > 0 && extLength === 0 && valueLength === 0;
        if (valid) this.delete(buf, keyStart, keyEnd, cas);
        break;
      case Opcode.increment:
      case Opcode.decrement:
        valid = keyLength > 0 && extLength === 20 && valueLength === 0;
        if (valid) this.arith(buf, cmd === Opcode.increment, keyStart, keyEnd, ext, cas);
        break;
      case Opcode.stat:
        valid = extLength === 0;
        if (valid) this.stats(buf, keyStart, keyEnd);
        break;
      case Opcode.quit:
        valid = bodyLength === 0;
        if (valid) {
          this.succeed(0, 0, 0, 0);
          this.closing = true;
        }
        break;
      case Opcode.saslListMechs:
        valid = bodyLength === 0;
        if (valid && !sasl) return this.failNow(Status.unknownCommand);
        if (valid && this.succeed(0, 0, MECHANISMS.length, 0)) this.out.bytes(MECHANISMS);
        break;
      case Opcode.saslAuth:
      case Opcode.saslStep:
        valid = extLength === 0 && keyLength !== 0;
        if (valid) this.saslStart(buf, keyStart, keyLength, bodyLength - keyLength);
        break;
      default:
        // memcached swallows the whole body length after the extras and key it already read.
        return this.failAndSwallow(Status.unknownCommand, bodyLength);
    }
    if (!valid) this.failAndClose(Status.invalidArguments);
  }

  /**
   * While the persistence log cannot be written, commands that would change the store fail
   * with "temporary failure" and the reason (the text protocol's SERVER_ERROR); a value that
   * follows is read and dropped. True when refused.
   */
  private refused(valueLength: number): boolean {
    const err = this.ctx.persistence?.refusal ?? null;
    if (err === null) return false;
    this.failAndSwallow(Status.temporaryFailure, valueLength, Buffer.from(`Writes refused, the log cannot be written: ${err.message}`, "latin1"));
    return true;
  }

  private flush(delay: number): void {
    if (this.ctx.settings.disableFlush) return this.failNow(Status.authError);
    if (this.refused(0)) return;
    this.cache.flushAll(delay);
    this.succeed(0, 0, 0, 0);
  }

  /** GET, GETK, TOUCH, GAT, GATK and their quiet forms (memcached's process_bin_get_or_touch). */
  private get(buf: Uint8Array, cmd: number, keyStart: number, keyEnd: number, touch: boolean, exptime: number): void {
    if (touch && this.refused(0)) return;
    const cache = this.cache;
    const out = this.out;
    const h = cache.get(buf, keyStart, keyEnd, touch, touch ? cache.absoluteExptime(exptime) : 0);
    if (this.ctx.prefixStats.enabled) this.ctx.prefixStats.recordGet(buf, keyStart, keyEnd, h >= 0);
    const withKey = cmd === Opcode.getk || cmd === Opcode.gatk;
    const keyLength = keyEnd - keyStart;
    if (h < 0) {
      if (this.quiet) return;
      if (!withKey) return this.failNow(Status.keyNotFound);
      header(out, this.opcode, Status.keyNotFound, 0, keyLength, keyLength, this.opaque, 0);
      out.bytes(buf, keyStart, keyEnd);
      return;
    }
    this.writes.holdItem(h);
    const e = cache.engine;
    const valueLength = cmd === Opcode.touch ? 0 : e.valueLength(h);
    const shownKey = withKey ? keyLength : 0;
    out.ensure(HEADER_LENGTH + 4 + shownKey + valueLength);
    header(out, this.opcode, Status.ok, 4, shownKey, 4 + shownKey + valueLength, this.opaque, e.cas(h));
    u32(out, e.flags(h));
    if (withKey) out.bytes(buf, keyStart, keyEnd);
    if (valueLength > 0) e.readValue(h, out);
  }

  /** SET, ADD, REPLACE (+Q): a CAS makes any of them a compare-and-swap, as in memcached. */
  private update(
    buf: Uint8Array,
    cmd: number,
    keyStart: number,
    keyEnd: number,
    flags: number,
    exptime: number,
    valueLength: number,
    cas: number,
  ): void {
    const mode = cas !== 0 ? StoreMode.cas : cmd === Opcode.set ? StoreMode.set : cmd === Opcode.add ? StoreMode.add : StoreMode.replace;
    // memcached drops the old value when a SET (with or without CAS) cannot allocate.
    this.beginStore(buf, mode, keyStart, keyEnd, flags, this.cache.absoluteExptime(exptime), valueLength, cas, cmd === Opcode.set);
  }

  private appendOrPrepend(buf: Uint8Array, cmd: number, keyStart: number, keyEnd: number, valueLength: number, cas: number): void {
    this.beginStore(buf, cmd === Opcode.append ? StoreMode.append : StoreMode.prepend, keyStart, keyEnd, 0, 0, valueLength, cas, false);
  }

  private beginStore(
    buf: Uint8Array,
    mode: StoreMode,
    keyStart: number,
    keyEnd: number,
    flags: number,
    exptime: number,
    valueLength: number,
    cas: number,
    dropOld: boolean,
  ): void {
    if (this.refused(valueLength)) return;
    if (this.ctx.prefixStats.enabled) this.ctx.prefixStats.recordSet(buf, keyStart, keyEnd);
    const h = this.cache.beginStore(mode, buf, keyStart, keyEnd, flags, exptime, valueLength, dropOld);
    if (h < 0) {
      if (h === ALLOC_TOO_LARGE) return this.failAndSwallow(Status.tooLarge, valueLength);
      return this.failAndSwallow(Status.outOfMemory, valueLength, h === ALLOC_NO_MEMORY_DATA ? NO_MEMORY_READING : NO_MEMORY_STORING);
    }
    this.mode = mode;
    this.casIn = cas;
    this.handle = h;
    this.valueLength = valueLength;
    this.remaining = valueLength;
    this.state = State.value;
    if (valueLength === 0) this.completeStore();
  }

  private readValue(buf: Uint8Array, pos: number, end: number): number {
    const n = Math.min(this.remaining, end - pos);
    this.cache.engine.writeValue(this.handle, this.valueLength - this.remaining, buf, pos, pos + n);
    this.remaining -= n;
    if (this.remaining === 0) this.completeStore();
    return pos + n;
  }

  /** memcached's complete_update_bin. */
  private completeStore(): void {
    const h = this.handle;
    this.handle = -1;
    this.state = State.header;
    const result = this.cache.commitStore(h, this.mode, this.casIn, false);
    if (result >= 0) {
      this.succeed(0, 0, 0, result);
      return;
    }
    switch (result) {
      case StoreResult.exists:
        return this.failNow(Status.keyExists);
      case StoreResult.notFound:
        return this.failNow(Status.keyNotFound);
      default:
        if (this.mode === StoreMode.add) return this.failNow(Status.keyExists);
        if (this.mode === StoreMode.replace) return this.failNow(Status.keyNotFound);
        return this.failNow(Status.notStored);
    }
  }

  private delete(buf: Uint8Array, keyStart: number, keyEnd: number, cas: number): void {
    if (this.refused(0)) return;
    if (this.ctx.prefixStats.enabled) this.ctx.prefixStats.recordDelete(buf, keyStart, keyEnd);
    switch (this.cache.delete(buf, keyStart, keyEnd, cas)) {
      case DeleteResult.deleted:
        this.succeed(0, 0, 0, 0);
        return;
      case DeleteResult.exists:
        return this.failNow(Status.keyExists);
      default:
        return this.failNow(Status.keyNotFound);
    }
  }

  /** INCREMENT/DECREMENT (+Q): extras are delta, initial value and expiration (memcached's complete_incr_bin). */
  private arith(buf: Uint8Array, incr: boolean, keyStart: number, keyEnd: number, ext: number, cas: number): void {
    if (this.refused(0)) return;
    const b = buf as Buffer;
    const delta = b.readBigUInt64BE(ext);
    const expiration = readU32(buf, ext + 16);
    const cache = this.cache;
    const seed = expiration === NO_CREATE ? null : { initial: b.readBigUInt64BE(ext + 8), exptime: cache.absoluteExptime(expiration) };
    const r = cache.arith(buf, keyStart, keyEnd, incr, delta, cas, seed, this.writes.heldItems());
    switch (r.code) {
      case ArithResult.ok:
      case ArithResult.created:
        if (this.succeed(0, 0, 8, r.cas)) u64(this.out, r.value);
        return;
      case ArithResult.nonNumeric:
        return this.failNow(Status.nonNumeric);
      case ArithResult.casMismatch:
        return this.failNow(Status.keyExists);
      case ArithResult.noMemory:
        return this.failNow(Status.outOfMemory, NO_MEMORY_INCR);
      case ArithResult.noMemoryToCreate:
        return this.failNow(Status.outOfMemory, NO_MEMORY_CREATE);
      default:
        return this.failNow(Status.keyNotFound);
    }
  }

  private stats(buf: Uint8Array, keyStart: number, keyEnd: number): void {
    const key = Buffer.from(buf.buffer, buf.byteOffset + keyStart, keyEnd - keyStart).toString("latin1");
    if (!binaryStats(this.ctx, key, this.out, this.opaque)) this.failNow(Status.keyNotFound);
  }

  /** SASL AUTH and STEP: the mechanism is the key, the message the value, read before it is checked. */
  private saslStart(buf: Uint8Array, keyStart: number, keyLength: number, messageLength: number): void {
    if (!this.ctx.settings.sasl) return this.failAndSwallow(Status.unknownCommand, messageLength);
    if (keyLength > MAX_MECH_LENGTH) return this.failAndSwallow(Status.invalidArguments, messageLength);
    // memcached reads the message into an item and refuses one that would need a chunked item.
    if (keyLength + messageLength + 2 > this.ctx.settings.slabChunkMax) return this.failAndSwallow(Status.outOfMemory, messageLength);
    this.saslMechIsPlain = isPlain(buf.subarray(keyStart, keyStart + keyLength), keyLength);
    this.saslLength = 0;
    this.saslTooLong = messageLength > MAX_SASL_MESSAGE;
    this.remaining = messageLength;
    this.state = State.saslData;
    if (messageLength === 0) this.completeSasl();
  }

  private readSaslMessage(buf: Uint8Array, pos: number, end: number): number {
    const n = Math.min(this.remaining, end - pos);
    if (!this.saslTooLong) (buf as Buffer).copy(this.saslMessage, this.saslLength, pos, pos + n);
    this.saslLength += n;
    this.remaining -= n;
    if (this.remaining === 0) this.completeSasl();
    return pos + n;
  }

  /** memcached's process_bin_complete_sasl_auth, with PLAIN as Cyrus SASL runs it. */
  private completeSasl(): void {
    this.state = State.header;
    // Every attempt starts over: a failed one leaves the connection unauthenticated.
    this.authenticated = false;
    const message = this.saslMessage.subarray(0, this.saslTooLong ? 0 : this.saslLength);
    let ok = false;
    if (this.opcode === Opcode.saslAuth) {
      this.saslStarted = this.saslMechIsPlain;
      this.saslAwaitsMessage = false;
      if (this.saslMechIsPlain && this.saslLength === 0) {
        // PLAIN without an initial response: the client sends the message in a STEP.
        this.saslAwaitsMessage = true;
        header(this.out, this.opcode, Status.authContinue, 0, 0, 0, this.opaque, 0);
        return this.writeNow();
      }
      ok = this.saslMechIsPlain && !this.saslTooLong && checkPlain(this.ctx.settings.saslPwdb, message);
      if (!ok) this.saslStarted = false;
    } else if (this.saslStarted && this.saslAwaitsMessage) {
      this.saslAwaitsMessage = false;
      ok = !this.saslTooLong && checkPlain(this.ctx.settings.saslPwdb, message);
    }
    const c = this.ctx.counters;
    c.authCmds++;
    if (ok) {
      this.authenticated = true;
      if (this.succeed(0, 0, AUTHENTICATED.length, 0)) this.out.bytes(AUTHENTICATED);
      return;
    }
    c.authErrors++;
    this.failNow(Status.authError);
  }
}
