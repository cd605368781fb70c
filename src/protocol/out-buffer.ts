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
