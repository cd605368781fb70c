import { StoreMode, StoreResult } from "../../store/cache.ts";
import { ALLOC_NO_MEMORY_DATA, ALLOC_TOO_LARGE } from "../../store/engine.ts";
import { R } from "../text/replies.ts";
import { KEY_MAX_LENGTH, type TextSession, type ValueSink } from "../text/session.ts";
import { type ParsedNumber, parseI32 } from "../numbers.ts";
import { MAX_META_TOKENS, MAX_OPAQUE_TOKEN, type MetaFlags, type MetaKey } from "./flags.ts";
import { Code, M } from "./replies.ts";
import { flagChar, keyToken, setCode } from "./write.ts";

const OP_KEY = 0x6b;
const OP_CAS = 0x63;
const OP_OPAQUE = 0x4f;

/**
 * ms <key> <datalen> <flags>*: memcached's process_mset_command and _finalize_mset. The
 * line is parsed and the item allocated before the data arrives; what the reply must echo
 * (opaque, key, cas, in request order) is kept here, since the request line is gone by the
 * time the data block completes. One instance per connection, reused.
 */
export class MetaSet implements ValueSink {
  private readonly num: ParsedNumber = { ok: false, value: 0 };
  private mode: StoreMode = StoreMode.set;
  private casIn = 0;
  private invalidate = false;
  private quiet = false;
  private keyBinary = false;
  private readonly key = new Uint8Array(256);
  private keyLength = 0;
  /** The reply's echoed tokens in order: OP_KEY, OP_CAS, or OP_OPAQUE, length, bytes. */
  private readonly echo = new Uint8Array(MAX_META_TOKENS * (MAX_OPAQUE_TOKEN + 2));
  private echoLength = 0;

  start(s: TextSession, buf: Uint8Array, f: MetaFlags, key: MetaKey): void {
    const t = s.tokens;
    const out = s.out;
    const n = t.count;
    if (n < 3) return out.bytes(R.error);
    if (t.length(1) > KEY_MAX_LENGTH || n === 3) return out.bytes(M.badFormat);
    if (n > MAX_META_TOKENS) return out.bytes(M.flagsTooLong);
    const num = parseI32(buf, t.start[2], t.end[2], this.num);
    if (!num.ok || num.value < 0 || num.value > 0x7fff_fffd) return out.bytes(M.badFormat);
    const vlen = num.value;
    const cache = s.cache;
    if (!f.parse(buf, t, 3, key, cache)) return this.refuse(s, f.error, vlen);
    const refused = s.writeRefusal();
    if (refused !== null) return this.refuse(s, refused, vlen);

    let error: Uint8Array | null = null;
    let p = 0;
    const echo = this.echo;
    const last = n - 1;
    for (let i = 3; i < last; i++) {
      const st = t.start[i];
      const c = buf[st];
      if (c === 0x4f) {
        const len = t.end[i] - st;
        // memcached finishes the scan (and checks the mode) before reporting this.
        if (len > MAX_OPAQUE_TOKEN) {
          error = M.opaqueTooLong;
          continue;
        }
        echo[p++] = OP_OPAQUE;
        echo[p++] = len;
        for (let j = st; j < st + len; j++) echo[p++] = buf[j];
      } else if (c === 0x6b) echo[p++] = OP_KEY;
      else if (c === 0x63) echo[p++] = OP_CAS;
    }
    this.echoLength = p;

    let mode: StoreMode = StoreMode.set;
    switch (f.mode) {
      case 0:
      case 0x53: // S
        break;
      case 0x45: // E
        mode = StoreMode.add;
        break;
      case 0x41: // A
        mode = StoreMode.append;
        break;
      case 0x50: // P
        mode = StoreMode.prepend;
        break;
      case 0x52: // R
        mode = StoreMode.replace;
        break;
      default:
        return this.refuse(s, M.msBadMode, vlen);
    }
    // A CAS turns set and replace into cas; add ignores it; append/prepend check it themselves.
    if (f.hasCas && (mode === StoreMode.set || mode === StoreMode.replace)) mode = StoreMode.cas;
    if (error !== null) return this.refuse(s, error, vlen);

    const h = cache.beginStore(mode, key.buf, key.start, key.end, f.clientFlags, f.exptime, vlen, true);
    // memcached's read-time failure goes through out_string, which q silences; the others do not.
    if (h === ALLOC_NO_MEMORY_DATA) return f.noReply ? s.swallow(vlen + 2) : this.refuse(s, R.outOfMemoryReading, vlen);
    if (h < 0) return this.refuse(s, h === ALLOC_TOO_LARGE ? R.tooLarge : R.outOfMemoryStoring, vlen);
    if (f.keyBinary) cache.markKeyBinary(h);
    this.mode = mode;
    this.casIn = f.hasCas ? f.reqCas : 0;
    this.invalidate = f.setStale && mode === StoreMode.cas;
    this.quiet = f.noReply;
    this.keyBinary = f.keyBinary;
    this.keyLength = key.length;
    for (let j = 0; j < this.keyLength; j++) this.key[j] = key.buf[key.start + j];
    s.readInto(h, vlen, this);
  }

  /** An error reply; the data block that follows the line is read and dropped. */
  private refuse(s: TextSession, error: Uint8Array, vlen: number): void {
    s.out.bytes(error);
    s.swallow(vlen + 2);
  }

  complete(s: TextSession, h: number, valid: boolean): void {
    const cache = s.cache;
    const out = s.out;
    if (!valid) {
      cache.rejectStore(h);
      return out.bytes(R.badDataChunk);
    }
    const result = cache.commitStore(h, this.mode, this.casIn, this.invalidate);
    const mark = out.len;
    out.bytes(M.hd);
    const echo = this.echo;
    for (let p = 0; p < this.echoLength; ) {
      const op = echo[p++];
      if (op === OP_OPAQUE) {
        const len = echo[p++];
        out.byte(0x20);
        out.bytes(echo, p, p + len);
        p += len;
      } else if (op === OP_KEY) keyToken(out, this.key, 0, this.keyLength, this.keyBinary);
      else {
        flagChar(out, 0x63);
        out.decimal(result >= 0 ? result : 0);
      }
    }
    out.crlf();
    if (result >= 0) {
      if (this.quiet) out.len = mark;
      return;
    }
    switch (result) {
      case StoreResult.exists:
        return setCode(out, mark, Code.EX);
      case StoreResult.notFound:
        return setCode(out, mark, Code.NF);
      default:
        return setCode(out, mark, Code.NS);
    }
  }
}
