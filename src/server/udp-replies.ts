/**
 * memcached's UDP framing of replies (memcached.c: build_udp_header, transmit_udp,
 * _transmit_post), measured against memcached 1.6.18:
 *
 * - Every datagram starts with an 8-byte frame header of big-endian u16s: the request id (echoed
 *   from the request), a sequence number, the number of datagrams, and 0.
 * - Each response object (one per command; one per key of a get; one per binary request) is sent
 *   as its own series: sequence numbers from 0, at most 1392 bytes of reply per datagram
 *   (UDP_MAX_PAYLOAD_SIZE 1400 with the header), the count being ceil(bytes / 1392) (capped at
 *   65535; the sequence number wraps).
 * - An empty response object (a get's key that missed, a quiet binary request, quit) goes out as
 *   a header-only datagram with count 0 — but only when it is the first thing memcached sends
 *   since its last write: after a datagram has gone out in the same write, memcached finishes
 *   the empty objects that follow without sending them. Objects whose reply was suppressed
 *   (noreply, a meta q flag) are never sent.
 * - A reply goes to the request id and address of the datagram whose command started it.
 */

import type { RemoteInfo } from "node:dgram";

/** memcached's UDP_HEADER_SIZE. */
export const FRAME_HEADER = 8;
/** memcached's UDP_DATA_SIZE: reply bytes per datagram (UDP_MAX_PAYLOAD_SIZE 1400, header included). */
export const FRAME_PAYLOAD = 1392;
const MAX_COUNT = 0xffff;

/** Where a reply goes: the sender of a request datagram. */
export type Peer = Pick<RemoteInfo, "address" | "port" | "family">;

/** Sends one reply datagram of `buf[start..end)`. */
export type SendFrame = (peer: Peer, id: number, seq: number, count: number, buf: Buffer, start: number, end: number) => void;

const SENT_IF_EMPTY = 1;
/** The first object queued after one of memcached's writes. */
const NEW_WRITE = 2;

/**
 * The response objects of one UDP connection not sent yet, as offsets into its OutBuffer (the
 * session appends the replies there), with the request each belongs to. Transmission is
 * resumable, a bounded number of datagrams at a time, so a huge reply neither blocks the event
 * loop nor piles up copies.
 */
export class ResponseQueue {
  private readonly starts: number[] = [];
  private readonly flags: number[] = [];
  private readonly ids: number[] = [];
  private readonly peers: Peer[] = [];
  private count = 0;
  /** Objects [0, writtenCount) were queued before memcached's last write. */
  private writtenCount = 0;
  /** The next object starts a new write. */
  private newWrite = true;
  /** A datagram has gone out since memcached's last write (see the header comment). */
  private sentInWrite = false;

  // The transmission under way: objects [next, limit) over bytes up to `end`.
  private limit = 0;
  private end = 0;
  private next = 0;
  /** Next byte of object `next` to send; -1 before its first datagram. */
  private offset = -1;
  private seq = 0;
  private frames = 0;

  /** A response object starts at `at` for request `id` from `peer`. */
  start(at: number, id: number, peer: Peer, sentIfEmpty: boolean): void {
    const i = this.count++;
    this.starts[i] = at;
    this.flags[i] = (sentIfEmpty ? SENT_IF_EMPTY : 0) | (this.newWrite ? NEW_WRITE : 0);
    this.ids[i] = id;
    this.peers[i] = peer;
    this.newWrite = false;
  }

  /**
   * memcached writes what is queued. `real` is false where only we pause (a reply past our
   * output bound): memcached goes on with the same write there, so the next object does not
   * start a new one.
   */
  written(real: boolean): void {
    this.writtenCount = this.count;
    if (real) this.newWrite = true;
  }

  /** memcached drops what it has not written; the session has cut its output back to the last write. */
  culled(): void {
    this.count = this.writtenCount;
  }

  /**
   * Starts sending the first `bytes` bytes of output: every object when `all`, else only those
   * queued before memcached's last write (a data block is half read; the rest waits for it).
   */
  begin(bytes: number, all: boolean): void {
    this.limit = all ? this.count : this.writtenCount;
    this.end = bytes;
    this.next = 0;
    this.offset = -1;
  }

  /**
   * Sends at most `budget` datagrams of the transmission begun, reading the replies from `buf`;
   * true once it is complete.
   */
  send(buf: Buffer, budget: number, frame: SendFrame): boolean {
    let sent = 0;
    while (this.next < this.limit && sent < budget) {
      const i = this.next;
      const end = i + 1 < this.limit ? this.starts[i + 1] : this.end;
      if (this.offset < 0) {
        if ((this.flags[i] & NEW_WRITE) !== 0) this.sentInWrite = false;
        const start = this.starts[i];
        if (start === end) {
          if ((this.flags[i] & SENT_IF_EMPTY) !== 0 && !this.sentInWrite) {
            frame(this.peers[i], this.ids[i], 0, 0, buf, start, start);
            sent++;
            this.sentInWrite = true;
          }
          this.next++;
          continue;
        }
        this.offset = start;
        this.seq = 0;
        this.frames = Math.min(Math.ceil((end - start) / FRAME_PAYLOAD), MAX_COUNT);
      }
      const stop = Math.min(this.offset + FRAME_PAYLOAD, end);
      frame(this.peers[i], this.ids[i], this.seq, this.frames, buf, this.offset, stop);
      sent++;
      this.seq = (this.seq + 1) & 0xffff;
      this.offset = stop;
      if (stop === end) {
        this.offset = -1;
        this.next++;
        this.sentInWrite = true;
      }
    }
    return this.next >= this.limit;
  }

  /** Drops the transmission begun instead of sending it. */
  discard(): void {
    this.next = this.limit;
  }

  /** The transmission is over and its bytes leave the OutBuffer: what is left moves to the front. */
  finish(): void {
    const done = this.limit;
    const shift = this.end;
    for (let i = done; i < this.count; i++) {
      const j = i - done;
      this.starts[j] = this.starts[i] - shift;
      this.flags[j] = this.flags[i];
      this.ids[j] = this.ids[i];
      this.peers[j] = this.peers[i];
    }
    this.count -= done;
    this.writtenCount = Math.max(0, this.writtenCount - done);
    this.limit = 0;
    this.next = 0;
  }
}
