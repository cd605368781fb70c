import { copyBytes, withRoom } from "../bytes.ts";
import { PERSISTED_BITS } from "../store/cache.ts";
import type { ByteSink, Engine } from "../store/engine.ts";
import { crc32c } from "./crc32c.ts";
import {
  ATTR_HEADER_BYTES,
  AttrField,
  BASE_BEGIN_BYTES,
  BASE_END_BYTES,
  BaseBeginField,
  BaseEndField,
  DELETE_HEADER_BYTES,
  DeleteField,
  FLUSH_BYTES,
  FRAME_HEADER_BYTES,
  FlushField,
  ITEM_HEADER_BYTES,
  ItemField,
  RecordType,
  writeU32,
  writeU64,
} from "./format.ts";

/**
 * Framed records (see format.ts) encoded straight from item memory into one growing buffer,
 * which a writer takes whole (`take`) and hands back once written (`recycle`), so appending
 * allocates nothing in the steady state.
 */
export class RecordBuffer implements ByteSink {
  buf: Buffer;
  len = 0;
  /** Buffers handed back by `recycle`, reused by `take` (two: one can be in flight while one fills). */
  private readonly spares: Buffer[] = [];
  private readonly initial: number;

  constructor(initial = 64 * 1024) {
    this.initial = initial;
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(extra: number): void {
    this.buf = withRoom(this.buf, this.len, this.len + extra);
  }

  /** Reserves a frame of `payload` bytes; returns where the payload starts. */
  private begin(payload: number): number {
    this.ensure(FRAME_HEADER_BYTES + payload);
    const p = this.len + FRAME_HEADER_BYTES;
    const b = this.buf;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = 0;
    return p;
  }

  /** Seals the frame whose payload starts at `p` and ends at `this.len`. */
  private end(p: number): void {
    const n = this.len - p;
    writeU32(this.buf, p - 8, n);
    writeU32(this.buf, p - 4, crc32c(this.buf, p, this.len));
  }

  /** ByteSink: appends value bytes (Engine.readValue delivers them here). */
  bytes(src: Uint8Array, start: number, end: number): void {
    copyBytes(src, start, end, this.buf, this.len);
    this.len += end - start;
  }

  /** The whole state of item `h`. */
  item(e: Engine, h: number): void {
    const klen = e.keyLength(h);
    const p = this.begin(ITEM_HEADER_BYTES + klen + e.valueLength(h));
    const b = this.buf;
    b[p] = RecordType.item;
    b[p + ItemField.bits] = e.bits(h) & PERSISTED_BITS;
    b[p + ItemField.keyLength] = klen;
    writeU32(b, p + ItemField.flags, e.flags(h));
    writeU32(b, p + ItemField.exptime, e.exptime(h));
    writeU32(b, p + ItemField.time, e.time(h));
    writeU64(b, p + ItemField.cas, e.cas(h));
    const ks = e.keyStart(h);
    copyBytes(e.keyBuffer(h), ks, ks + klen, b, p + ItemField.key);
    this.len = p + ItemField.key + klen;
    e.readValue(h, this);
    this.end(p);
  }

  /** Item `h`'s key is gone. */
  delete(e: Engine, h: number): void {
    const klen = e.keyLength(h);
    const p = this.begin(DELETE_HEADER_BYTES + klen);
    this.buf[p] = RecordType.delete;
    this.buf[p + DeleteField.keyLength] = klen;
    const ks = e.keyStart(h);
    copyBytes(e.keyBuffer(h), ks, ks + klen, this.buf, p + DeleteField.key);
    this.len = p + DeleteField.key + klen;
    this.end(p);
  }

  /** Item `h`'s exptime, CAS and bits. */
  attrs(e: Engine, h: number): void {
    const klen = e.keyLength(h);
    const p = this.begin(ATTR_HEADER_BYTES + klen);
    const b = this.buf;
    b[p] = RecordType.attr;
    b[p + AttrField.bits] = e.bits(h) & PERSISTED_BITS;
    b[p + AttrField.keyLength] = klen;
    writeU32(b, p + AttrField.exptime, e.exptime(h));
    writeU64(b, p + AttrField.cas, e.cas(h));
    const ks = e.keyStart(h);
    copyBytes(e.keyBuffer(h), ks, ks + klen, b, p + AttrField.key);
    this.len = p + AttrField.key + klen;
    this.end(p);
  }

  flush(oldestLive: number, oldestCas: number): void {
    const p = this.begin(FLUSH_BYTES);
    this.buf.fill(0, p, p + FLUSH_BYTES);
    this.buf[p] = RecordType.flush;
    writeU32(this.buf, p + FlushField.oldestLive, oldestLive);
    writeU64(this.buf, p + FlushField.oldestCas, oldestCas);
    this.len = p + FLUSH_BYTES;
    this.end(p);
  }

  baseBegin(takenAt: number, casCounter: number, oldestLive: number, oldestCas: number): void {
    const p = this.begin(BASE_BEGIN_BYTES);
    this.buf.fill(0, p, p + BASE_BEGIN_BYTES);
    this.buf[p] = RecordType.baseBegin;
    writeU32(this.buf, p + BaseBeginField.takenAt, takenAt);
    writeU64(this.buf, p + BaseBeginField.casCounter, casCounter);
    writeU32(this.buf, p + BaseBeginField.oldestLive, oldestLive);
    writeU64(this.buf, p + BaseBeginField.oldestCas, oldestCas);
    this.len = p + BASE_BEGIN_BYTES;
    this.end(p);
  }

  baseEnd(itemCount: number): void {
    const p = this.begin(BASE_END_BYTES);
    this.buf.fill(0, p, p + BASE_END_BYTES);
    this.buf[p] = RecordType.baseEnd;
    writeU64(this.buf, p + BaseEndField.itemCount, itemCount);
    this.len = p + BASE_END_BYTES;
    this.end(p);
  }

  /**
   * Hands over everything appended so far (`buf[0..len)` of the returned buffer) and starts
   * empty. The caller gives the buffer back with `recycle` once it is written.
   */
  take(): Buffer {
    const full = this.buf.subarray(0, this.len);
    this.buf = this.spares.pop() ?? Buffer.allocUnsafe(this.initial);
    this.len = 0;
    return full;
  }

  /** Returns a buffer from `take` for reuse; one that grew past max(1 MiB, the initial size) is let go. */
  recycle(b: Buffer): void {
    const whole = Buffer.from(b.buffer, b.byteOffset, b.buffer.byteLength - b.byteOffset);
    if (whole.length <= Math.max(1 << 20, this.initial) && whole.length >= this.initial && this.spares.length < 2) this.spares.push(whole);
  }
}

/** A new file's 16-byte header: magic, generation, CRC of both. */
export function fileHeader(magic: string, generation: number): Buffer {
  const h = Buffer.alloc(16);
  h.write(magic, 0, "latin1");
  writeU32(h, 8, generation);
  writeU32(h, 12, crc32c(h, 0, 12));
  return h;
}
