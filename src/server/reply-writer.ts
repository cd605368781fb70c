import { writevSync } from "node:fs";
import type { Socket } from "node:net";
import type { WriteNow } from "../protocol/out-buffer.ts";
import { type StreamHandle, type StreamInternals, type WriteRequest, streamHandle, streamInternals } from "./stream-internals.ts";

/** Where a connection's replies go. */
export interface ReplyWriter {
  /** Writes `chunk`; true when the kernel took all of it now, so its buffer may be reused. */
  write(chunk: Buffer): boolean;
  /** Bytes are still waiting for the client to read them: `drained` is called once they are gone. */
  readonly waiting: boolean;
  /** Writes parts at once, after everything written before (see WriteNow); null where it cannot. */
  readonly writeNow: WriteNow | null;
}

/** Replies through the socket's Writable stream (TLS, and any socket whose handle we cannot use). */
class StreamWriter implements ReplyWriter {
  private readonly socket: Socket;
  readonly writeNow = null;

  constructor(socket: Socket, drained: () => void) {
    this.socket = socket;
    socket.on("drain", drained);
  }

  write(chunk: Buffer): boolean {
    this.socket.write(chunk);
    return this.socket.writableLength === 0;
  }

  get waiting(): boolean {
    return this.socket.writableNeedDrain;
  }
}

/**
 * Replies straight to the socket's handle, as net.Socket would write them but without the
 * stream around it: one reused request object while writes finish at once (the usual case),
 * a fresh one for each write the kernel could not take whole.
 */
class HandleWriter implements ReplyWriter {
  private readonly handle: StreamHandle;
  private readonly internals: StreamInternals;
  private readonly drained: () => void;
  private readonly failed: (errno: number) => void;
  private req: WriteRequest | null = null;
  private unfinished = 0;
  readonly writeNow: WriteNow | null;

  constructor(handle: StreamHandle, internals: StreamInternals, drained: () => void, failed: (errno: number) => void) {
    this.handle = handle;
    this.internals = internals;
    this.drained = drained;
    this.failed = failed;
    const fd = handle.fd;
    this.writeNow = typeof fd === "number" && fd >= 0 ? (parts) => this.writeParts(fd, parts) : null;
  }

  /**
   * One writev(2) on the socket's descriptor, which is non-blocking: it takes what fits and
   * never keeps the parts, so they may point into item memory. Nothing is written while an
   * earlier write waits, which keeps the order; on any error (EAGAIN, a reset) it takes
   * nothing and the caller writes the parts through `write`, which reports real failures.
   */
  private writeParts(fd: number, parts: readonly Uint8Array[]): number {
    if (this.unfinished > 0) return 0;
    try {
      return writevSync(fd, parts);
    } catch {
      return 0;
    }
  }

  get waiting(): boolean {
    return this.unfinished > 0;
  }

  write(chunk: Buffer): boolean {
    const req = (this.req ??= this.newRequest());
    const err = this.handle.writeBuffer(req, chunk);
    if (err !== 0) {
      this.failed(err);
      return true;
    }
    if (!this.internals.lastWriteWasAsync()) return true;
    // The native write now owns `req` and reads `chunk` until it completes.
    req.buffer = chunk;
    this.req = null;
    this.unfinished++;
    return false;
  }

  private newRequest(): WriteRequest {
    const req = this.internals.newWriteRequest();
    req.buffer = null;
    req.oncomplete = (status: number): void => {
      req.buffer = null;
      this.unfinished--;
      if (status < 0) this.failed(status);
      else if (this.unfinished === 0) this.drained();
    };
    return req;
  }
}

/**
 * The writer for a connection's socket: straight to its handle when `direct` and Node's
 * internals allow it, else through the stream. `drained`: bytes that waited are all written.
 * `failed`: a write failed (a negative errno); the caller drops the connection.
 */
export function replyWriter(socket: Socket, direct: boolean, drained: () => void, failed: (errno: number) => void): ReplyWriter {
  const internals = direct ? streamInternals() : null;
  const handle = internals === null ? null : streamHandle(socket);
  if (internals === null || handle === null) return new StreamWriter(socket, drained);
  return new HandleWriter(handle, internals, drained, failed);
}
