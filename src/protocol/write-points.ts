import type { Counters } from "../stats/counters.ts";
import type { OutBuffer } from "./out-buffer.ts";
import type { ReplyFramer } from "./reply-framer.ts";

/**
 * memcached's write points, emulated for the text and binary sessions because they are
 * observable: replies queued after its last write are lost when it drops a connection; while
 * a value is half read (conn_nread, conn_swallow) it writes nothing; its responses hold their
 * items until written (incr then makes a new item rather than change one in place); and it
 * decrements a per-event budget (-R) after each command and after each write it makes on its
 * own, and below zero writes what is queued and yields (counted in conn_yields): the event
 * that resumes the same read starts by decrementing. A new read starts with the full budget.
 */
export class WritePoints {
  private readonly out: OutBuffer;
  private readonly counters: Counters;
  private readonly perEvent: number;
  /** Told when memcached writes or drops what is queued (UDP frames replies by it); null on TCP. */
  framer: ReplyFramer | null = null;
  private budget = 0;
  /** Replies queued since memcached's last write. */
  private pending = false;
  /** Length of `out` at memcached's last write. */
  private delivered = 0;
  /** A data block is half read: the connection holds the replies queued before it. */
  private holding = false;
  /** Items that replies queued since the last write reference: `held[0..heldCount)`. */
  private readonly held: number[] = [];
  private heldCount = 0;
  private readonly isHeld = (h: number): boolean => {
    for (let i = 0; i < this.heldCount; i++) if (this.held[i] === h) return true;
    return false;
  };

  constructor(out: OutBuffer, counters: Counters, reqsPerEvent: number) {
    this.out = out;
    this.counters = counters;
    this.perEvent = reqsPerEvent;
  }

  /** A read begins: what a half-read block held back goes out with it. */
  startRead(): void {
    if (!this.holding) this.written();
    this.budget = this.perEvent;
  }

  /**
   * No complete command left in the read: memcached writes what is queued (which costs one
   * of the budget), unless a data block is half read or the connection is closing.
   */
  endRead(midBlock: boolean, closing: boolean): void {
    this.holding = midBlock && !closing;
    if (this.holding || closing || !this.pending) return;
    this.pending = false;
    this.written();
    if (--this.budget < 0) this.yieldEvent();
  }

  /**
   * memcached reads the rest of a data block that spans reads with reads of exactly its
   * length, so the block's end also ends a read: what is queued is written there, and what
   * follows comes with a new read.
   */
  restartRead(): void {
    this.pending = false;
    this.written();
    this.budget = this.perEvent;
  }

  /** After each command; `wroteAtOnce` when memcached answered it with an immediate write. */
  done(wroteAtOnce: boolean): void {
    if (wroteAtOnce) {
      this.pending = false;
      this.written();
    } else this.pending = true;
    if (--this.budget >= 0) return;
    this.pending = false;
    this.written();
    this.yieldEvent();
  }

  /** memcached writes what is queued: later drops cannot lose it, and replies release their items. */
  written(): void {
    this.framer?.written();
    this.delivered = this.out.len;
    this.heldCount = 0;
  }

  /** How much of `out` the connection may write now; the rest waits for the half-read block. */
  writable(closing: boolean): number {
    if (!this.holding || closing) return this.out.len;
    const n = this.delivered;
    this.delivered = 0;
    return n;
  }

  /** Drops the replies memcached has not written yet (a connection it closes, a get it culls). */
  dropUnwritten(): void {
    this.out.truncate(this.delivered);
    this.framer?.culled();
  }

  /** Whether replies are queued that memcached has not written yet. */
  hasUnwritten(): boolean {
    return this.out.len > this.delivered;
  }

  /** A queued reply references item `h` until the next write. */
  holdItem(h: number): void {
    this.held[this.heldCount++] = h;
  }

  /** Cache.arith's `held` test, or null while no queued reply references an item. */
  heldItems(): ((h: number) => boolean) | null {
    return this.heldCount > 0 ? this.isHeld : null;
  }

  private yieldEvent(): void {
    this.counters.connYields++;
    this.budget = this.perEvent - 1;
  }
}
