import { copyBytes, withRoom } from "../bytes.ts";
import { writeDecimal } from "./numbers.ts";

/**
 * Replies produced by one read event, gathered into one buffer and written with one syscall.
 * The buffer is reused across events when the socket took the previous write at once;
 * otherwise the socket still references it and a fresh one is started.
 */
export class OutBuffer {
  buf: Buffer;
  len = 0;
  private readonly initial: number;

  constructor(initial = 16 * 1024) {
    this.initial = initial;
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(extra: number): void {
    this.buf = withRoom(this.buf, this.len, this.len + extra);
  }

  /** Appends a preencoded constant (e.g. "STORED\r\n"). */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    copyBytes(src, start, end, this.buf, this.len);
    this.len += n;
  }

  /**
   * Writes `chunks` in one system call if the socket takes them now, returning how many bytes
   * it took, or -1 when it cannot try (a write still pending, would block, an error the
   * ordinary write will report). Set by a connection that can; null elsewhere (UDP, TLS).
   */
  trySyncWritev: ((chunks: Uint8Array[]) => number) | null = null;

  /** A large value left in item memory, to be written from there at `extAt` (see `reference`). */
  private ext: Uint8Array | null = null;
  private extStart = 0;
  private extEnd = 0;
  private extAt = 0;

  /**
   * Appends src[start..end) by reference where the connection can write it straight from
   * there, as memcached writes values from item memory with sendmsg; otherwise copies. The
   * bytes must not change until the next flush or `materialize`: the session materializes
   * before any other command runs, and a connection that holds its replies back does so too.
   * Copying a 16 KB value cost ~9% of the CPU of a 90% get load on such values.
   */
  reference(src: Uint8Array, start: number, end: number): void {
    if (this.trySyncWritev === null) return this.bytes(src, start, end);
    this.materialize();
    this.ext = src;
    this.extStart = start;
    this.extEnd = end;
    this.extAt = this.len;
  }

  /** `reference` as a ByteSink, for an engine's readValue. */
  readonly referring = { bytes: (src: Uint8Array, start: number, end: number): void => this.reference(src, start, end) };

  /** Copies a referenced value into the buffer at its place. */
  materialize(): void {
    const src = this.ext;
    if (src === null) return;
    this.ext = null;
    const n = this.extEnd - this.extStart;
    this.ensure(n);
    this.buf.copyWithin(this.extAt + n, this.extAt, this.len);
    copyBytes(src, this.extStart, this.extEnd, this.buf, this.extAt);
    this.len += n;
  }

  /** Appends an ASCII/latin1 string; for rare replies (stats, errors with detail). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, "latin1");
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.len++] = c;
  }

  /** Appends a non-negative integer below 2^53 in decimal. */
  decimal(v: number): void {
    this.ensure(16);
    this.len = writeDecimal(this.buf, this.len, v);
  }

  crlf(): void {
    this.ensure(2);
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  /**
   * Views of `buf` handed to the writer, by length modulo 8: a connection's replies tend to
   * repeat their lengths (STORED, hits on same-sized values), and a view is an allocation.
   */
  private readonly views: Buffer[] = [];
  private viewsOf: Buffer | null = null;

  private view(n: number): Buffer {
    if (this.viewsOf !== this.buf) {
      this.views.length = 0;
      this.viewsOf = this.buf;
    }
    const v = this.views[n & 7];
    if (v !== undefined && v.length === n) return v;
    return (this.views[n & 7] = this.buf.subarray(0, n));
  }

  /**
   * Hands the first `upTo` gathered bytes (all by default) to `write` and keeps the rest. `write` returns true when the bytes
   * were fully taken (so the buffer may be reused at once).
   */
  flush(write: (chunk: Buffer) => boolean, upTo = this.len): void {
    if (this.ext !== null) {
      const all = upTo === this.len;
      if (all && this.writeReferenced()) return;
      const at = this.extAt;
      const n = this.extEnd - this.extStart;
      this.materialize();
      if (all) upTo = this.len;
      else if (upTo > at) upTo += n;
    }
    if (upTo === 0) return;
    const old = this.buf;
    const taken = write(this.view(upTo));
    const rest = this.len - upTo;
    this.len = rest;
    if (!taken) {
      this.buf = Buffer.allocUnsafe(Math.max(this.initial, rest, Math.min(old.length, 1 << 20)));
      old.copy(this.buf, 0, upTo, upTo + rest);
    } else if (rest > 0) old.copyWithin(0, upTo, upTo + rest);
    else this.release();
  }

  /**
   * Everything gathered, the referenced value in its place, in one writev if the socket takes
   * it now. True when all of it went; otherwise what did not go is left gathered, copied.
   */
  private writeReferenced(): boolean {
    const ext = this.ext as Uint8Array;
    const chunks = [this.buf.subarray(0, this.extAt), ext.subarray(this.extStart, this.extEnd), this.buf.subarray(this.extAt, this.len)];
    const taken = (this.trySyncWritev as (chunks: Uint8Array[]) => number)(chunks);
    if (taken < 0) return false;
    const total = this.len + this.extEnd - this.extStart;
    if (taken === total) {
      this.ext = null;
      this.len = 0;
      this.release();
      return true;
    }
    this.materialize();
    this.drop(taken);
    return false;
  }

  /**
   * Drops the first `n` gathered bytes, which the caller has copied elsewhere, keeping the
   * memory for the replies that follow: a long reply taken in steps does not shrink and regrow
   * the buffer at every step (a 400 MB reply over UDP made ~60 MB of garbage that way).
   */
  drop(n: number): void {
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
  }

  /** Gives back memory a long reply grew past 1 MiB, once nothing is gathered. */
  release(): void {
    if (this.len === 0 && this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafe(this.initial);
  }
}

/** Preencodes a constant reply. */
export function reply(s: string): Buffer {
  return Buffer.from(s, "latin1");
}
