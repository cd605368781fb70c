import type { Socket } from "node:net";
import type { Logger } from "../log.ts";
import { BinarySession } from "../protocol/binary/session.ts";
import { REQUEST_MAGIC } from "../protocol/binary/wire.ts";
import { MetaProtocol } from "../protocol/meta/protocol.ts";
import { OutBuffer, type WriteNow, Wrote } from "../protocol/out-buffer.ts";
import type { ProtocolSession } from "../protocol/session.ts";
import { AsciiAuth } from "../protocol/text/auth.ts";
import { TextSession } from "../protocol/text/session.ts";
import { type ConnectionInfo, type ServerContext, socketAddress } from "./context.ts";
import { type ReplyWriter, replyWriter } from "./reply-writer.ts";

/**
 * One client connection: feeds what arrives to the protocol session, keeps the incomplete
 * tail of a line for the next read, and writes all replies of one read event at once.
 * A client that does not read its replies stops being read from (no unbounded buffering).
 */
export class Connection implements ConnectionInfo {
  readonly id: number;
  readonly address: string;
  readonly listenAddress: string;
  private readonly socket: Socket;
  private readonly ctx: ServerContext;
  private readonly out = new OutBuffer();
  /** Null until the first byte picks the protocol (memcached's negotiation, -B auto). */
  private session: ProtocolSession | null;
  private readonly acceptedAt: number;
  /**
   * Unconsumed bytes (an incomplete line) carried to the next read, in `tail[0..tailLength)`.
   * The read buffer is shared and reused, so the tail is copied here; the buffer grows only
   * as long as the longest partial line and is kept for the next one.
   */
  private tail: Buffer = EMPTY;
  private tailLength = 0;
  /**
   * How this connection reads: into the shared buffer (`onread`), and then writes straight to
   * the socket's handle too, or through the stream with Node's per-read buffers (`data`).
   */
  readonly readMode: "onread" | "data";
  private readonly writer: ReplyWriter;
  private closed = false;
  private readonly onClose: (c: Connection) => void;
  private readonly log: Logger;

  /**
   * `socket` already delivers its reads to `receive` when `readMode` is "onread"; otherwise the
   * connection listens for 'data' itself.
   */
  constructor(
    id: number,
    socket: Socket,
    readMode: "onread" | "data",
    ctx: ServerContext,
    log: Logger,
    onClose: (c: Connection) => void,
  ) {
    this.readMode = readMode;
    this.id = id;
    this.socket = socket;
    this.ctx = ctx;
    this.log = log;
    this.onClose = onClose;
    const path = ctx.settings.socketPath;
    this.address = socketAddress(socket.remoteFamily, socket.remoteAddress, socket.remotePort, path);
    this.listenAddress = socketAddress(socket.remoteFamily, socket.localAddress, socket.localPort, path);
    this.acceptedAt = ctx.cache.now();
    this.session = ctx.settings.protocol === "auto" ? null : this.startSession(ctx.settings.protocol === "binary");
    socket.setNoDelay(true);
    if (readMode === "data") socket.on("data", (chunk: Buffer) => this.receive(chunk, chunk.length));
    this.writer = replyWriter(
      socket,
      readMode === "onread",
      this.drained,
      (errno) => {
        this.log.debug({ conn: id, errno }, "write failed");
        this.destroy();
      },
      ctx.cache.engine,
    );
    const writeNow = this.writer.writeNow;
    if (writeNow !== null) this.out.lendTo(ctx.lentItems, this.counted(writeNow));
    socket.on("error", (err) => this.log.debug({ conn: id, err: err.message }, "connection error"));
    socket.on("close", () => this.finish());
  }

  private startSession(binary: boolean): ProtocolSession {
    if (binary) return new BinarySession(this.ctx, this.out);
    const text = new TextSession(this.ctx, this.out);
    text.meta = new MetaProtocol().handle;
    if (this.ctx.auth !== null) text.auth = new AsciiAuth(this.ctx.auth);
    return text;
  }

  get state(): string {
    if (this.closed) return "conn_closing";
    return this.session === null ? "conn_new_cmd" : this.session.connState();
  }

  get lastCommandAt(): number {
    return this.session === null ? this.acceptedAt : this.session.lastCommandAt;
  }

  /** Handles the bytes of one read, `buf[0..n)`, which are only valid during this call. */
  receive(buf: Buffer, n: number): void {
    this.ctx.counters.bytesRead += n;
    if (n === 0) return;
    this.ctx.heartbeat.heard();
    if (this.held) {
      // A read that was under way when reading paused: it waits with the held replies.
      this.appendTail(buf, 0, n);
      return;
    }
    // memcached's try_read_command_negotiate: the binary request magic, or text.
    const session = (this.session ??= this.startSession(buf[0] === REQUEST_MAGIC));
    const p = this.ctx.persistence;
    const logged = p === null ? 0 : p.position;
    if (this.tailLength === 0) {
      this.keepTail(buf, session.consume(buf, 0, n), n);
    } else {
      this.appendTail(buf, 0, n);
      const used = session.consume(this.tail, 0, this.tailLength);
      this.keepTail(this.tail, used, this.tailLength);
    }
    this.settle(session, logged);
  }

  /** After commands ran: their replies go out now, or once the log has what they changed. */
  private settle(session: ProtocolSession, logged: number): void {
    const p = this.ctx.persistence;
    if (p !== null && p.position !== logged && p.hold(p.position, this.released)) {
      // Replies wait until the log holds what these commands changed (--sync always, or a
      // disk far behind); reading waits with them, so the client cannot pile up more.
      this.held = true;
      this.socket.pause();
      this.out.keepCopies();
      return;
    }
    this.afterCommands(session);
  }

  private afterCommands(session: ProtocolSession): void {
    this.flush(session);
    if (session.closing) this.close();
    else if (session.producer !== null) this.produce(session);
    else if (this.stopping) this.leave();
  }

  /** Replies are waiting for the log (see `receive`). */
  private held = false;

  /** The log has what the held replies need, or failed to write it. */
  private readonly released = (err: Error | null): void => {
    this.held = false;
    const session = this.session;
    if (this.finished || session === null) return;
    if (err !== null) {
      // The commands' outcome is unknown to the client: a text client hears the error
      // instead of their replies (a binary one sees the connection close), and since the
      // replies it still expects could no longer be matched to its requests, it closes.
      this.out.truncate(0);
      if (session instanceof TextSession) this.out.ascii(`SERVER_ERROR persistence write failed: ${err.message.replace(/[\r\n]/g, " ")}\r\n`);
      this.out.flush(this.write);
      this.close();
      return;
    }
    if (!this.producing && !this.stopping) this.socket.resume();
    this.afterCommands(session);
    if (this.tailLength > 0 && !this.finished && !session.closing && session.producer === null && !this.stopping) {
      const logged = this.ctx.persistence?.position ?? 0;
      const used = session.consume(this.tail, 0, this.tailLength);
      this.keepTail(this.tail, used, this.tailLength);
      this.settle(session, logged);
    }
  };

  /** Set by `stop`: the connection ends once what it has started is answered. */
  private stopping = false;

  /**
   * Graceful shutdown: reads nothing more, lets replies that wait for the log or a running
   * metadump finish, writes them, then closes. Resolves when the socket is gone.
   */
  stop(): Promise<void> {
    if (this.finished) return Promise.resolve();
    this.stopping = true;
    this.socket.pause();
    const gone = new Promise<void>((r) => this.socket.once("close", () => r()));
    if (!this.held && !this.producing) this.leave();
    return gone;
  }

  /**
   * Shutdown's close: once the replies are written the socket is destroyed rather than half
   * closed, since a paused socket would never see the client's end of it.
   */
  private leave(): void {
    this.socket.destroySoon();
    this.finish();
  }

  private producing = false;
  /** A producer step waiting for the client to read what was written. */
  private afterDrain: (() => void) | null = null;

  /** Everything written has reached the kernel: read again, or go on producing. */
  private readonly drained = (): void => {
    const next = this.afterDrain;
    this.afterDrain = null;
    if (next !== null) next();
    else if (!this.held && !this.stopping && !this.producing && !this.finished) this.socket.resume();
  };

  /**
   * Runs the session's producer (a metadump) one batch per turn of the event loop, waiting
   * whenever the client has not read what was written, then goes on with the commands that
   * came after it. Reading pauses meanwhile, so other clients are served and input does not
   * pile up.
   */
  private produce(s: ProtocolSession): void {
    if (this.producing) return;
    this.producing = true;
    this.socket.pause();
    const step = (): void => {
      const producer = s.producer;
      if (this.finished || producer === null) return;
      if (this.writer.waiting) {
        this.afterDrain = step;
        return;
      }
      if (producer(this.out)) s.producer = null;
      this.flush(s);
      if (s.producer !== null) {
        setImmediate(step);
        return;
      }
      this.producing = false;
      if (this.stopping) {
        this.flush(s);
        this.leave();
        return;
      }
      this.socket.resume();
      const used = s.consume(this.tail, 0, this.tailLength);
      this.keepTail(this.tail, used, this.tailLength);
      this.flush(s);
      if (s.closing) this.close();
      else if (s.producer !== null) this.produce(s);
    };
    setImmediate(step);
  }

  /** Keeps `src[from..end)` as the tail (src may be the tail itself). */
  private keepTail(src: Buffer, from: number, end: number): void {
    const n = end - from;
    if (n === 0) {
      this.tailLength = 0;
      if (this.tail.length > TAIL_KEEP) this.tail = EMPTY;
      return;
    }
    if (src !== this.tail) {
      this.tailLength = 0;
      this.appendTail(src, from, end);
    } else if (from > 0) {
      this.tail.copyWithin(0, from, end);
      this.tailLength = n;
    }
  }

  /** Appends src[from..end) to the tail. */
  private appendTail(src: Buffer, from: number, end: number): void {
    const need = this.tailLength + end - from;
    if (need > this.tail.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.tail.length * 2, 256));
      this.tail.copy(grown, 0, 0, this.tailLength);
      this.tail = grown;
    }
    src.copy(this.tail, this.tailLength, from, end);
    this.tailLength = need;
  }

  private flush(session: ProtocolSession): void {
    if (this.finished) return;
    this.out.flush(this.write, session.writable());
  }

  /** Writes replies; a client that has not read what was written before is not read from meanwhile. */
  private readonly write = (chunk: Buffer): boolean => {
    this.ctx.counters.bytesWritten += chunk.length;
    const taken = this.writer.write(chunk);
    if (this.writer.waiting) this.socket.pause();
    return taken;
  };

  private counted(writeNow: WriteNow): WriteNow {
    return (parts) => {
      const wrote = writeNow(parts);
      // Parts not written now are copied and counted by `write`.
      if (wrote !== Wrote.nothing) for (const part of parts) this.ctx.counters.bytesWritten += part.length;
      return wrote;
    };
  }

  /** Ends the connection after pending replies are written. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.finish();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.finish();
  }

  private finished = false;
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    this.out.truncate(0);
    this.session?.release();
    this.onClose(this);
  }
}

const EMPTY = Buffer.alloc(0);
/** A tail buffer grown beyond this (a huge multi-get line) is dropped once empty. */
const TAIL_KEEP = 64 * 1024;
