import { copyBytes, withRoom } from "../bytes.ts";
import type { ByteSink } from "../store/engine.ts";
import { writeDecimal } from "./numbers.ts";

/**
 * Item values this long or longer are lent to a reply rather than copied into it, where the
 * connection can write them at once (see `OutBuffer.lend`). A 16 KiB value copied out of
 * item memory, which is cold by then, measured ~10% of the server's CPU per request.
 */
export const LEND_MIN = 8 * 1024;

/** What a `WriteNow` did with the parts it was given. */
export const Wrote = {
  /** Nothing (an earlier write still waits): the caller copies the parts and writes them after it. */
  nothing: 0,
  /** The kernel took every byte: no part is referenced any more. */
  all: 1,
  /**
   * The kernel took some: the rest goes out from the parts themselves as the client reads,
   * so they must not change until then (item memory among them is held: Engine.hold).
   */
  queued: 2,
} as const;
export type Wrote = (typeof Wrote)[keyof typeof Wrote];

/** Writes `parts` in order, after everything written before, with one system call. */
export type WriteNow = (parts: readonly Uint8Array[]) => Wrote;

/**
 * Which reply buffer holds item memory lent to it, if any: only the one whose commands are
 * running, since every read event ends by writing its replies or by copying what it keeps.
 * The store calls `reclaim` before it reuses or rewrites item memory (SlabEngine's
 * `beforeOverwrite`), so a reply never carries bytes written after it was made.
 */
export class LentItems {
  private holder: OutBuffer | null = null;

  lentTo(out: OutBuffer): void {
    if (this.holder !== out) this.reclaim();
    this.holder = out;
  }

  /** Item memory is about to change: every reply holding some of it copies it now. */
  reclaim(): void {
    const h = this.holder;
    this.holder = null;
    h?.keepCopies();
  }

  returned(out: OutBuffer): void {
    if (this.holder === out) this.holder = null;
  }
}

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

  /** Bytes gathered, lent ones included: what the connection would write. */
  get size(): number {
    return this.len + this.lentBytes;
  }

  /**
   * Item memory lent to the next write instead of copied: `lent[i]` goes out right before
   * `buf[lentAt[i]]`. Only a hit's value is lent, and the rest of its reply follows it in
   * `buf`, so a lent part never sits at a write point (see `flush` and `truncate`).
   */
  private readonly lent: Uint8Array[] = [];
  private readonly lentAt: number[] = [];
  /**
   * Lent parts in `lent[0..lentCount)`. The arrays keep their length: setting an array's
   * length goes through V8's runtime and frees its backing store, to be grown again by the
   * next push (~1% of the 16 KB workload's CPU).
   */
  private lentCount = 0;
  private lentBytes = 0;
  /** lent[attachedFrom..] still view item memory; those before are copies. */
  private attachedFrom = 0;
  private lending: { items: LentItems; writeNow: WriteNow } | null = null;

  /** From now on values of LEND_MIN bytes or more given to `items` are lent, then written by `writeNow`. */
  lendTo(items: LentItems, writeNow: WriteNow): void {
    this.lending = { items, writeNow };
  }

  /** Where replies take item values from: copied, or lent when long and lending is on. */
  readonly items: ByteSink = {
    bytes: (src: Uint8Array, start: number, end: number): void => {
      const l = this.lending;
      if (l === null || end - start < LEND_MIN) this.bytes(src, start, end);
      else this.lend(l.items, src.subarray(start, end));
    },
  };

  private lend(items: LentItems, part: Uint8Array): void {
    items.lentTo(this);
    this.lent[this.lentCount] = part;
    this.lentAt[this.lentCount] = this.len;
    this.lentCount++;
    this.lentBytes += part.length;
  }

  /** Lent item memory is copied: it may change before the write. Offsets stay as they are. */
  keepCopies(): void {
    for (let i = this.attachedFrom; i < this.lentCount; i++) this.lent[i] = Buffer.from(this.lent[i]);
    this.attachedFrom = this.lentCount;
    this.lending?.items.returned(this);
  }

  /** Drops everything gathered from byte `n` on, lent parts there included. */
  truncate(n: number): void {
    this.len = n;
    let keep = this.lentCount;
    while (keep > 0 && this.lentAt[keep - 1] >= n) keep--;
    this.dropLent(keep);
  }

  private dropLent(keep: number): void {
    for (let i = keep; i < this.lentCount; i++) {
      this.lentBytes -= this.lent[i].length;
      this.lent[i] = NOTHING;
    }
    this.lentCount = keep;
    if (this.attachedFrom > keep) this.attachedFrom = keep;
    if (keep === this.attachedFrom) this.lending?.items.returned(this);
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

  /** `buf[from..to)`, the same view as last time when `buf`, `from` and `to` are. */
  private viewAfter(from: number, to: number): Buffer {
    if (this.afterOf !== this.buf || this.afterFrom !== from || this.afterTo !== to) {
      this.after = this.buf.subarray(from, to);
      this.afterOf = this.buf;
      this.afterFrom = from;
      this.afterTo = to;
    }
    return this.after;
  }
  private after: Buffer = EMPTY;
  private afterOf: Buffer | null = null;
  private afterFrom = 0;
  private afterTo = 0;

  /**
   * The parts of a write with one lent value: [VALUE line, value, what follows]. A hit on a
   * large value otherwise made three views and an array per request (measured: see README).
   */
  private single: Uint8Array[] = [NOTHING, NOTHING, NOTHING];

  /**
   * Hands the first `upTo` gathered bytes (all by default) to `write` and keeps the rest. `write` returns true when the bytes
   * were fully taken (so the buffer may be reused at once).
   */
  flush(write: (chunk: Buffer) => boolean, upTo = this.len): void {
    if (upTo === 0) return;
    if (this.lentCount > 0 && this.lending !== null) {
      this.flushLent(write, this.lending.writeNow, upTo);
      return;
    }
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
   * `flush` with lent parts: the first `upTo` bytes and the parts lent before them go out in
   * one gathered write. What the kernel does not take at once goes out from the parts as the
   * client reads, item memory held meanwhile (`Wrote.queued`); only when an earlier write
   * still waits are the parts copied and queued behind it. Lent parts kept for later (a data
   * block half read holds them back) are copied: the store may change before then.
   */
  private flushLent(write: (chunk: Buffer) => boolean, writeNow: WriteNow, upTo: number): void {
    let sent = 0;
    while (sent < this.lentCount && this.lentAt[sent] < upTo) sent++;
    let parts: Uint8Array[];
    if (sent === 1) {
      // The usual case, one hit's value: its VALUE line before it, what follows after. The
      // views and the array are the last write's again when they can be (see `single`).
      const at = this.lentAt[0];
      parts = this.single;
      parts[0] = this.view(at);
      parts[1] = this.lent[0];
      parts[2] = this.viewAfter(at, upTo);
    } else {
      parts = [];
      let from = 0;
      for (let i = 0; i < sent; i++) {
        parts.push(this.buf.subarray(from, this.lentAt[i]), this.lent[i]);
        from = this.lentAt[i];
      }
      parts.push(this.buf.subarray(from, upTo));
    }
    let total = upTo;
    for (let i = 0; i < sent; i++) total += this.lent[i].length;
    const wrote = writeNow(parts);
    if (wrote === Wrote.nothing) write(Buffer.concat(parts, total));
    if (parts === this.single) {
      // A write left unfinished reads its parts until it completes: the next one takes a new array.
      if (wrote === Wrote.queued) this.single = [NOTHING, NOTHING, NOTHING];
      else parts[1] = NOTHING;
    }
    if (sent === this.lentCount) this.dropLent(0);
    else {
      // Parts lent past `upTo` stay, moved to the front.
      for (let i = sent; i < this.lentCount; i++) {
        this.lent[i - sent] = this.lent[i];
        this.lentAt[i - sent] = this.lentAt[i] - upTo;
      }
      for (let i = this.lentCount - sent; i < this.lentCount; i++) this.lent[i] = NOTHING;
      this.lentCount -= sent;
      this.lentBytes -= total - upTo;
      this.attachedFrom = Math.max(0, this.attachedFrom - sent);
    }
    if (wrote === Wrote.queued) {
      // The write in flight still reads the replies around the lent parts from `buf`.
      const old = this.buf;
      this.buf = Buffer.allocUnsafe(Math.max(this.initial, this.len - upTo));
      old.copy(this.buf, 0, upTo, this.len);
    } else if (upTo < this.len) this.buf.copyWithin(0, upTo, this.len);
    this.len -= upTo;
    this.keepCopies();
    if (this.len === 0) this.release();
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

/** What a dropped lent part's slot holds instead, so the memory it viewed is not kept alive. */
const NOTHING = new Uint8Array(0);
const EMPTY = Buffer.alloc(0);

/** Preencodes a constant reply. */
export function reply(s: string): Buffer {
  return Buffer.from(s, "latin1");
}
