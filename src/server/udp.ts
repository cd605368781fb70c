import { type RemoteInfo, type Socket, createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Logger } from "../log.ts";
import { BinarySession } from "../protocol/binary/session.ts";
import { REQUEST_MAGIC } from "../protocol/binary/wire.ts";
import { MetaProtocol } from "../protocol/meta/protocol.ts";
import { OutBuffer } from "../protocol/out-buffer.ts";
import type { ReplyFramer } from "../protocol/reply-framer.ts";
import { TextSession } from "../protocol/text/session.ts";
import type { Persistence } from "../persistence/persistence.ts";
import { type ConnectionInfo, type ServerContext, socketAddress } from "./context.ts";
import { parseListenSpec } from "./listen-spec.ts";
import { FRAME_HEADER, type Peer, ResponseQueue } from "./udp-replies.ts";
import { DatagramSender } from "./udp-send.ts";

/**
 * Request datagrams, and bytes of them, held while the connection is busy (a long reply,
 * replies waiting for the log); more are dropped, as a full socket receive buffer drops them.
 */
export const INBOX_DATAGRAMS = 4096;
export const INBOX_BYTES = 4 << 20;
/** memcached's UDP_READ_BUFFER_SIZE: a datagram is read whole, so no line in it is too long for the buffer. */
const UDP_READ_BUFFER = 64 * 1024;
/** Who the replies go to before any request came. */
const NO_PEER: Peer = { address: "", port: 0, family: "IPv4" };

/** A UDP socket the settings ask for could not be bound (main exits 71, as for TCP). */
export class UdpBindError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

type Session = TextSession | BinarySession;

/**
 * memcached's UDP "connection" on one socket: one state shared by every client, reading a
 * datagram at a time. The frame header picks the request id replies echo and who they go to;
 * the payload's first byte picks the text or binary protocol (whatever -B says, as in
 * memcached); the sessions are the TCP ones, writing into this connection's OutBuffer, and
 * tell `replies` where each response object begins, which frames the replies as memcached does
 * (see udp-replies.ts). memcached serves a socket with several threads, each its own
 * connection; this is one, as memcached with -t 1.
 */
export class UdpConnection implements ReplyFramer {
  private readonly socket: Socket;
  private readonly ctx: ServerContext;
  private readonly log: Logger;
  private readonly out = new OutBuffer();
  private readonly replies = new ResponseQueue();
  private readonly sender: DatagramSender;
  private text: TextSession;
  private binary: BinarySession | null = null;
  /** The session the last request spoke. */
  private current: Session;
  /** The request being served (memcached's request_id and request_addr). */
  private requestId = 0;
  private peer: Peer = NO_PEER;
  private readonly inbox: { msg: Buffer; from: RemoteInfo }[] = [];
  private inboxBytes = 0;
  private busy = false;
  private closed = false;
  /** The session's next write point is ours (a datagram's commands resume after a pause), not memcached's. */
  private resuming = false;
  private readonly local: string;

  constructor(socket: Socket, ctx: ServerContext, log: Logger) {
    this.socket = socket;
    this.ctx = ctx;
    this.log = log;
    const a = socket.address();
    this.local = socketAddress(a.family, a.address, a.port, null, "udp");
    this.sender = new DatagramSender(socket, (bytes) => (ctx.counters.bytesWritten += bytes));
    this.text = this.textSession();
    this.current = this.text;
    socket.on("message", (msg, from) => this.receive(msg, from));
    socket.on("error", (err) => log.debug({ err: err.message, udp: this.local }, "udp socket error"));
  }

  start(sentIfEmpty: boolean): void {
    this.replies.start(this.out.len, this.requestId, this.peer, sentIfEmpty);
  }

  written(): void {
    const ours = this.resuming || this.current.producer !== null;
    this.resuming = false;
    this.replies.written(!ours);
  }

  culled(): void {
    this.replies.culled();
    // memcached's next reply (the get's error) gets a response object of its own.
    this.start(false);
  }

  private receive(msg: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    this.ctx.heartbeat.heard();
    if (this.inbox.length >= INBOX_DATAGRAMS || this.inboxBytes + msg.length > INBOX_BYTES) {
      this.log.debug({ udp: this.local, from: from.address }, "udp request dropped: the connection is busy");
      return;
    }
    this.inbox.push({ msg, from });
    this.inboxBytes += msg.length;
    if (!this.busy) void this.drain();
  }

  /** Serves the datagrams received, in order, one at a time. */
  private async drain(): Promise<void> {
    this.busy = true;
    try {
      for (let d = this.inbox.shift(); d !== undefined && !this.closed; d = this.inbox.shift()) {
        this.inboxBytes -= d.msg.length;
        await this.serve(d.msg, d.from);
      }
      this.out.release();
    } finally {
      this.busy = false;
    }
  }

  private async serve(msg: Buffer, from: RemoteInfo): Promise<void> {
    let session = this.blockPending();
    let start = 0;
    let end = msg.length;
    if (session !== null) {
      // memcached's conn_nread reads the next datagram whole, frame header included and
      // whoever sent it, as more of the data block, and loses what the block does not need.
      // The reply still goes to the request that began the block.
      if (end === 0) return this.abandonBlock(session);
      end = Math.min(end, session.blockRemaining());
      this.ctx.counters.bytesRead += end;
    } else {
      // memcached ignores datagrams of 8 bytes or less and, once counted, requests that
      // announce more than one datagram; the sequence number and reserved field are not read.
      if (msg.length <= FRAME_HEADER) return;
      this.ctx.counters.bytesRead += msg.length;
      if (msg.readUInt16BE(4) !== 1) return;
      this.requestId = msg.readUInt16BE(0);
      this.peer = from;
      session = msg[FRAME_HEADER] === REQUEST_MAGIC ? this.binarySession() : this.text;
      start = FRAME_HEADER;
    }
    this.current = session;
    await this.run(session, msg, start, end);
  }

  /** The session in the middle of a data block, which takes the next datagram as it is. */
  private blockPending(): Session | null {
    if (this.text.blockRemaining() > 0) return this.text;
    if (this.binary !== null && this.binary.blockRemaining() > 0) return this.binary;
    return null;
  }

  private textSession(): TextSession {
    const text = new TextSession(this.ctx, this.out);
    text.meta = new MetaProtocol().handle;
    text.writes.framer = this;
    text.readBuffer = UDP_READ_BUFFER;
    return text;
  }

  private binarySession(): BinarySession {
    if (this.binary === null) {
      this.binary = new BinarySession(this.ctx, this.out);
      this.binary.writes.framer = this;
    }
    return this.binary;
  }

  /**
   * An empty datagram is an end of stream to memcached's read() in the middle of a data block:
   * conn_cleanup drops the block and the replies held with it (all that is left in `out`), and
   * the connection starts afresh.
   */
  private abandonBlock(session: Session): void {
    session.release();
    this.replies.culled();
    this.out.len = 0;
    if (session === this.text) this.text = this.textSession();
    else this.binary = null;
    this.current = this.text;
  }

  /** Runs the commands of buf[start..end) and sends their replies. */
  private async run(session: Session, buf: Buffer, start: number, end: number): Promise<void> {
    let pos = start;
    for (;;) {
      let logged = this.logPosition();
      pos = session.consume(buf, pos, end);
      this.resuming = false;
      const paused = session.producer !== null;
      await this.deliver(session, logged);
      // A reply past our output bound (a get naming many large values) goes on a slice per turn.
      while (session.producer !== null && !this.closed) {
        await nextTurn();
        const producer = session.producer;
        logged = this.logPosition();
        if (producer(this.out)) session.producer = null;
        await this.deliver(session, logged);
      }
      if (session.closing) {
        // memcached's conn_cleanup (quit, a protocol violation): the connection goes back to
        // reading datagrams and the rest of this one is lost. memcached 1.6.18 also leaves
        // quit's close_after_write set, so that afterwards every write of that thread ends the
        // datagram being read: a bug no client can rely on, not copied.
        session.closing = false;
        return;
      }
      // An incomplete line is lost: memcached reads the next datagram over it.
      if (!paused || pos >= end || this.closed) return;
      this.resuming = true;
    }
  }

  private logPosition(): number {
    return this.ctx.persistence?.position ?? 0;
  }

  /**
   * Sends what memcached has written, once the log holds what the commands changed (as the
   * TCP connection does), then drops it from the OutBuffer.
   */
  private async deliver(session: Session, logged: number): Promise<void> {
    const p = this.ctx.persistence;
    const failed = p !== null && p.position !== logged ? await durable(p) : null;
    const bytes = session.writable();
    this.replies.begin(bytes, session.closing || session.blockRemaining() === 0);
    if (failed === null) {
      // A long reply goes a ring of datagrams at a time, other clients served in between.
      while (!this.replies.send(this.out.buf, this.sender.room, this.sender.send) && !this.closed) await this.sender.whenRoom();
    } else {
      // The commands' outcome is unknown: a text client hears the error instead of their replies.
      this.replies.discard();
      if (session === this.text) {
        const text = Buffer.from(`SERVER_ERROR persistence write failed: ${failed.message.replace(/[\r\n]/g, " ")}\r\n`, "latin1");
        while (this.sender.room === 0 && !this.closed) await this.sender.whenRoom();
        if (!this.closed) this.sender.send(this.peer, this.requestId, 0, 1, text, 0, text.length);
      }
    }
    this.replies.finish();
    this.out.drop(bytes);
  }

  /**
   * This connection in `stats conns`. `live` false gives one of memcached's other threads on
   * the same socket, which never get a datagram here.
   */
  info(id: number, live: boolean): ConnectionInfo {
    if (live) return new LiveInfo(id, this);
    return { id, address: this.local, listenAddress: null, lastCommandAt: this.ctx.startedAt, state: "conn_read", readMode: null, udp: true };
  }

  /** memcached's state name: conn_read between datagrams. */
  get state(): string {
    const s = this.current;
    const state = s.connState();
    return state === "conn_parse_cmd" || s.blockRemaining() > 0 ? state : "conn_read";
  }

  /** As memcached shows a UDP connection: its socket while it waits for a datagram, else the client. */
  get address(): string {
    const p = this.peer;
    return this.state === "conn_read" ? this.local : socketAddress(p.family, p.address, p.port, null, "udp");
  }

  get listenAddress(): string | null {
    return this.state === "conn_read" ? null : this.local;
  }

  get lastCommandAt(): number {
    return this.current.lastCommandAt;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.sender.close();
    this.text.release();
    this.binary?.release();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** The connection that serves datagrams, as `stats conns` lists it. */
class LiveInfo implements ConnectionInfo {
  readonly id: number;
  readonly readMode = null;
  readonly udp = true;
  private readonly conn: UdpConnection;

  constructor(id: number, conn: UdpConnection) {
    this.id = id;
    this.conn = conn;
  }

  get state(): string {
    return this.conn.state;
  }

  get address(): string {
    return this.conn.address;
  }

  get listenAddress(): string | null {
    return this.conn.listenAddress;
  }

  get lastCommandAt(): number {
    return this.conn.lastCommandAt;
  }
}

/** Resolves once the log holds everything written so far, with the error if it could not. */
function durable(p: Persistence): Promise<Error | null> {
  return new Promise((resolve) => {
    if (!p.hold(p.position, resolve)) resolve(null);
  });
}

/**
 * Binds the UDP sockets -U asks for, as memcached does: one per -l address, on that entry's
 * port if it names one (the TCP listener's too) else -U's; without -l, 0.0.0.0 and :: (the
 * latter only where the host has IPv6). None with -U 0 or a unix socket (-s).
 */
export async function startUdp(ctx: ServerContext, log: Logger): Promise<UdpConnection[]> {
  const s = ctx.settings;
  if (s.udpPort === 0 || s.socketPath !== null) return [];
  const conns: UdpConnection[] = [];
  try {
    if (s.listen.length === 0) {
      conns.push(new UdpConnection(await bind("0.0.0.0", s.udpPort), ctx, log));
      const any6 = await bind("::", s.udpPort).catch((err: UdpBindError) => {
        if (err.code === "EAFNOSUPPORT" || err.code === "EADDRNOTAVAIL") return null;
        throw err;
      });
      if (any6 !== null) conns.push(new UdpConnection(any6, ctx, log));
    } else {
      for (const entry of s.listen) {
        const spec = parseListenSpec(entry);
        if (spec === null) continue;
        conns.push(new UdpConnection(await bind(spec.host, spec.port ?? s.udpPort), ctx, log));
      }
    }
  } catch (err) {
    await Promise.all(conns.map((c) => c.close()));
    throw err;
  }
  return conns;
}

async function bind(host: string, port: number): Promise<Socket> {
  let family = 4;
  let address = host;
  try {
    ({ address, family } = await lookup(host));
  } catch (err) {
    throw new UdpBindError(`cannot listen on UDP ${host}:${port}: ${(err as Error).message}`, (err as NodeJS.ErrnoException).code);
  }
  // memcached sets IPV6_V6ONLY: an IPv6 socket does not take IPv4 datagrams.
  const socket = createSocket({ type: family === 6 ? "udp6" : "udp4", ipv6Only: family === 6 });
  return new Promise((resolve, reject) => {
    socket.once("error", (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(new UdpBindError(`cannot listen on UDP ${family === 6 ? `[${address}]` : address}:${port}: ${err.message}`, err.code));
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}
