import type { Socket } from "node:net";
import type { Logger } from "../log.ts";
import { OutBuffer } from "../protocol/out-buffer.ts";
import { TextSession } from "../protocol/text/session.ts";
import { type ConnectionInfo, type ServerContext, socketAddress } from "./context.ts";

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
  private readonly session: TextSession;
  /** Unconsumed bytes (an incomplete line) carried to the next read. */
  private pending: Buffer = EMPTY;
  private closed = false;
  private readonly onClose: (c: Connection) => void;
  private readonly log: Logger;

  constructor(id: number, socket: Socket, ctx: ServerContext, log: Logger, onClose: (c: Connection) => void) {
    this.id = id;
    this.socket = socket;
    this.ctx = ctx;
    this.log = log;
    this.onClose = onClose;
    const path = ctx.settings.socketPath;
    this.address = socketAddress(socket.remoteFamily, socket.remoteAddress, socket.remotePort, path);
    this.listenAddress = socketAddress(socket.remoteFamily, socket.localAddress, socket.localPort, path);
    this.session = new TextSession(ctx, this.out);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => socket.resume());
    socket.on("error", (err) => this.log.debug({ conn: id, err: err.message }, "connection error"));
    socket.on("close", () => this.finish());
  }

  get state(): string {
    return this.closed ? "conn_closing" : this.session.connState();
  }

  get lastCommandAt(): number {
    return this.session.lastCommandAt;
  }

  private onData(chunk: Buffer): void {
    this.ctx.counters.bytesRead += chunk.length;
    let buf = chunk;
    if (this.pending.length > 0) buf = Buffer.concat([this.pending, chunk]);
    const used = this.session.consume(buf, 0, buf.length);
    // Copy the tail: `buf` may be reused by the next read.
    this.pending = used === buf.length ? EMPTY : Buffer.from(buf.subarray(used));
    this.flush();
    if (this.session.closing) this.close();
  }

  private flush(): void {
    this.out.flush((chunk) => {
      this.ctx.counters.bytesWritten += chunk.length;
      const accepted = this.socket.write(chunk);
      if (!accepted) this.socket.pause();
      return this.socket.writableLength === 0;
    }, this.session.writable());
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
    this.session.release();
    this.onClose(this);
  }
}

const EMPTY = Buffer.alloc(0);
