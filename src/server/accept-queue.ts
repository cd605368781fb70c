import type { Socket } from "node:net";
import type { Counters } from "../stats/counters.ts";

/**
 * `-o no_maxconns_fast`: a client over the limit is not told "Too many open connections"; it
 * waits, connected but unanswered, until another leaves, as in memcached, which then stops
 * accepting (accept fails with EMFILE) and leaves clients in the kernel's listen backlog.
 * Every time accepting stops counts in `listen_disabled_num`, and the time spent so in
 * `time_in_listen_disabled_us`. At most `backlog` (-b) clients wait; the kernel would refuse
 * more.
 */
export class AcceptQueue {
  private readonly waiting: Socket[] = [];
  private readonly counters: Counters;
  private readonly backlog: number;
  /** process.hrtime.bigint() when accepting stopped; null while accepting. */
  private disabledSince: bigint | null = null;

  constructor(counters: Counters, backlog: number) {
    this.counters = counters;
    this.backlog = backlog;
  }

  /** memcached's `accepting_conns`. */
  get accepting(): boolean {
    return this.disabledSince === null;
  }

  /** Microseconds spent not accepting, the current stretch included. */
  get disabledMicros(): number {
    const current = this.disabledSince === null ? 0n : process.hrtime.bigint() - this.disabledSince;
    return this.counters.timeInListenDisabledUs + Number(current / 1000n);
  }

  /** Holds a client that arrived at the limit. */
  hold(socket: Socket): void {
    this.disable();
    if (this.waiting.length >= this.backlog) {
      socket.destroy();
      return;
    }
    this.waiting.push(socket);
    // A client that gives up while waiting leaves the queue.
    socket.once("close", () => {
      const i = this.waiting.indexOf(socket);
      if (i >= 0) this.waiting.splice(i, 1);
    });
  }

  /** A client left: accepting resumes, and the longest-waiting client (if any) takes the slot. */
  next(): Socket | undefined {
    if (this.disabledSince !== null) {
      this.counters.timeInListenDisabledUs += Number((process.hrtime.bigint() - this.disabledSince) / 1000n);
      this.disabledSince = null;
    }
    const socket = this.waiting.shift();
    // More are waiting: the server is full again at once, as memcached's next accept hits EMFILE.
    if (this.waiting.length > 0) this.disable();
    return socket;
  }

  /** Drops every waiting client (the server stops). */
  clear(): void {
    for (const s of this.waiting.splice(0)) s.destroy();
  }

  private disable(): void {
    if (this.disabledSince !== null) return;
    this.disabledSince = process.hrtime.bigint();
    this.counters.listenDisabledNum++;
  }
}
