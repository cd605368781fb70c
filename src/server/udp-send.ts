import type { Socket } from "node:dgram";
import { setImmediate as nextTurn } from "node:timers/promises";
import { FRAME_HEADER, FRAME_PAYLOAD, type Peer } from "./udp-replies.ts";

/** Datagrams handed to the socket and not yet sent, at most. */
const SLOTS = 256;
const SLOT = FRAME_HEADER + FRAME_PAYLOAD;

/**
 * Sends reply datagrams out of one reused buffer of SLOTS datagram-sized slots. Node's dgram
 * reads a datagram's memory until the socket has sent it and reports each send in order, so a
 * slot is free again once as many sends have been reported. A reply of any length thus holds
 * at most SLOTS datagrams, and makes no garbage buffer per datagram (a 400 MB reply made ~90 MB
 * of them between collections).
 */
export class DatagramSender {
  private readonly socket: Socket;
  private readonly ring = Buffer.allocUnsafe(SLOTS * SLOT);
  private queued = 0;
  private reported = 0;
  private waiter: (() => void) | null = null;
  private closed = false;
  /** Counts the bytes of every datagram sent (bytes_written). */
  private readonly count: (bytes: number) => void;

  constructor(socket: Socket, count: (bytes: number) => void) {
    this.socket = socket;
    this.count = count;
  }

  /** How many datagrams may be sent now (none once the socket is closed). */
  get room(): number {
    return this.closed ? 0 : SLOTS - (this.queued - this.reported);
  }

  /** Sends `buf[start..end)` behind memcached's frame header; needs `room` > 0. */
  readonly send = (peer: Peer, id: number, seq: number, count: number, buf: Buffer, start: number, end: number): void => {
    const at = (this.queued++ % SLOTS) * SLOT;
    const ring = this.ring;
    ring.writeUInt16BE(id, at);
    ring.writeUInt16BE(seq, at + 2);
    ring.writeUInt16BE(count, at + 4);
    ring.writeUInt16BE(0, at + 6);
    buf.copy(ring, at + FRAME_HEADER, start, end);
    const length = FRAME_HEADER + end - start;
    this.count(length);
    this.socket.send(ring.subarray(at, at + length), peer.port, peer.address, this.sent);
  };

  private readonly sent = (): void => {
    this.reported++;
    if (this.waiter !== null && this.room >= SLOTS / 2) this.wake();
  };

  /**
   * Resolves when datagrams may be sent again: after a turn of the event loop (other clients
   * go first), or once half the ring is free if it is full, or the socket closes.
   */
  whenRoom(): Promise<void> {
    if (this.room > 0 || this.closed) return nextTurn();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The socket is closing: nothing more is sent, and nobody waits for sends it will not report. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
